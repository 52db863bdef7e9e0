"""Django's SQLite backend, converting each statement's placeholders once.

Django's SQLite cursor rewrites a statement's "%s" placeholders as SQLite's "?" on every
execute, with a regular expression over the whole text: about 20 µs of CPU for a data API read
(a thousand characters), a twentieth of a one-record request. The data API's statements come
from its plan cache, the same text again and again, so the conversion of each text is kept.
"""

from __future__ import annotations

from functools import lru_cache

from django.db.backends.sqlite3 import base

from models_registry.lru import report_cached

CONVERSIONS_KEPT = 512
LONGEST_KEPT = 8_192  # characters: a bulk write's long statement is converted each time


@lru_cache(maxsize=CONVERSIONS_KEPT)
def _qmark_style(query: str) -> str:
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


report_cached("SQLite placeholder conversions", _qmark_style)


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    def convert_query(self, query, *, param_names=None):
        if param_names is None and len(query) <= LONGEST_KEPT:
            return _qmark_style(query)
        return super().convert_query(query, param_names=param_names)


class DatabaseWrapper(base.DatabaseWrapper):
    def create_cursor(self, name=None):
        return self.connection.cursor(factory=SQLiteCursorWrapper)
