"""Watching an application's changes live: GET /api/<slug>/watch (server-sent events), the
per-process feed that wakes its watchers, `manage.py events tail`, and pruning of old events."""
