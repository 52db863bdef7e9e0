"""Whether a request may be served: its token is asked for as the request arrives, and the
answer is read as late as the answer can wait, so that the request's work runs during the
round trip to Redis.

Until the answer is read nothing the request did may last: a read's answer is built and then
thrown away if refused; whatever writes (a mutation, a login, an audit entry) calls `require`
first, inside its transaction where it has one, so that a refusal rolls it back.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.http import HttpRequest

from models_registry.lru import report
from models_registry.models import Application

from .backends import BackendUnavailable, backend
from .backends.base import Taken
from .policy import Decision, buckets_of

TRACKED_APPLICATIONS = 10_000
# application id -> tokens its buckets held after this process's last answer for it
_tokens_left: dict[int, int] = {}


report("tokens seen left", lambda: len(_tokens_left), lambda: TRACKED_APPLICATIONS + 1)


def forget_tokens_left() -> None:
    _tokens_left.clear()


class NotAdmitted(Exception):
    """The request is not served (no token, or no backend while failing closed): what it did
    is undone or thrown away, and the middleware answers 429 or 503."""


class Admission:
    def __init__(self, slug: str, application: Application, confirm):
        """`confirm(slug)`: the application's row as it is now, or None (see the middleware's
        `_confirmed`), asked after a refusal in case the limits were raised meanwhile."""
        self.slug, self.application, self._confirm = slug, application, confirm
        self.decision: Decision | None = None
        self.unavailable: BackendUnavailable | None = None
        self.fresh_application: Application | None = None
        self._pending = None
        self.settled = False
        buckets = buckets_of(application)
        try:
            self._pending = backend().start_take(application.pk, buckets)
        except BackendUnavailable as error:
            self._settle_unavailable(error)
        # Worth working during the round trip only while a token is likely: after a
        # refusal (or at limits of 0) requests wait, so a flood of them does no work.
        self.deferrable = (not self.settled and not isinstance(self._pending, Taken)
                           and any(b.capacity for b in buckets)
                           and _tokens_left.get(application.pk, 1) > 0)

    @property
    def admitted(self) -> bool:
        """Settles first. Served uncounted when the backend is down and MORTAR_RATELIMIT_FAIL
        is "open"."""
        self.settle()
        if self.unavailable is not None:
            return settings.MORTAR_RATELIMIT_FAIL != "closed"
        return self.decision.admitted

    def require(self) -> None:
        """Raise NotAdmitted unless the request is served: called before anything lasting."""
        if not self.admitted:
            raise NotAdmitted

    def settle(self) -> None:
        """Read the backend's answer (once); after a refusal, take again under the limits the
        database holds now when they differ from those this process remembered."""
        if self.settled:
            return
        self.settled = True
        try:
            decision = self._pending.result()
            if not decision.admitted:
                current = self._confirm(self.slug)
                if current is not None:
                    self.fresh_application = current  # CORS decides on the fresh row
                    if _limits(current) != _limits(self.application):
                        decision = backend().take(current.pk, buckets_of(current))
        except BackendUnavailable as error:
            self._settle_unavailable(error)
            return
        self.decision = decision
        if len(_tokens_left) > TRACKED_APPLICATIONS:
            _tokens_left.clear()
        _tokens_left[self.application.pk] = sum(state.remaining for state in decision.states)

    def _settle_unavailable(self, error: BackendUnavailable) -> None:
        self.settled = True
        self.unavailable = error

    @staticmethod
    def retry_seconds() -> int:
        return max(1, math.ceil(settings.MORTAR_RATELIMIT_RETRY_SECONDS))


def _limits(application: Application) -> tuple:
    return application.pk, buckets_of(application)


def require_admission(request: HttpRequest | None) -> None:
    """`Admission.require` for the request, when it has one (a request that passed no rate
    limit, such as a test's own call of the executor, is served)."""
    admission = getattr(request, "mortar_admission", None)
    if admission is not None:
        admission.require()
