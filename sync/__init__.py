"""relais sync."""
