"""Watch metrics in /metrics: streams open and events sent, counted in the process that serves
the streams (the ASGI one: scrape its /metrics, or share PROMETHEUS_MULTIPROC_DIR with the
WSGI processes of the same machine; open streams then add up over live processes)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

STREAMS = Gauge("mortar_watch_streams", "Watch streams (server-sent events) open.",
                multiprocess_mode="livesum")
SENT = Counter("mortar_watch_events_sent", "Change events sent to watchers.")
