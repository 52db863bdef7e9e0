"""What manage.py commands change outside the admin and definition files (a model's trash, a
server key), told to others (apps.audit) without knowing them: `shell_change` is sent with
`action` (an AuditEntry action: schema.add, schema.change), `application`, `model` (what kind
of row, e.g. "server key") and `details`. Sent robustly: the change is made whatever a
receiver does."""

from __future__ import annotations

from django.dispatch import Signal

SHELL = {"kind": "shell"}  # a command run on the server: its actor
shell_change = Signal()


def tell(action: str, application, model: str, **details) -> None:
    shell_change.send_robust(None, action=action, application=application, model=model,
                             details=details)
