"""A read sent again in the same shape plans nothing: its plan is kept (read/plan_cache.py)
with its number slots filled in anew. Every check still runs on every request: a permission
changed, a key revoked or a page too big take effect on the next request of a warm document,
and the statements per request stay as they were."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.data_api.read.planner import Planner
from apps.identity import server_keys
from apps.identity.models import Permission

from .conftest import Api, demo, demo_open_to_anyone  # noqa: F401  (fixtures)

ONE = "{ oneTask(where: { id: { eq: %d } }) { id name project { name } } }"
BY_VARIABLE = "query($id: Int!) { oneTask(where: { id: { eq: $id } }) { id name } }"


@pytest.fixture
def api(demo_open_to_anyone):  # noqa: F811
    return Api()


@pytest.fixture
def plans(monkeypatch) -> list[str]:
    """The fields planned, as they are planned."""
    planned: list[str] = []
    plan = Planner.plan

    def counted(self, action, model, field_def, nodes):
        planned.append(nodes[0].name.value)
        return plan(self, action, model, field_def, nodes)

    monkeypatch.setattr(Planner, "plan", counted)
    return planned


def task_ids(api: Api) -> list[int]:
    body = api("{ allTask(sort: { field: id, order: ASC }) { results { id name } } }")
    return [task["id"] for task in body["data"]["allTask"]["results"]]


def test_a_warm_document_plans_nothing_and_answers_each_request_its_own_record(api, plans):
    ids = task_ids(api)
    assert len(ids) >= 4
    # the first text is parsed as it is; the second, of the same shape, makes the template
    # whose literals are variables: planned once, and again with other values as a check
    for task_id in ids[:2]:
        assert api(ONE % task_id)["data"]["oneTask"]["id"] == task_id
    made = len(plans)
    for task_id in ids[2:]:
        with CaptureQueriesContext(connection) as queries:
            found = api(ONE % task_id)["data"]["oneTask"]
        assert found["id"] == task_id and found["name"]
        assert len(queries) == 1  # one statement, as without the cache
    assert len(plans) == made
    assert api(ONE % 999_999)["data"]["oneTask"] is None
    for task_id in reversed(ids):  # the variable's value is a slot too
        assert api(BY_VARIABLE, {"id": task_id})["data"]["oneTask"]["id"] == task_id
    assert len(plans) == made + 2


def test_values_outside_where_are_checked_on_every_request(api, plans):
    query = "query($n: Int!) { allTask(limit: $n) { results { id } } }"
    assert len(api(query, {"n": 2})["data"]["allTask"]["results"]) == 2
    assert len(api(query, {"n": 2})["data"]["allTask"]["results"]) == 2
    made = len(plans)
    assert len(api(query, {"n": 3})["data"]["allTask"]["results"]) == 3  # planned: a new key
    refused = api.post(query, {"n": 100_000}).json()
    assert refused["data"]["allTask"] is None
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert len(plans) == made + 2


def test_a_null_in_a_slot_is_planned_as_null(api):
    first = task_ids(api)[0]
    query = "query($id: Int) { allTask(where: { id: { eq: $id } }) { totalCount } }"
    counts = [api(query, {"id": value})["data"]["allTask"]["totalCount"]
              for value in (first, None, first, None, first)]
    assert counts == [1, 0, 1, 0, 1]


def test_a_permission_changed_applies_to_the_next_request_of_a_warm_document(api, demo):  # noqa: F811
    ids = task_ids(api)
    for task_id in ids[:3]:
        assert api(ONE % task_id)["data"]["oneTask"]["id"] == task_id
    read = Permission.objects.get(data_model__application=demo, data_model__name="Task",
                                  operation="read")
    read.condition = {"id": {"eq": ids[0]}}  # anyone, but this one task only
    read.save()
    assert api(ONE % ids[0])["data"]["oneTask"]["id"] == ids[0]
    assert api(ONE % ids[1])["data"]["oneTask"] is None
    read.access, read.condition = Permission.Access.ROLES, None
    read.roles = ["admin"]
    read.save()
    body = api.post(ONE % ids[0]).json()
    assert body["data"]["oneTask"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_a_revoked_key_is_refused_on_the_next_request_of_a_warm_document(api, demo):  # noqa: F811
    ids = task_ids(api)
    row, key = server_keys.create(demo, "warm")
    for task_id in ids[:3]:
        response = api.client.post(api.url, {"query": ONE % task_id},
                                    content_type="application/json",
                                    HTTP_AUTHORIZATION=f"Bearer {key}")
        assert response.json()["data"]["oneTask"]["id"] == task_id
    row.revoked_at = timezone.now() - timedelta(seconds=1)
    row.save()
    response = api.client.post(api.url, {"query": ONE % ids[0]},
                               content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
