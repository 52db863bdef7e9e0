"""Statements a mutation runs depend on its shape, not on how many records it touches."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

CREATE_MANY = ("mutation($input: [WebUserInput!]!) { createManyWebUser(input: $input) "
               "{ id email company { name } roles { name } } }")
UPDATE_MANY = ("mutation($where: WebUserFilterInput!, $input: WebUserInput!) { "
               "updateManyWebUser(where: $where, input: $input) { id } }")
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK")


@pytest.fixture
def statements(api):
    """The SQL statements of one request (transaction control left out)."""
    def run(query: str, variables: dict) -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            api.data(query, variables)
        return [q["sql"] for q in captured.captured_queries
                if not q["sql"].startswith(TRANSACTION_CONTROL)]
    return run


def items(count: int, prefix: str) -> list[dict]:
    """Users with an email (unique: checked), a company and two roles."""
    return [{"email": f"{prefix}{i}@example.com", "company": {"id": 1 + i % 2},
             "roles": {"_add": [{"id": 1 + i % 4}, {"id": 1 + (i + 1) % 4}]}}
            for i in range(count)]


def test_create_many_runs_the_same_statements_for_10_and_100_items(api, statements):
    api.data(CREATE_MANY, {"input": items(1, "warm")})
    few = statements(CREATE_MANY, {"input": items(10, "few")})
    many = statements(CREATE_MANY, {"input": items(100, "many")})
    assert len(few) == len(many)
    # the users, their role links; the event counter, the events
    assert sum(q.startswith("INSERT") for q in many) == 1 + 1 + 1 + 1


def test_update_many_is_one_update_statement(api, statements):
    api.data(CREATE_MANY, {"input": items(300, "t")})
    sql = statements(UPDATE_MANY, {"where": {"email": {"starts_with": "t"}},
                                   "input": {"lastName": "Same"}})
    assert sum(q.startswith("UPDATE") for q in sql) == 1
    # the freshness check, the matching ids, the update, the records read back; the event
    # counter and the events
    assert len(sql) == 4 + 2, sql
