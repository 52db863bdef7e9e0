"""A webhook (an application's URL called on matching change events) and its delivery log."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models

from models_registry.models import Application

from .signing import new_secret

OPERATIONS = ("create", "update", "delete")


class Webhook(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="webhooks")
    name = models.CharField(
        max_length=100,
        validators=[RegexValidator(r"^[A-Za-z][A-Za-z0-9_-]*$",
                                   "Use letters, digits, _ and -, starting with a letter.")],
        help_text="How the webhook is called in definition files.")
    url = models.URLField("URL", max_length=500, help_text="Called with POST (http or https).")
    model_names = models.JSONField(
        "models", default=list, blank=True,
        help_text="The models whose changes it fires on, e.g. [\"Task\"] (empty: all models).")
    operations = models.JSONField(
        default=list, blank=True, help_text="create, update, delete (empty: all three).")
    where = models.JSONField(
        null=True, blank=True,
        help_text='Only records matching this filter, in the data API\'s where syntax, e.g. '
                  '{"done": {"eq": true}} (needs models; not with delete: a deleted record '
                  "cannot be checked).")
    # Standard Webhooks: whsec_ + base64 of the key. HMAC needs the key itself, so it is
    # stored as it is (like a server's TLS key), and shown to builders in the admin.
    secret = models.CharField(max_length=100, default=new_secret,
                              help_text="Receivers verify the webhook-signature header with it.")
    enabled = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(
        default=0, help_text="Deliveries given up in a row (reset by a success).")
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.TextField(blank=True)
    # The last event seq looked at (delivered or not): the next dispatch reads after it.
    last_dispatched_seq = models.BigIntegerField(default=0)
    # Who delivers it now (a lease, so that two workers never deliver one webhook at once).
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["application", "name"]
        constraints = [models.UniqueConstraint(fields=["application", "name"],
                                               name="webhook_name_unique_per_app")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if self.enabled and self.disabled_at is not None:  # enabled again by the builder
            self.disabled_at, self.disabled_reason, self.consecutive_failures = None, "", 0
        if self.pk is None and not self.last_dispatched_seq:
            # a new webhook fires on what happens from now on, not on the past
            from models_registry.models import EventSequence

            self.last_dispatched_seq = EventSequence.objects.filter(
                application_id=self.application_id).values_list("last", flat=True).first() or 0
        super().save(*args, **kwargs)


class Delivery(models.Model):
    """One event to one webhook: its payload as first built (the event may be pruned before
    the last retry), each attempt's outcome, and when the next one is due."""

    class Status(models.TextChoices):
        PENDING = "pending"  # not tried yet
        DELIVERING = "delivering"  # an attempt under way (or cut short by a crash: tried again)
        FAILED = "failed"  # the last attempt failed; retried at next_attempt_at
        SUCCEEDED = "succeeded"
        GAVE_UP = "gave_up"  # every attempt failed

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event_seq = models.BigIntegerField()
    message_id = models.CharField(max_length=64)  # webhook-id: the same on every attempt
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)  # the body's first 500 characters
    error = models.TextField(blank=True)  # why no response (refused target, timeout, ...)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    OPEN = (Status.PENDING, Status.DELIVERING, Status.FAILED)

    class Meta:
        ordering = ["webhook", "id"]
        verbose_name_plural = "deliveries"
        indexes = [models.Index(fields=["webhook", "status", "id"], name="delivery_queue")]

    def __str__(self) -> str:
        return f"{self.message_id} → {self.webhook}"
