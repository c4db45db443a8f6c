"""Benchmarks (`make bench`): each script prints its figures next to a raw-SQL baseline."""
