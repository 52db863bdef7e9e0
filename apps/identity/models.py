"""Who may call an application's API: auth profiles (where its users are), the key that signs
its JWTs, refresh tokens (stored as hashes only) and server keys (likewise)."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from models_registry.models import Application, DataModel, Property, Relation
from models_registry.specs import relation_attname

ACCESS_LIFETIME = (60, 10_800)
REFRESH_LIFETIME = (60, 1_209_600)


class AuthProfile(models.Model):
    """How an application's end users log in: which model holds them, which of its
    properties are the username and the password, and how long tokens last."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="auth_profiles")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100, default="Default")
    user_model = models.ForeignKey(DataModel, on_delete=models.CASCADE, related_name="+")
    username_property = models.ForeignKey(Property, on_delete=models.CASCADE, related_name="+")
    password_property = models.ForeignKey(Property, on_delete=models.CASCADE, related_name="+")
    access_token_lifetime = models.PositiveIntegerField(
        default=7_200, validators=[MinValueValidator(ACCESS_LIFETIME[0]),
                                   MaxValueValidator(ACCESS_LIFETIME[1])],
        help_text="Seconds a JWT lasts: 60 to 10,800.")
    refresh_token_lifetime = models.PositiveIntegerField(
        default=1_209_600, validators=[MinValueValidator(REFRESH_LIFETIME[0]),
                                       MaxValueValidator(REFRESH_LIFETIME[1])],
        help_text="Seconds a refresh token lasts: 60 to 1,209,600 (14 days).")
    roles_relation = models.ForeignKey(
        Relation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The relation of the user model that gives a user his roles (e.g. roles).")
    role_name_property = models.ForeignKey(
        Property, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The property of the role model that names a role (e.g. name).")
    refresh_grace_seconds = models.PositiveIntegerField(
        default=10, validators=[MaxValueValidator(300)],
        help_text="Replaying the refresh token just used, within this many seconds, returns "
                  "the same new pair (several browser tabs); 0 = strict.")

    class Meta:
        ordering = ["application", "name"]

    def __str__(self) -> str:
        return f"{self.application.slug}: {self.name}"

    def clean(self):
        problems = {}
        if self.user_model_id and self.user_model.application_id != self.application_id:
            problems["user_model"] = "Pick a model of this application."
        for field, kinds in (("username_property", {"text", "email"}),
                             ("password_property", {"password"})):
            prop = getattr(self, field, None) if getattr(self, f"{field}_id") else None
            if prop is None:
                continue
            if self.user_model_id and prop.data_model_id != self.user_model_id:
                problems[field] = "Pick a property of the user model."
            elif prop.kind not in kinds:
                problems[field] = f"Pick a {' or '.join(sorted(kinds))} property."
        if self.roles_relation_id and self.user_model_id:
            relation = self.roles_relation
            if self.user_model_id not in (relation.source_id, relation.target_id):
                problems["roles_relation"] = "Pick a relation of the user model."
            elif self.role_name_property_id and self.role_name_property.data_model_id != (
                    relation.target_id if relation.source_id == self.user_model_id
                    else relation.source_id):
                problems["role_name_property"] = "Pick a property of the role model."
        if bool(self.roles_relation_id) != bool(self.role_name_property_id):
            problems["role_name_property"] = "Give both the roles relation and the role name."
        if problems:
            raise ValidationError(problems)

    def roles_lookup(self) -> str | None:
        """The ORM lookup from a user to his role names (m3__p7), or None without roles."""
        if not (self.roles_relation_id and self.role_name_property_id):
            return None
        relation = self.roles_relation
        side = "source" if relation.source_id == self.user_model_id else "target"
        return f"{relation_attname(relation, side)}__{self.role_name_property.attname}"


class SigningKey(models.Model):
    """The generation of an application's JWT key; the key itself is derived from the
    project's secret key, so no key is stored. Rotating bumps the generation: every JWT signed
    before no longer verifies."""

    application = models.OneToOneField(Application, on_delete=models.CASCADE,
                                       related_name="signing_key")
    generation = models.PositiveIntegerField(default=1)
    rotated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.application.slug} key #{self.generation}"


class RefreshToken(models.Model):
    """One refresh token, as a SHA-256 hash. Tokens of one login form a family: each redeemed
    token has one child; reusing a spent one revokes the family."""

    auth_profile = models.ForeignKey(AuthProfile, on_delete=models.CASCADE, related_name="+")
    user_id = models.BigIntegerField()
    family = models.UUIDField(db_index=True)
    parent = models.OneToOneField("self", null=True, on_delete=models.SET_NULL,
                                  related_name="child")
    token_hash = models.CharField(max_length=64, unique=True)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    spent_at = models.DateTimeField(null=True)
    revoked_at = models.DateTimeField(null=True)
    # The access token minted with it, so a grace replay can give the very same one back.
    jwt_id = models.UUIDField()
    jwt_issued_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"refresh token #{self.pk} of user {self.user_id}"


class ServerKey(models.Model):
    """A key for action scripts: `mk_<prefix>_<secret>`, stored as the prefix (shown) and a
    SHA-256 hash of the whole key."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="server_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, editable=False)

    class Meta:
        ordering = ["application", "name"]

    def __str__(self) -> str:
        return f"{self.name} (mk_{self.prefix}_…)"


CURRENT_USER = "$currentUser"


def misplaced_current_user(node: Any, field: str | None = None) -> bool:
    """Whether "$currentUser" stands anywhere but as the value of an `id` comparison
    (`{"id": {"eq": "$currentUser"}}`, `{"owner": {"id": {"in": ["$currentUser"]}}}`)."""
    if isinstance(node, list):  # _and / _or items
        return any(misplaced_current_user(item, field) for item in node)
    if not isinstance(node, dict):
        return False
    for key, value in node.items():
        compared = value if isinstance(value, list) else [value]
        if CURRENT_USER in compared:  # `key` is an operator on `field`
            if field != "id":
                return True
        elif misplaced_current_user(value, key):
            return True
    return False


class Permission(models.Model):
    """Who may do one operation on one model's records: anyone, any logged-in user, or users
    with one of the listed roles; optionally only on records matching `condition` (a `where`
    that may say "$currentUser"). No row: only server keys may."""

    class Operation(models.TextChoices):
        READ = "read"
        CREATE = "create"
        UPDATE = "update"
        DELETE = "delete"

    class Access(models.TextChoices):
        PUBLIC = "public", "anyone"
        AUTHENTICATED = "authenticated", "any logged-in user"
        ROLES = "roles", "users with one of the roles"

    data_model = models.ForeignKey(DataModel, on_delete=models.CASCADE,
                                   related_name="permissions")
    operation = models.CharField(max_length=10, choices=Operation.choices)
    access = models.CharField(max_length=20, choices=Access.choices)
    roles = models.JSONField(default=list, blank=True,
                             help_text='Role names, for "users with one of the roles".')
    condition = models.JSONField(
        null=True, blank=True,
        help_text='Only records matching this where, e.g. {"owner": {"id": {"eq": '
                  '"$currentUser"}}}.')

    class Meta:
        ordering = ["data_model", "operation"]
        constraints = [models.UniqueConstraint(fields=["data_model", "operation"],
                                               name="permission_one_per_operation")]

    def __str__(self) -> str:
        return f"{self.data_model.name}: {self.operation} by {self.get_access_display()}"

    def clean(self):
        if self.access == self.Access.ROLES and not self.roles:
            raise ValidationError({"roles": "List at least one role name."})
        if not isinstance(self.roles, list) or not all(isinstance(r, str) for r in self.roles):
            raise ValidationError({"roles": 'A list of role names: ["admin", "editor"].'})
        if self.condition is not None and not isinstance(self.condition, dict):
            raise ValidationError({"condition": "A where object, or nothing."})
        if misplaced_current_user(self.condition):
            raise ValidationError({"condition": (
                '"$currentUser" is the logged-in user\'s record: compare it with an id, e.g. '
                '{"id": {"eq": "$currentUser"}} or {"owner": {"id": {"eq": "$currentUser"}}}.')})
