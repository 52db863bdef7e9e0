"""What identity tells others (apps.audit) without knowing them: `identity_event` is sent
after a login, a failed login, a refresh token's reuse (its login is revoked) and a
revocation, with `action` (an AuditEntry action), `application`, `request` (or None),
`actor` ({"kind": "user", "profile": <uuid>, "id": <user id>} where known) and `details`.
Sent robustly: a failing receiver never fails the login."""

from django.dispatch import Signal

identity_event = Signal()


def tell(action: str, application, request=None, actor: dict | None = None,
         **details) -> None:
    identity_event.send_robust(None, action=action, application=application, request=request,
                               actor=actor or {"kind": "anonymous"}, details=details)
