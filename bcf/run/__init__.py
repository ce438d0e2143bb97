"""The run wing: a return's run from source to published workbook.

- `pipeline`: ingest, build and produce a return, in order;
- `ledger`: the run ledger (what ran, with which key, what it made);
- `alerts`: tell someone when a return is blocked or a run fails.
"""
