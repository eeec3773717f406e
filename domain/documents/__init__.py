"""Documents: files in and out of the platform."""
