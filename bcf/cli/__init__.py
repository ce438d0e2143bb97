"""The `bcf` command line: `parser` (every command and its options), `commands` (what each runs), `preflight` (the
checks made before), `main` (parse, check, lock, run). `bcf` is `entry`."""

from bcf.cli.main import entry, main

__all__ = ["entry", "main"]
