"""Benchmarks (`make bench`): against the database in DATABASE_URL; not part of `make test`."""
