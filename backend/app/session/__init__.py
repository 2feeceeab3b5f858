"""Session state shared by every instance: stores (in-memory, Redis), locks, encryption, cleanup."""
