"""The `rateLimits` section of application definition files: each bucket's capacity,
`{"minute": 200, "hour": 2600, "day": 1150}` (sandboxes get half of what is written)."""

from __future__ import annotations

from typing import Any

from models_registry.definitions import LoadReport, Section
from models_registry.models import Application

from .policy import BUCKETS


def export(application: Application) -> dict:
    return {name: getattr(application, f"rate_limit_{name}") for name in BUCKETS}


def check(value: Any, document: dict) -> list[str]:
    if not isinstance(value, dict):
        return ['rateLimits: expected {"minute": 200, "hour": 2600, "day": 1150}.']
    problems = [f"rateLimits.{key}: not a bucket; the buckets are minute, hour and day."
                for key in value if key not in BUCKETS]
    problems += [f"rateLimits.{key}: expected a whole number of requests, 0 or more."
                 for key, number in value.items()
                 if key in BUCKETS and (type(number) is not int or number < 0)]
    return problems


def apply(application: Application, value: dict, report: LoadReport) -> None:
    wanted = {f"rate_limit_{name}": value[name] for name in BUCKETS if name in value}
    if any(getattr(application, field) != number for field, number in wanted.items()):
        Application.objects.filter(pk=application.pk).update(**wanted)
        for field, number in wanted.items():
            setattr(application, field, number)
        report.changed.append("rate limits")


SECTION = Section("rateLimits", export, check, apply)
