"""Every writable kind through createMany and update, read back as sent (decimals exact,
dates ISO 8601, time zones kept), with auto numbers assigned in order."""

import json

import pytest
from django.test import Client

from models_registry import changes

from ..conftest import everyone_may

ALL = ("id text richText integer decimal price boolean date datetime time email url phone "
       "enum json number")


@pytest.fixture
def api(make_app, make_model):
    app = make_app("kinds")
    thing = make_model(app, "Thing", text="text", richText="rich_text", integer="integer",
                       boolean="boolean", date="date", datetime="datetime", time="time",
                       email="email", url="url", phone="phone", json="json",
                       number="auto_number", secret="password")
    changes.add_property(thing, "decimal", "decimal", decimal_places=4)
    changes.add_property(thing, "price", "price")
    changes.add_property(thing, "enum", "enum", enum_values=["a", "b"])
    everyone_may(thing)
    client = Client(HTTP_HOST="localhost")

    def call(query: str, variables: dict) -> dict:
        response = client.post("/api/kinds/graphql", json.dumps(
            {"query": query, "variables": variables}), content_type="application/json")
        body = response.json()
        assert "errors" not in body, body
        return body["data"]

    return call


SENT = [
    {"text": "Zoë", "richText": "<p>hi</p>", "integer": -7, "decimal": "12345678.1234",
     "price": "0.10", "boolean": True, "date": "2024-02-29",
     "datetime": "2024-01-31T09:30:00+01:00", "time": "23:59:59", "email": "a@example.com",
     "url": "https://example.com/x", "phone": "+31 20 123 4567", "enum": "b",
     "json": {"nested": [1, "two", None, True]}},
    {"text": None, "integer": 0, "decimal": "-0.0001", "price": "99999.99", "boolean": False,
     "json": [], "enum": None},
]


def test_every_kind_round_trips(api):
    created = api(f"mutation($input: [ThingInput!]!) {{ createManyThing(input: $input) "
                  f"{{ {ALL} }} }}", {"input": [{**s, "secret": "pw"} for s in SENT]})
    first, second = created["createManyThing"]
    assert {k: first[k] for k in SENT[0]} == {
        **SENT[0], "datetime": "2024-01-31T08:30:00+00:00"}  # the same instant, in UTC
    assert {k: second[k] for k in SENT[1]} == SENT[1]
    assert (first["number"], second["number"]) == (1, 2)
    updated = api(f"mutation($input: ThingInput!) {{ updateThing(id: {first['id']}, "
                  f"input: $input) {{ {ALL} }} }}", {"input": {"decimal": "0.5", "json": None}})
    assert updated["updateThing"] == {**first, "decimal": "0.5000", "json": None}
