"""Benchmarks for optiviz (run them as scripts; see each module's --help)."""
