"""Ops: the periodic task that prunes events past retention, and `manage.py events`."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.watch import tasks
from apps.watch.pruning import prune_events
from models_registry.models import Application, ChangeEvent

from .conftest import last_seq


def age(application: Application, seqs, hours: float) -> None:
    ChangeEvent.objects.filter(application=application, seq__in=list(seqs)).update(
        created_at=timezone.now() - timedelta(hours=hours))


def kept(application: Application) -> list[int]:
    return list(ChangeEvent.objects.filter(application=application).order_by("seq")
                .values_list("seq", flat=True))


@pytest.fixture
def feed_retention_only(settings):
    """The audit log keeps events longer by default (they are its record changes): off here,
    so the feed's retention alone decides."""
    settings.MORTAR_AUDIT_RETENTION_DAYS = 0


def test_the_audit_log_keeps_events_past_the_feeds_retention_for_its_own(demo, settings):
    settings.MORTAR_AUDIT_RETENTION_DAYS = 3
    age(demo, [1, 2], hours=48)  # past the feed's 24 h, within the audit log's 3 days
    age(demo, [3], hours=24 * 3 + 1)
    assert prune_events() == 1
    assert kept(demo)[:2] == [1, 2]


def test_pruning_deletes_only_events_past_each_applications_retention(demo,
                                                                      feed_retention_only):
    other = Application.objects.create(slug="other", name="Other", event_retention_hours=1)
    ChangeEvent.objects.bulk_create(
        ChangeEvent(application=other, seq=n, model="X", record_id=n, operation="create",
                    actor={"kind": "loader"}, created_at=timezone.now()) for n in (1, 2, 3))
    last = last_seq(demo)
    age(demo, range(1, 8), hours=demo.event_retention_hours + 0.1)  # past the default 24 h
    age(demo, range(8, 10), hours=demo.event_retention_hours - 0.1)  # not yet
    age(other, [1, 2], hours=1.5)  # past its own hour

    assert prune_events(batch=3) == 7 + 2  # in batches of 3: 3 + 3 + 1, and 2
    assert kept(demo) == list(range(8, last + 1))
    assert kept(other) == [3]
    assert prune_events() == 0


def test_the_task_prunes_and_beat_runs_it_hourly(demo, feed_retention_only):
    age(demo, [1, 2], hours=48)
    assert tasks.prune_change_events.apply().get() == 2  # as a worker runs it
    schedule = settings.CELERY_BEAT_SCHEDULE["prune-change-events"]
    assert schedule == {"task": "apps.watch.tasks.prune_change_events", "schedule": 3600.0}
    assert kept(demo)[0] == 3


def tail(*args: str) -> list[str]:
    out = StringIO()
    call_command("events", "tail", *args, stdout=out)
    return out.getvalue().splitlines()


def test_events_tail_prints_the_feed_as_a_server_key_sees_it(demo, server):
    lines = tail("demo", "--from", "0", "--count", "4")
    assert [line.split()[0] for line in lines] == ["1", "2", "3", "4"]
    assert lines[0].split()[2:] == ["create", "Project", "1", "name", "(loader)"]

    users = tail("demo", "--from", "0", "--models", "WebUser", "--count", "1")
    assert users[0].split()[2:5] == ["create", "WebUser", "1"]
    assert "password" in users[0]  # a server key reads every field name; the values are
    # never in an event

    start = last_seq(demo)
    server.data('mutation { createTask(input: { name: "tailed" }) { id } }')
    (line,) = tail("demo", "--from", str(start), "--count", "1")
    assert line.split()[2:4] == ["create", "Task"] and line.endswith("(server key)")


def test_events_tail_says_what_is_wrong(demo):
    with pytest.raises(CommandError, match="no application 'nope'"):
        tail("nope")
    with pytest.raises(CommandError, match="no model Nope; its models are Artist, Company"):
        tail("demo", "--models", "Task,Nope")


def test_events_prune_and_help(demo, capsys, feed_retention_only):
    age(demo, [1], hours=48)
    out = StringIO()
    call_command("events", "prune", stdout=out)
    assert out.getvalue().strip() == "Deleted 1 events past retention."
    with pytest.raises(SystemExit):
        call_command("events", "tail", "--help")
    assert "--from SEQ" in capsys.readouterr().out


def test_a_watcher_that_falls_behind_is_ended(settings):
    """Its queue full, it holds the end alone: it reconnects with its Last-Event-ID."""
    from apps.watch.feed import END, Subscription

    settings.MORTAR_WATCH_QUEUE_SIZE = 2
    subscription = Subscription(1, 0)
    assert subscription.offer("a") and subscription.offer("b")
    assert not subscription.offer("c")
    assert subscription.queue.get_nowait() is END and subscription.queue.empty()
