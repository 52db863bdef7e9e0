"""A bounded, thread-safe cache that forgets the least recently used entry first.

Every per-process cache of Mortar is one of these (runtime models, application rows,
permissions, schemas, documents, operations, plans), so none grows without bound and each keeps
what the traffic uses. Each is named, and `cache_sizes` reports them all (the few bounded maps
kept otherwise report through `report`): /metrics shows them, and `make bench` checks that
memory stays flat.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


_instances: weakref.WeakSet = weakref.WeakSet()  # every LruCache alive
_reported: dict[str, tuple[Callable[[], int], Callable[[], int]]] = {}  # name -> (size, bound)
_registering = threading.Lock()


def report(name: str, size: Callable[[], int], bound: Callable[[], int]) -> None:
    """Have `cache_sizes` report a bounded cache that is no LruCache."""
    _reported[name] = (size, bound)


def report_cached(name: str, function) -> None:
    """Have `cache_sizes` report a function wrapped in functools.lru_cache: its entries and
    its maxsize, as the cache itself tells them."""
    report(name, lambda: function.cache_info().currsize, lambda: function.cache_info().maxsize)


def cache_sizes() -> dict[str, dict[str, int]]:
    """Every cache of this process by name: how many there are (one per schema version for a
    schema's caches), their entries together, and how many they may hold together."""
    with _registering:
        caches = list(_instances)
    sizes: dict[str, dict[str, int]] = {}
    for cache in caches:
        found = sizes.setdefault(cache.name, {"caches": 0, "entries": 0, "bound": 0})
        found["caches"] += 1
        found["entries"] += len(cache)
        found["bound"] += cache.bound
    for name, (size, bound) in _reported.items():
        sizes[name] = {"caches": 1, "entries": size(), "bound": bound()}
    return sizes


class LruCache(Generic[V]):
    def __init__(self, size: int | Callable[[], int], name: str = "unnamed"):
        """`name`: what `cache_sizes` reports it under.
        `size`: how many entries to keep, or a function that says so (read at each put,
        so a setting changed by a test applies)."""
        self._size = size if callable(size) else (lambda: size)
        self.name = name
        with _registering:
            _instances.add(self)
        self._entries: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()
        self._make_lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._size():
                self._entries.popitem(last=False)

    def get_or_make(self, key: Hashable, make: Callable[[], V],
                    fresh: Callable[[V], bool] = lambda value: True) -> V:
        """The entry for `key` when there is one and `fresh` says it still holds, else the
        value of `make()`, stored. `make` runs under a lock of its own, so concurrent misses
        build once."""
        found = self.get(key)
        if found is not None and fresh(found):
            return found
        with self._make_lock:
            found = self.get(key)
            if found is None or not fresh(found):
                found = make()
                self.put(key, found)
            return found

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    @property
    def bound(self) -> int:
        return self._size()

    def __len__(self) -> int:
        return len(self._entries)
