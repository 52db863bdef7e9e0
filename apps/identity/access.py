"""What a principal may do to each model's records: allowed or not, and on which records.

Rules come from the application's Permission rows, read once per application state: saving
or deleting a permission or an auth profile touches the application row, whose fingerprint
every request checks, so a change is seen by the next request without a query per request.

"$currentUser" in a condition is a record of the user model of the auth profile that issued
the token, not a bare number: a Staff member's id 1 is not Member #1 (`CurrentUser`).
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

from .models import CURRENT_USER, AuthProfile, Permission
from .principals import Principal


@dataclass(frozen=True)
class Rule:
    access: str
    roles: frozenset[str]
    condition: dict | None


@dataclass(frozen=True)
class CurrentUser:
    """What "$currentUser" stands for: the caller's record `id` of model `model_id` (None when
    the profile that issued his token is gone). It equals an id only where a condition compares
    ids of that model (`as_value`)."""

    model_id: int | None
    id: int

    def as_value(self, model_id: int, field: str) -> int | None:
        """His id in a comparison of `field` on records of `model_id`; None (nobody) anywhere
        else: a comparison with nobody matches no record."""
        return self.id if field == "id" and model_id == self.model_id else None


class Access:
    """The permissions of one principal in one application."""

    def __init__(self, principal: Principal, rules: dict[tuple[int, str], Rule],
                 user_models: dict[str, int] | None = None):
        """`user_models`: the user model id of each auth profile (by uuid) of the application."""
        self.principal = principal
        self.rules = rules
        self.current_user = None if principal.user_id is None else CurrentUser(
            (user_models or {}).get(principal.auth_profile), principal.user_id)
        self.has_auth_profile = bool(user_models)

    @property
    def unrestricted(self) -> bool:
        return self.principal.actions

    def allows(self, model_id: int, operation: str) -> bool:
        return self.unrestricted or self._granted(model_id, operation) is not None

    def condition(self, model_id: int, operation: str) -> dict | None:
        """The where records must match for `operation` (None: all records), "$currentUser"
        in it replaced by `current_user`. Call only when `allows` says yes."""
        if self.unrestricted:
            return None
        rule = self._granted(model_id, operation)
        return None if rule is None or rule.condition is None else _with_user(
            rule.condition, self.current_user)

    def granted_on_login(self, model_id: int, operation: str) -> str | None:
        """For an anonymous caller refused `operation`: whom among logged-in users its
        permission grants (`Permission.Access` AUTHENTICATED or ROLES) when the application
        has an auth profile to log in with; None when logging in would not help."""
        rule = self.rules.get((model_id, operation))
        if not self.has_auth_profile or rule is None:
            return None
        # "anyone" refused an anonymous caller: its condition names the current user
        return rule.access if rule.access == Permission.Access.ROLES else (
            Permission.Access.AUTHENTICATED)

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


def _with_user(value: Any, user: CurrentUser | None) -> Any:
    if isinstance(value, dict):
        return {k: _with_user(v, user) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_user(v, user) for v in value]
    return user if value == CURRENT_USER else value


_rules: LruCache[tuple[Any, dict, dict]] = LruCache(lambda: settings.MORTAR_RUNTIME_CACHE_SIZE,
                                                      "permissions")


def access_for(application: Application, principal: Principal) -> Access:
    if principal.actions:
        return Access(principal, {})

    def read_rules() -> tuple[Any, dict, dict]:
        rules = {(p.data_model_id, p.operation): Rule(p.access, frozenset(p.roles or ()),
                                                      p.condition)
                 for p in Permission.objects.filter(data_model__application=application)}
        user_models = {str(uuid): model_id for uuid, model_id in AuthProfile.objects.filter(
            application=application).values_list("uuid", "user_model_id")}
        return application.updated_at, rules, user_models

    _, rules, user_models = _rules.get_or_make(
        application.pk, read_rules, fresh=lambda found: found[0] == application.updated_at)
    return Access(principal, rules, user_models)


@receiver([post_save, post_delete], sender=Permission)
def _touch_application(sender, instance: Permission, **kwargs) -> None:
    """A permission changed: change the application row, so every process sees it."""
    Application.objects.filter(data_models=instance.data_model_id).update(
        updated_at=timezone.now())


@receiver([post_save, post_delete], sender=AuthProfile)
def _touch_application_of_profile(sender, instance: AuthProfile, **kwargs) -> None:
    """A profile's user model is what "$currentUser" means for its tokens: likewise."""
    Application.objects.filter(pk=instance.application_id).update(updated_at=timezone.now())
