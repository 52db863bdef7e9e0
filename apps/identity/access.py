"""What a principal may do to each model's records: allowed or not, and on which records.

Rules come from the application's Permission rows, read once per application state: saving
or deleting a permission touches the application row, whose fingerprint every request checks,
so a change is seen by the next request without a query per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from models_registry.lru import LruCache
from models_registry.models import Application

from .models import Permission
from .principals import Principal

CURRENT_USER = "$currentUser"


@dataclass(frozen=True)
class Rule:
    access: str
    roles: frozenset[str]
    condition: dict | None


class Access:
    """The permissions of one principal in one application."""

    def __init__(self, principal: Principal, rules: dict[tuple[int, str], Rule]):
        self.principal = principal
        self.rules = rules

    @property
    def unrestricted(self) -> bool:
        return self.principal.actions

    def allows(self, model_id: int, operation: str) -> bool:
        return self.unrestricted or self._granted(model_id, operation) is not None

    def condition(self, model_id: int, operation: str) -> dict | None:
        """The where records must match for `operation` (None: all records). Call only when
        `allows` says yes."""
        if self.unrestricted:
            return None
        rule = self._granted(model_id, operation)
        return None if rule is None or rule.condition is None else _with_user(
            rule.condition, self.principal.user_id)

    def _granted(self, model_id: int, operation: str) -> Rule | None:
        rule = self.rules.get((model_id, operation))
        if rule is None:
            return None
        principal = self.principal
        if rule.access == Permission.Access.AUTHENTICATED and principal.kind != "user":
            return None
        if rule.access == Permission.Access.ROLES and not (rule.roles & set(principal.roles)):
            return None
        if rule.condition is not None and principal.user_id is None and _mentions_user(
                rule.condition):
            return None  # "records of the current user" of nobody: none
        return rule


def _mentions_user(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_mentions_user(v) for v in value.values())
    if isinstance(value, list):
        return any(_mentions_user(v) for v in value)
    return value == CURRENT_USER


def _with_user(value: Any, user_id: int | None) -> Any:
    if isinstance(value, dict):
        return {k: _with_user(v, user_id) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_user(v, user_id) for v in value]
    return user_id if value == CURRENT_USER else value


_rules: LruCache[tuple[Any, dict]] = LruCache(lambda: settings.MORTAR_RUNTIME_CACHE_SIZE)


def access_for(application: Application, principal: Principal) -> Access:
    if principal.actions:
        return Access(principal, {})

    def read_rules() -> tuple[Any, dict]:
        rules = {(p.data_model_id, p.operation): Rule(p.access, frozenset(p.roles or ()),
                                                      p.condition)
                 for p in Permission.objects.filter(data_model__application=application)}
        return application.updated_at, rules

    cached = _rules.get_or_make(application.pk, read_rules,
                                fresh=lambda found: found[0] == application.updated_at)
    return Access(principal, cached[1])


@receiver([post_save, post_delete], sender=Permission)
def _touch_application(sender, instance: Permission, **kwargs) -> None:
    """A permission changed: change the application row, so every process sees it."""
    Application.objects.filter(data_models=instance.data_model_id).update(
        updated_at=timezone.now())
