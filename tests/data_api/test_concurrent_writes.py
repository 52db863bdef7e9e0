"""Writes racing each other on real PostgreSQL connections (one per thread)."""

import threading

import psycopg
import pytest
from django.db import connection, connections

from models_registry.runtime import runtime_models

from ..conftest import in_parallel
from .conftest import Api

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite lets one writer in at a time: there is no race to lose",
)
UPSERT = ("mutation($input: TaskInput!, $uniqueBy: [TaskField!]) { "
          "upsertTask(input: $input, uniqueBy: $uniqueBy) { id } }")


@pytest.mark.parametrize("unique_by", ["externalId", "task"])  # with and without a unique index
def test_concurrent_upserts_of_one_key_make_one_record(api, demo, unique_by):
    def upsert(index: int) -> dict:
        return Api()(UPSERT, {"input": {"externalId": "race:1", "task": "race:1",
                                        "name": f"writer {index}"}, "uniqueBy": [unique_by]})

    bodies = in_parallel(8, upsert)
    assert all("errors" not in body for body in bodies), bodies
    assert len({body["data"]["upsertTask"]["id"] for body in bodies}) == 1
    Task = runtime_models(demo)["Task"]
    assert Task.objects.filter(**{Task._mortar.attname("externalId"): "race:1"}).count() == 1


def test_a_unique_value_taken_meanwhile_is_a_conflict(api, demo):
    """Another connection holds an uncommitted record with the value: the mutation's own check
    cannot see it, its INSERT waits on the unique index and fails when the other commits."""
    Task = runtime_models(demo)["Task"]
    column = Task._mortar.attname("externalId")
    settings = connection.settings_dict
    other = psycopg.connect(dbname=settings["NAME"], host=settings["HOST"],
                            port=settings["PORT"], user=settings["USER"],
                            password=settings["PASSWORD"])
    try:
        other.execute(f'INSERT INTO "{Task._meta.db_table}" ("{column}", created_at, updated_at,'
                      f' "{Task._mortar.attname("done")}") VALUES (%s, now(), now(), false)',
                      ["taken:1"])
        body = {}

        def create() -> None:
            try:
                body.update(Api()("mutation { createTask(input: { externalId: \"taken:1\" }) "
                                  "{ id } }"))
            finally:
                connections.close_all()

        writer = threading.Thread(target=create)
        writer.start()
        with psycopg.connect(dbname=settings["NAME"], host=settings["HOST"],
                             port=settings["PORT"], user=settings["USER"],
                             password=settings["PASSWORD"], autocommit=True) as observer:
            while not observer.execute(  # until the mutation waits on the unique index
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                    "AND wait_event_type = 'Lock'", [settings["NAME"]]).fetchone()[0]:
                if not writer.is_alive():
                    break
        other.commit()
        writer.join()
    finally:
        other.close()
    assert body["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert "SELECT" not in body["errors"][0]["message"]
    assert Task.objects.filter(**{column: "taken:1"}).count() == 1
