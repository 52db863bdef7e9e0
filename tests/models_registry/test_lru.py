"""The bounded cache behind every per-process cache."""

import functools
import gc
import threading

from models_registry.lru import LruCache, cache_sizes, report, report_cached


def test_the_least_recently_used_entry_goes_first():
    cache = LruCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # now b is the least recently used
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    assert len(cache) == 2


def test_the_size_may_be_a_setting_read_at_each_put():
    size = [3]
    cache = LruCache(lambda: size[0])
    for key in "abc":
        cache.put(key, key)
    size[0] = 1
    cache.put("d", "d")
    assert len(cache) == 1 and cache.get("d") == "d"


def test_a_stale_entry_is_made_again_and_concurrent_misses_make_it_once():
    cache = LruCache(4)
    made = []
    release = threading.Event()

    def make():
        release.wait()
        made.append(1)
        return len(made)

    threads = [threading.Thread(target=cache.get_or_make, args=("k", make)) for _ in range(8)]
    for thread in threads:
        thread.start()
    release.set()
    for thread in threads:
        thread.join()
    assert made == [1] and cache.get("k") == 1
    assert cache.get_or_make("k", make, fresh=lambda value: value > 1) == 2


def test_every_cache_reports_its_entries_and_bound_by_name():
    first, second = LruCache(3, "test cache"), LruCache(lambda: 5, "test cache")
    first.put("a", 1)
    second.put("b", 2)
    second.put("c", 3)
    report("test map", lambda: 7, lambda: 10)
    sizes = cache_sizes()
    assert sizes["test cache"] == {"caches": 2, "entries": 3, "bound": 8}
    assert sizes["test map"] == {"caches": 1, "entries": 7, "bound": 10}
    del first, second  # a cache that is gone (a schema version replaced) is not reported
    gc.collect()
    assert "test cache" not in cache_sizes()


def test_a_cached_function_reports_its_entries_and_its_maxsize():
    @functools.lru_cache(maxsize=4)
    def doubled(number: int) -> int:
        return 2 * number

    report_cached("test function", doubled)
    for number in (1, 2, 2, 3):
        doubled(number)
    assert cache_sizes()["test function"] == {"caches": 1, "entries": 3, "bound": 4}
