"""A property's kind change reads every value, converts it and replaces the column. A row that
another connection writes after that read and before the column goes must keep its value:
the change holds writers off the table from the start of its transaction, so the write waits
and lands, converted, in the new column."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, connections

from models_registry import changes

from ..conftest import record_values

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="SQLite's transactions take the write lock when they begin"),
]
WAIT_SECONDS = 30  # a bound for a broken run, never a pause of a passing one


def waiting_for_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:  # pg_locks is read anew by every statement
        cursor.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted", [pid])
        return cursor.fetchone()[0] > 0


@pytest.mark.parametrize("write, expected", [
    ("insert", [(Decimal("12.000"),), (Decimal("55.000"),)]),
    ("update", [(Decimal("99.000"),)]),
])
def test_a_row_written_during_a_kind_change_keeps_its_value(
        make_app, make_model, classes, monkeypatch, write, expected):
    app = make_app()
    item = make_model(app, "Item", amount="integer")
    Item = classes(app)["Item"]
    amount = Item._mortar.attname("amount")
    first = Item.objects.create(**{amount: 12})

    ready, go, done = threading.Event(), threading.Event(), threading.Event()
    writer: dict = {}
    passes: list[bool] = []  # whether each read of the values ran inside the change

    def write_meanwhile() -> None:
        """On a connection of its own: an integer written through the model as it was."""
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                writer["pid"] = cursor.fetchone()[0]
            ready.set()
            go.wait()
            if write == "insert":
                Item.objects.create(**{amount: 55})
            else:
                Item.objects.filter(pk=first.pk).update(**{amount: 99})
        except Exception as error:  # reported by the test, not lost in the thread
            writer["error"] = error
        finally:
            connections.close_all()
            done.set()

    original = changes._convert_rows

    def read_then_let_the_writer_in(cls, previous, prop):
        converted = original(cls, previous, prop)
        passes.append(connection.in_atomic_block)
        if connection.in_atomic_block:  # the change itself, not the check before it
            go.set()  # the values are read; the old column is still there
            deadline = time.monotonic() + WAIT_SECONDS
            while not done.wait(0.01) and not waiting_for_a_lock(writer["pid"]):
                assert time.monotonic() < deadline, "the writer neither wrote nor waited"
        return converted

    monkeypatch.setattr(changes, "_convert_rows", read_then_let_the_writer_in)
    thread = threading.Thread(target=write_meanwhile)
    thread.start()
    try:
        assert ready.wait(WAIT_SECONDS)
        changes.alter_property(item.properties.get(name="amount"), kind="decimal",
                               decimal_places=3)
    finally:
        go.set()
        thread.join(WAIT_SECONDS)
    assert passes == [False, True] and not thread.is_alive()
    assert "error" not in writer, writer.get("error")
    assert record_values(classes(app)["Item"], "amount") == expected
