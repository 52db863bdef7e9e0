"""Where bucket levels live: Redis (shared by every process) or this process's memory.

The backend is named by a dotted path in MORTAR_RATELIMIT_BACKEND, like Django's CACHES; both
keep the rules of `apps.ratelimit.policy` and pass the same behaviour tests.
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from .base import Backend, BackendUnavailable

__all__ = ["Backend", "BackendUnavailable", "backend", "forget_backends"]

_instances: dict[str, Backend] = {}
_lock = threading.Lock()


def backend() -> Backend:
    """The configured backend; one instance per process (it holds the Redis connections)."""
    path = settings.MORTAR_RATELIMIT_BACKEND
    found = _instances.get(path)
    if found is None:
        with _lock:
            found = _instances.get(path)
            if found is None:
                found = _instances[path] = import_string(path)()
    return found


def forget_backends() -> None:
    """Drop the backend instances (and so the local backend's buckets); the next request
    makes them again from the settings."""
    with _lock:
        _instances.clear()


@receiver(setting_changed)
def _settings_changed(setting: str, **kwargs) -> None:
    if setting.startswith("MORTAR_RATELIMIT") or setting == "REDIS_URL":
        forget_backends()
