"""Package data of an installed bcf: config/ and expectations/ are copied here when the wheel is built (setup.py),
and read with importlib.resources (core.settings). In a checkout this package is empty and the project's own
config/ and expectations/ folders are used."""
