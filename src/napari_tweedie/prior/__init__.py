"""Bundled prior."""
