"""Sign-off, delivery to the national team, the submission register and the deadlines (issue 22).

- `returninfo`: which return a workbook is (from its audit pack), its figure cells and their hash, its sign-off cells;
- `register`: the register in the warehouse (and `submission.json` in the audit pack);
- `signoff`: `bcf signoff`, bound to the figures hash, refused for a blocked or unreproducible return;
- `deliver`: `bcf submit`: the signed-off copy by SMTP or to an outbox folder / S3 prefix;
- `calendar`: due dates per fund year, each return's state, and the due-soon / late alerts;
- `commands`: the command-line parsers and commands (bcf/cli/parser.py adds them).
"""
