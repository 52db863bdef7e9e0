"""mortar.sqlite: Django's SQLite backend, each statement's placeholders converted once."""

from __future__ import annotations

import pytest
from django.db import connection

from models_registry.lru import cache_sizes
from mortar.sqlite.base import CONVERSIONS_KEPT, LONGEST_KEPT, _qmark_style

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's backend")]


def test_a_statement_run_again_binds_its_new_parameters_through_its_kept_conversion():
    sql = "SELECT %s, '100%%', %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [1, "a"])
        assert cursor.fetchone() == (1, "100%", "a")
        kept = _qmark_style.cache_info().hits
        for params in ([2, "b"], [3, "c"]):
            cursor.execute(sql, params)
            assert cursor.fetchone() == (params[0], "100%", params[1])
    assert _qmark_style.cache_info().hits >= kept + 2  # (other threads may run statements too)


def test_a_statement_too_long_to_keep_is_converted_each_time():
    padding = " " * LONGEST_KEPT
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s", [6])  # the connection open before counting
        before = _qmark_style.cache_info()
        cursor.execute(f"SELECT %s{padding}", [7])
        assert cursor.fetchone() == (7,)
    after = _qmark_style.cache_info()
    assert (after.hits, after.misses) == (before.hits, before.misses)


def test_the_kept_conversions_are_reported_with_their_bound():
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s + 1", [41])
        assert cursor.fetchone() == (42,)
    reported = cache_sizes()["SQLite placeholder conversions"]
    assert 1 <= reported["entries"] <= CONVERSIONS_KEPT == reported["bound"]
