"""Readers of the upstream dataset formats, one module per format (see RAW_LAYOUT.md).

Readers take a path, check what they read, and return plain pandas frames. They never import
Dagster; a malformed file fails with the file, record and field named.
"""
