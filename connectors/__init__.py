"""relais connectors."""
