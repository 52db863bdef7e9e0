"""Benchmarks (`make bench`): run against the database in DATABASE_URL, never part of `make test`."""
