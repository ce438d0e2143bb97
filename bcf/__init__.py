"""Better Care Fund and Discharge Fund returns pipeline."""

__version__ = "0.1.0"
