"""The text of server-sent events (the WHATWG EventSource format)."""

from __future__ import annotations

import json

KEEP_ALIVE = ": keep-alive\n\n"  # a comment: clients ignore it, proxies see traffic


def retry(milliseconds: int) -> str:
    """How long a client waits before reconnecting."""
    return f"retry: {milliseconds}\n\n"


def event(seq: int, name: str, data: dict) -> str:
    # json.dumps escapes line breaks: the data is always one line
    return f"id: {seq}\nevent: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def reset(position: int) -> str:
    """Events the client asked for are no longer kept. The id moves its Last-Event-ID to the
    current end, so a reconnect after it is not told again."""
    return event(position, "reset", {
        "reason": "The events after your Last-Event-ID are no longer kept (older than this "
                  "application's retention), or it is not one this stream sent. Reload the "
                  "data you show; the stream continues with changes from now on.",
        "seq": position})
