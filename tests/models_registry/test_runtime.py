"""Runtime classes: built per schema version, kept out of Django's registry, freed when stale,
and seen by other processes on their next request."""

import gc
import json
import os
import subprocess
import sys
import weakref
from pathlib import Path

import django.apps
from django.db import connection

from models_registry import changes
from models_registry.application_rows import current_application
from models_registry.runtime import runtime_models

WATCHER = Path(__file__).with_name("schema_watcher.py")


def test_classes_stay_out_of_djangos_app_registry(make_app, make_model, classes):
    app = make_app()
    make_model(app, "Task", name="text")
    Task = classes(app)["Task"]
    assert Task._meta.apps is not django.apps.apps
    assert all(model._meta.app_label != Task._meta.app_label
               for model in django.apps.apps.get_models(include_auto_created=True))


def test_one_build_per_schema_version(make_app, make_model, classes):
    app = make_app()
    task = make_model(app, "Task", name="text")
    first = classes(app)
    assert classes(app) is first

    changes.add_property(task, "endDate", "date")

    second = classes(app)
    assert second is not first
    assert second.version == first.version + 1
    assert "endDate" in second["Task"]._mortar.properties


def test_stale_classes_are_freed(make_app, make_model, classes):
    app = make_app()
    task = make_model(app, "Task", name="text")
    project = make_model(app, "Project", name="text")
    changes.add_relation(task, "project", project, "tasks")
    changes.add_relation(task, "tags", project, "taggedTasks", kind="has_and_belongs_to_many")
    stale = weakref.ref(classes(app)["Task"])
    stale_registry = weakref.ref(classes(app).apps)

    changes.add_property(task, "endDate", "date")
    classes(app)  # replaces the cached build
    gc.collect()

    assert stale() is None
    assert stale_registry() is None


def test_freshness_check_is_one_query(make_app, make_model, django_assert_num_queries):
    app = make_app()
    make_model(app, "Task", name="text")
    runtime_models(current_application(app.slug))  # warm
    with django_assert_num_queries(1):
        built = runtime_models(current_application(app.slug))
    assert "Task" in built.by_name


def _watcher_env() -> dict:
    """Environment for a second process using this test's database."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{settings['NAME']}"
    else:
        url = (f"postgres://{settings['USER']}:{settings['PASSWORD'] or ''}@{settings['HOST']}:"
               f"{settings['PORT']}/{settings['NAME']}")
    return {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(Path.cwd())}


def test_a_schema_change_in_one_process_is_seen_by_another(make_app, make_model):
    app = make_app("shared")
    task = make_model(app, "Task", name="text")
    watcher = subprocess.Popen(
        [sys.executable, str(WATCHER)], env=_watcher_env(), text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )

    def ask(question: str) -> dict:
        watcher.stdin.write(question + "\n")
        watcher.stdin.flush()
        return json.loads(watcher.stdout.readline())

    try:
        assert ask("shared Task") == {"fields": ["name"], "pid": watcher.pid}
        changes.add_property(task, "endDate", "date")
        changes.rename_model(task, "Job")
        assert ask("shared Job") == {"fields": ["endDate", "name"], "pid": watcher.pid}
    finally:
        watcher.stdin.close()
        watcher.wait(timeout=30)
    assert watcher.pid != os.getpid()


def test_prepared_statements_survive_a_kind_change_made_by_another_connection(
        make_app, make_model, classes):
    """PostgreSQL refuses a prepared statement whose result columns changed type; a request
    that meets a new schema version first drops its connection's prepared statements."""
    import threading

    from django.db import connections

    app = make_app()
    task = make_model(app, "Task", code="text")
    code = task.properties.get(name="code")
    Task = classes(app)["Task"]
    Task.objects.create(**{code.attname: "42"})
    for _ in range(6):  # past psycopg's threshold: prepared on this connection
        assert list(Task.objects.values_list(code.attname, flat=True)) == ["42"]

    def change_elsewhere():
        try:
            changes.alter_property(code, kind="integer")
        finally:
            connections.close_all()

    worker = threading.Thread(target=change_elsewhere)
    worker.start()
    worker.join()

    Task = runtime_models(current_application(app.slug))["Task"]
    assert list(Task.objects.values_list(code.attname, flat=True)) == [42]


def test_repeated_schema_changes_keep_the_connection_usable(make_app, make_model):
    """Each schema change met by a connection drops its prepared statements again; psycopg
    must forget them every time, not only the first (it did not while the statement's text
    stayed the same: it inspects a statement's outcome only the first time it meets a text)."""
    app = make_app()
    task = make_model(app, "Task", name="text")
    extra = None
    for _ in range(60):
        extra = (changes.delete_property(extra) if extra else
                 changes.add_property(task, "extra", "integer"))
        runtime_models(current_application(app.slug))
    assert "extra" not in runtime_models(current_application(app.slug))["Task"]._mortar.properties
