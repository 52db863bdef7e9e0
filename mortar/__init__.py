"""Mortar: the Django project that wires the registry and the apps together."""

from .celery import app as celery_app

__all__ = ["celery_app"]
