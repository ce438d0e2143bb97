"""The bottom layer: configuration, settings and date arithmetic. It imports nothing of the project."""
