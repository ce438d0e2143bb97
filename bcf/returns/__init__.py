"""The returns wing: the figures, the workbooks that carry them, and their audit pack.

- `fortnightly`, `quarterly`: the two figure registries (and their periods);
- `df_workbook`, `q_workbook`: their built-in layouts (the Cover and sign-off rows in `q_workbook`);
- `cellmap`: a template's cell map, proposed or read;
- `build`: build a return (compute its figures, choose its layout); `produce`: write it, or block it;
- `pack`: the audit pack beside each workbook, and publishing both;
- `revisions`: what changed since the last return for the same period;
- `returninfo`: which return a workbook is, its figure cells and their hash, its sign-off cells;
- `briefing`: the board briefing.
"""
