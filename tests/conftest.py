"""Shared fixtures: applications and models built through the real schema-change functions."""

import os
import threading

import pytest
from django.db import connections
from django.test import override_settings

from models_registry import changes
from models_registry.models import Application
from models_registry.runtime import forget_runtime_models, runtime_models


@pytest.fixture
def make_app(transactional_db):
    """Create applications; their runtime tables are dropped afterwards (flushes keep them)."""
    created: list[Application] = []

    def make(slug: str = "shop", name: str | None = None, **fields) -> Application:
        app = Application.objects.create(slug=slug, name=name or slug.title(), **fields)
        created.append(app)
        return app

    yield make
    for app in created:
        if Application.objects.filter(pk=app.pk).exists():
            changes.delete_application(app)
    forget_runtime_models()


@pytest.fixture
def loaded_apps(transactional_db):
    """Drop the tables of every application a test made (by loadapp, a definition file or
    otherwise): flushes keep runtime tables."""
    yield
    for app in Application.objects.all():
        changes.delete_application(app)
    forget_runtime_models()


@pytest.fixture
def make_model():
    """make_model(app, "Task", name="text", endDate="date") — a model and its properties."""

    def make(app: Application, model_name: str, /, **kinds: str):
        data_model = changes.create_model(app, model_name)
        for prop_name, kind in kinds.items():
            changes.add_property(data_model, prop_name, kind)
        return data_model

    return make


@pytest.fixture
def classes():
    """classes(app) — the application's runtime classes at its current schema version."""

    def current(app: Application):
        app.refresh_from_db()
        return runtime_models(app)

    return current


def record_values(cls, *field_names: str) -> list[tuple]:
    """Rows of a runtime class as tuples of the given user field names, ordered by id."""
    spec = cls._mortar
    return list(cls.objects.order_by("id").values_list(*[spec.attname(n) for n in field_names]))


@pytest.fixture
def on_postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def pytest_report_header(config):
    return f"database: {os.environ.get('DATABASE_URL', 'sqlite (default)')}"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Real hashing is slow on purpose; tests only need hashes to be hashes."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True, scope="session")
def plain_http():
    """Tests speak http: production's redirect to https would answer every request. For the
    session, so that the live server's middleware, built once, sees it too
    (tests/security/test_deploy.py holds the production settings)."""
    with override_settings(SECURE_SSL_REDIRECT=False):
        yield


def everyone_may(data_model, operations=("read", "create", "update", "delete")) -> None:
    """Grant anyone (no token) these operations on a model: new models are closed."""
    from apps.identity.models import Permission

    for operation in operations:
        Permission.objects.create(data_model=data_model, operation=operation, access="public")



def _empty_rate_limit_state(prefix: str) -> None:
    import redis

    from apps.ratelimit.backends import forget_backends
    from apps.ratelimit.middleware import forget_confirmations

    forget_backends()  # local buckets go with their backend instance
    forget_confirmations()
    if os.environ.get("REDIS_URL"):  # the run's server (a test may point settings elsewhere)
        client = redis.Redis.from_url(os.environ["REDIS_URL"])
        keys = list(client.scan_iter(f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture(autouse=True)
def full_buckets(settings):
    """Every test starts with full rate-limit buckets of its own: application ids come back
    after a rollback (SQLite), and the suite makes more requests than a day's bucket holds.
    Keys under a prefix of the tests' own, so that a real Redis given to the tests keeps its
    buckets."""
    prefix = f"mortar-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}:rl"
    settings.MORTAR_RATELIMIT_KEY_PREFIX = prefix
    _empty_rate_limit_state(prefix)
    yield
    _empty_rate_limit_state(prefix)


def in_parallel(count: int, work) -> list:
    """work(i) in `count` threads released together (each its own database connection); their
    results in order."""
    start = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            start.wait()
            results[index] = work(index)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
