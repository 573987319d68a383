"""relais sandbox."""
