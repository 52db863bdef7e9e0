"""`manage.py check` (and every server start) refuses rate-limit settings that would turn every
API request into an error."""

from django.conf import settings
from django.core.checks import Error, register
from django.utils.module_loading import import_string

from .backends import Backend
from .policy import BUCKETS


@register()
def rate_limit_settings(app_configs, **kwargs) -> list[Error]:
    errors = []
    path = settings.MORTAR_RATELIMIT_BACKEND
    try:
        found = import_string(path)
    except ImportError as error:
        found = None
        errors.append(Error(f"MORTAR_RATELIMIT_BACKEND: cannot import {path!r} ({error}).",
                            hint="Use apps.ratelimit.backends.redis.RedisBackend or "
                                 "apps.ratelimit.backends.local.LocalBackend.",
                            id="ratelimit.E001"))
    if found is not None and not (isinstance(found, type) and issubclass(found, Backend)):
        errors.append(Error(f"MORTAR_RATELIMIT_BACKEND: {path!r} is not a rate-limit backend.",
                            id="ratelimit.E002"))
    if found is not None and getattr(found, "name", "") == "redis" \
            and not settings.MORTAR_RATELIMIT_REDIS_URL:
        errors.append(Error("The Redis rate-limit backend needs a Redis.",
                            hint="Set REDIS_URL (or MORTAR_RATELIMIT_REDIS_URL).",
                            id="ratelimit.E003"))
    periods = settings.MORTAR_RATELIMIT_PERIODS
    if not all(isinstance(periods.get(name), int | float) and periods[name] > 0
               for name in BUCKETS):
        errors.append(Error("MORTAR_RATELIMIT_PERIODS needs a period in seconds above 0 for "
                            "minute, hour and day.", id="ratelimit.E004"))
    return errors
