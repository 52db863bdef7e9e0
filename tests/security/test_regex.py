"""Regular expressions from any caller (point 10 of the security review): on SQLite they ran in
Python's backtracking engine inside one database function call, which the statement timeout
could not stop, holding the GIL — `^(a+)+$` against 40 characters would take hours. SQLite now
runs RE2 (linear in the text), checked with RE2 too; PostgreSQL runs its own engine as before."""

import random

import pytest
from django.db import connection

from models_registry.runtime import runtime_models

from ..data_api.conftest import Api, api, demo  # noqa: F401  (the fixtures)

PROBE = '{ allTask(where: { name: { regex: %s } }) { totalCount results { name } } }'
EVIL = "a" * 40 + "!"


def add_tasks(demo, *names: str) -> None:  # noqa: F811
    Task = runtime_models(demo)["Task"]
    Task.objects.bulk_create([Task(**{Task._mortar.attname("name"): name}) for name in names])


def test_a_catastrophic_pattern_answers(api, demo):  # noqa: F811
    add_tasks(demo, EVIL)
    assert api(PROBE % '"^(a+)+$"') == {"data": {"allTask": {"totalCount": 0, "results": []}}}
    assert api(PROBE % '"^(a+)+!$"') == {"data": {"allTask": {"totalCount": 1,
                                                              "results": [{"name": EVIL}]}}}


def test_a_pattern_the_engine_cannot_run_is_bad_user_input(api, on_postgres):  # noqa: F811
    body = api(PROBE % r'"(Plan)\\1"')
    if on_postgres:  # PostgreSQL's engine has backreferences: as before
        assert body == {"data": {"allTask": {"totalCount": 0, "results": []}}}
        return
    assert body["data"] == {"allTask": None}
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT",
                                               "field": "where.name.regex"}
    assert body["errors"][0]["message"] == (
        r"where.name.regex: not a valid regular expression (invalid escape sequence: \1; "
        "regular expressions here are RE2's: no backreferences or lookaround).")


@pytest.mark.skipif(connection.vendor != "sqlite",
                    reason="PostgreSQL's statement_timeout stops its own regex engine")
def test_a_long_regex_statement_ends_in_timeout(api, demo):  # noqa: F811
    """Linear is not instant: this pattern costs RE2 some 300 states per character (70 ms a
    row here, 40 rows). SQLite's progress handler, which enforces the timeout, counts the
    database's own instructions — a few per row — so the function stops a statement past it."""
    texts = random.Random(20).choices("ab", k=100_000)
    add_tasks(demo, *("".join(texts[i:] + texts[:i]) for i in range(40)))
    demo.statement_timeout_ms = 50
    demo.save()
    body = api(PROBE % '"(a|b)*a(a|b){300}c"')
    assert body["data"] == {"allTask": None}
    assert body["errors"][0]["extensions"] == {"code": "TIMEOUT"}
