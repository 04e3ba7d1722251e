"""Dagster wiring, one module per layer: resources, io, partitions, raw, english, translated, train,
eval, checks. Assets here are thin: they call the pure functions and add metadata."""
