"""What the data API tells others (apps.audit) without knowing them: `refused` is sent after
a response that refused the caller something for lack of permission (FORBIDDEN), with
`request`, `application`, `principal` and `refusals` (each error's message and path). Sent
robustly, after the answer is made: a failing receiver never changes it."""

from __future__ import annotations

import json

from django.dispatch import Signal

from apps.error_codes import ErrorCode

refused = Signal()
_MARK = f'"{ErrorCode.FORBIDDEN.value}"'


def tell_refusals(request, application, principal, body: str) -> None:
    """Send `refused` if the response body `body` holds FORBIDDEN errors (a substring test
    first: most responses hold none, and their JSON is never parsed again)."""
    if _MARK not in body:
        return
    errors = json.loads(body).get("errors") or []
    refusals = [{"message": error.get("message", ""), "path": error.get("path")}
                for error in errors
                if (error.get("extensions") or {}).get("code") == ErrorCode.FORBIDDEN.value]
    if refusals:
        refused.send_robust(None, request=request, application=application,
                            principal=principal, refusals=refusals)
