"""Customer files: disk quotas, the sweep of unsent and expired uploads, and safe parsing of documents."""
