"""Liveness and readiness, and the wiring that settings derive from the environment."""

import socket

import pytest
from django.conf import settings

from mortar.celery import app as celery_app


def test_healthz_answers_without_touching_services(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_the_database_and_redis(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    expected = {"database": True, **({"redis": True} if settings.REDIS_URL else {})}
    assert response.json()["checks"] == expected


@pytest.mark.django_db
def test_readyz_says_unavailable_when_redis_is_down(client, settings):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable",
                               "checks": {"database": True, "redis": False}}


def test_celery_uses_redis_when_configured_and_runs_eagerly_otherwise():
    if settings.REDIS_URL:
        assert celery_app.conf.broker_url == settings.REDIS_URL
        assert not celery_app.conf.task_always_eager
    else:
        assert celery_app.conf.task_always_eager
