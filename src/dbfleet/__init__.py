"""dbfleet: ship database changes like code."""

__version__ = "0.1.0"
