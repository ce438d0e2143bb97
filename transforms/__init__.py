"""Plain data functions: no Prefect, no warehouse connection. The flows call these."""
