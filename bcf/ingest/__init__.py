"""The ingest wing: what comes in from a source and is staged in the warehouse.

- `sources`: list and land a source's files (a folder or an S3 prefix);
- `stage_file`: read, validate and stage one landed file;
- `worker`: a second process that reads and parses the new extracts while this one stages;
- `source_run`: a whole source's run (list, land, stage each file, the source's checks);
- `withdraw`: take a file's rows out of the figures (and put them back);
- `keyprint`: the pseudonym key's fingerprint, and staging every file again with a new key.
"""
