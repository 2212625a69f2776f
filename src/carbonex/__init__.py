"""Carbonex: an open-source carbon-market system."""

__version__ = "0.1.0"
