"""The buckets of a running server, through its ops endpoints: with the local backend they live
in that server's process (`make run`), which `manage.py ratelimit` cannot see from its own."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import quote

from django.conf import settings

from .backends import backend


class ServerError(Exception):
    """The server could not be asked, or refused; the message says what to do."""


def server_url() -> str | None:
    """The server to ask: set (by `make run`'s var/dev.env) and the backend is the local one."""
    return settings.MORTAR_RATELIMIT_SERVER_URL if backend().name == "local" else None


def server_levels(slug: str | None) -> list[dict]:
    """Every application's buckets (or one's) as GET /ops/ratelimits answers them."""
    query = "" if slug is None else f"?app={quote(slug)}"
    return _ask("GET", f"/ops/ratelimits{query}")["applications"]


def reset_on_server(slug: str) -> None:
    _ask("POST", f"/ops/ratelimits/{quote(slug)}/reset")


def _ask(method: str, path: str) -> dict:
    base = settings.MORTAR_RATELIMIT_SERVER_URL.rstrip("/")
    if not settings.MORTAR_OPS_TOKEN:
        raise ServerError(f"Asking the server at {base} needs MORTAR_OPS_TOKEN (`make run` "
                          "writes one to var/dev.env).")
    request = urllib.request.Request(base + path, method=method, headers={
        "Authorization": f"Bearer {settings.MORTAR_OPS_TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        try:
            message = json.load(error)["error"]
        except (ValueError, KeyError):
            message = f"HTTP {error.code}"
        raise ServerError(f"The server at {base} refused: {message}") from None
    except (urllib.error.URLError, TimeoutError) as error:
        raise ServerError(
            f"No server answers at {base} (MORTAR_RATELIMIT_SERVER_URL): "
            f"{getattr(error, 'reason', error)}. The local "
            "backend's buckets live in that server's process, and it starts with them full; "
            "start it with `make run`, or set REDIS_URL to share buckets in Redis.") from None
