"""WSGI entry point (gunicorn mortar.wsgi)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mortar.settings")
application = get_wsgi_application()

# What start-up made lives as long as the process: keep it out of the collector's full scans,
# which otherwise walk it on every full collection (tens of ms of pause).
gc.freeze()
# A large request (createMany of 1,000 items) makes a few hundred thousand short-lived
# containers; at the default threshold (700) the collector runs hundreds of times during it,
# scanning everything the request holds each time: a quarter of its time, measured. Young
# objects are collected after 50,000 allocations instead: a few MB at most.
gc.set_threshold(50_000, 20, 100)
