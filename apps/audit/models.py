"""The audit log's own entries: what is not a record change (those are the change events of
models_registry.events, read beside these, never written twice): logins, refresh-token reuse
and revocation, refused permissions, configuration changed in the admin (beside Django's own
history of them, with the application, address and user agent it lacks) and definition files
loaded. Written once, never changed: the product offers no way to
edit or delete one; only pruning past retention (MORTAR_AUDIT_RETENTION_DAYS) removes them."""

from __future__ import annotations

from django.db import models


class AuditEntry(models.Model):
    class Action(models.TextChoices):
        LOGIN = "login", "login"
        LOGIN_FAILED = "login.failed", "login failed"
        REFRESH_REUSED = "refresh.reused", "refresh token reused (its login revoked)"
        REFRESH_REVOKED = "refresh.revoked", "refresh token revoked"
        PERMISSION_REFUSED = "permission.refused", "permission refused"
        SCHEMA_ADD = "schema.add", "added in the admin"
        SCHEMA_CHANGE = "schema.change", "changed in the admin"
        SCHEMA_DELETE = "schema.delete", "deleted in the admin"
        DEFINITION_LOAD = "definition.load", "definition file loaded"
        RECORD_RESTORE = "record.restore", "record version restored"

    at = models.DateTimeField(db_index=True)
    # the slug, not a key: an entry outlives its application
    application = models.CharField(max_length=63, db_index=True)
    action = models.CharField(max_length=32, choices=Action.choices, db_index=True)
    model = models.CharField(max_length=63, blank=True)
    record_id = models.BigIntegerField(null=True, blank=True)
    actor = models.JSONField(default=dict)  # {"kind": "user"|"key"|"anonymous"|..., ...}
    actor_label = models.CharField(max_length=200, db_index=True)  # what the filters match
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    details = models.JSONField(default=dict)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["application", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.application} {self.action} {self.actor_label}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("Audit entries are written once and never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit entries are removed only by pruning past retention.")
