"""The caches of the process that answers /metrics: entries and bounds by cache, read at
scrape time (`models_registry.lru.cache_sizes`), so that memory can be watched staying flat."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily

from models_registry.lru import cache_sizes


class CacheCollector:
    def describe(self):
        return []

    def collect(self):
        entries = GaugeMetricFamily("mortar_cache_entries",
                                    "Entries held by this process's caches, by cache (a "
                                    "schema's caches added up over its versions).",
                                    labels=["cache"])
        bound = GaugeMetricFamily("mortar_cache_bound",
                                  "Entries this process's caches may hold, by cache.",
                                  labels=["cache"])
        for name, size in sorted(cache_sizes().items()):
            entries.add_metric([name], size["entries"])
            bound.add_metric([name], size["bound"])
        yield from (entries, bound)


def _register() -> None:
    from apps.ratelimit.metrics import _REGISTRY  # the registry /metrics exposes

    _REGISTRY.register(CacheCollector())


_register()
