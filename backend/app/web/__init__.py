"""The customer chat widget, built from frontend/ and served by the API process."""
