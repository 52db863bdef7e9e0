"""GET /api/<slug>/watch?models=Task,Project: the application's changes as server-sent events.

An async view: a watcher holds no worker thread while it waits, only a queue of the
process's feed (feed.py); its database work runs on the feed's few threads. Authentication and
permissions are those of reads (visibility.py). Refusals answer JSON as the data API's do.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from apps.data_api.errors import error_response, read_refusal
from apps.error_codes import ErrorCode
from apps.identity.access import access_for
from apps.identity.principals import Principal, Unauthenticated, authenticate
from models_registry.application_rows import read_application
from models_registry.models import Application
from models_registry.runtime import runtime_models

from . import frames, metrics
from .feed import END, Batch, current_feed, database
from .reading import batch_after, start_position

MAX_SEQ = 2**63 - 1
_now = time.time  # the clock a token's expiry is compared with
_NUMBER = re.compile(r"0|[1-9][0-9]{0,18}")


class Refusal(Exception):
    def __init__(self, status: int, message: str, code: ErrorCode):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


@dataclass(frozen=True)
class Watch:
    application: Application
    principal: Principal
    model_ids: frozenset[int]
    position: int  # the events after it are sent
    reset: bool  # the client's Last-Event-ID is past retention: tell it to reload first
    expires: float | None  # the token's expiry (epoch seconds): the stream ends then


async def watch(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method != "GET":
        response = error_response(405, "Watch with GET (an EventSource).",
                                  ErrorCode.BAD_USER_INPUT)
        response["Allow"] = "GET"
        return response
    if not isinstance(request, ASGIRequest):
        return error_response(
            501, "Watching needs an ASGI server (make run serves one; in production run "
                 "mortar.asgi under gunicorn with uvicorn workers, or daphne).",
            ErrorCode.INTERNAL_SERVER_ERROR)
    try:
        plan = await database().run(
            plan_watch, slug, request.headers.get("Authorization"), request.GET.get("models"),
            request.headers.get("Last-Event-ID", request.GET.get("lastEventId")))
    except Refusal as refusal:
        response = error_response(refusal.status, refusal.message, refusal.code)
        if refusal.code == ErrorCode.UNAUTHENTICATED:
            response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response
    request.mortar_application = plan.application  # for the CORS check on the way out
    response = StreamingHttpResponse(EventStream(plan), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


def plan_watch(slug: str, authorization: str | None, models: str | None,
               last_event_id: str | None) -> Watch:
    """Who watches which models from where; Refusal when he may not."""
    try:
        application, _ = read_application(slug)
    except Application.DoesNotExist:
        raise Refusal(404, f"There is no application {slug!r}.", ErrorCode.NOT_FOUND) from None
    try:
        principal = authenticate(application, authorization)
    except Unauthenticated as error:
        raise Refusal(401, str(error), ErrorCode.UNAUTHENTICATED) from None
    built = runtime_models(application)
    names = [name.strip() for name in (models or "").split(",") if name.strip()]
    if not names:
        raise Refusal(400, "Name the models to watch: ?models=Task,Project.",
                      ErrorCode.BAD_USER_INPUT)
    unknown = [name for name in names if name not in built.by_name]
    if unknown:
        raise Refusal(400, f"{application.name} has no model {', '.join(unknown)}; its models "
                      f"are {', '.join(sorted(built.by_name)) or 'none yet'}.",
                      ErrorCode.BAD_USER_INPUT)
    access = access_for(application, principal)
    model_ids = []
    for name in dict.fromkeys(names):
        model_id = built.by_name[name]._mortar.pk
        if not access.allows(model_id, "read"):
            raise Refusal(403, read_refusal(access, name, model_id), ErrorCode.FORBIDDEN)
        model_ids.append(model_id)
    asked = None
    if last_event_id is not None:
        text = last_event_id.strip()
        if not _NUMBER.fullmatch(text) or int(text) > MAX_SEQ:
            raise Refusal(400, f"Last-Event-ID must be the id of an event this stream sent (a "
                          f"whole number), not {last_event_id[:40]!r}.",
                          ErrorCode.BAD_USER_INPUT)
        asked = int(text)
    position, reset = start_position(application, asked)
    expires = principal.claims.get("exp")
    return Watch(application, principal, frozenset(model_ids), position, reset,
                 float(expires) if isinstance(expires, int | float) else None)


class EventStream:
    """The response's content: `stream`, and `close` (Django calls it when the response ends,
    from any thread), which leaves the feed at once; a generator left suspended at a `yield`
    would otherwise stay subscribed until it is garbage-collected."""

    def __init__(self, plan: Watch):
        self._subscribed: tuple | None = None  # (loop, feed, subscription)
        self._events = stream(plan, self)

    def __aiter__(self):
        return self

    async def __anext__(self) -> str:
        return await self._events.__anext__()

    def subscribed(self, feed, subscription) -> None:
        self._subscribed = (asyncio.get_running_loop(), feed, subscription)

    def close(self) -> None:
        if self._subscribed is None:
            return
        loop, feed, subscription = self._subscribed
        self._subscribed = None

        def leave() -> None:
            feed.unsubscribe(subscription)
            subscription.offer(END)  # a stream still being read ends

        try:
            loop.call_soon_threadsafe(leave)
        except RuntimeError:  # the loop has closed: nothing is left to leave
            pass


async def stream(plan: Watch, owner: EventStream):
    """The events after `plan.position` as they commit, with a comment every heartbeat."""
    yield frames.retry(settings.MORTAR_WATCH_RETRY_MILLISECONDS)
    if plan.reset:
        yield frames.reset(plan.position)
    feed = current_feed()
    subscription = await feed.subscribe(plan.application.pk)
    owner.subscribed(feed, subscription)
    position = plan.position
    metrics.STREAMS.inc()
    try:
        # what committed before the feed's queue took over: read here, page by page
        while position < subscription.start:
            application, events = await database().run(
                batch_after, plan.application.pk, position, 500, subscription.start)
            if not events or events[0].seq != position + 1:  # pruned meanwhile
                yield frames.reset(subscription.start)
                position = subscription.start
                break
            if application is None:
                return
            for text in await _shown(Batch(application, events), plan, position):
                yield text
            position = events[-1].seq
        heartbeat = settings.MORTAR_WATCH_HEARTBEAT_SECONDS
        while True:
            wait = heartbeat if plan.expires is None else min(heartbeat, plan.expires - _now())
            if wait <= 0:
                return  # the token expired: the client reconnects with a fresh one
            try:
                batch = await asyncio.wait_for(subscription.queue.get(), wait)
            except TimeoutError:
                if plan.expires is None or _now() < plan.expires:
                    yield frames.KEEP_ALIVE
                continue
            if batch is END:
                return
            if batch.last <= position:
                continue
            for text in await _shown(batch, plan, position):
                yield text
            position = batch.last
    finally:
        metrics.STREAMS.dec()
        feed.unsubscribe(subscription)


async def _shown(batch, plan: Watch, position: int) -> list[str]:
    shown = [text for seq, model_id, text in await batch.frames_for(plan.principal)
             if seq > position and model_id in plan.model_ids]
    metrics.SENT.inc(len(shown))
    return shown
