"""The audit wing: answers about a return already made, from its audit pack.

- `trace`: a figure's lineage back to the source rows;
- `why`: why a row is or is not counted in a figure;
- `reproduce`: rebuild a return from its manifest and compare;
- `rebuild`: the one rebuild of a warehouse from the landed copies a manifest names (used by `why` and `reproduce`).
"""
