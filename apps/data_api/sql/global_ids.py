"""Global ids (Relay's `nodeId`): the base64 of `gid://<application slug>/<Model>/<id>`, written
by the database into each record's JSON, and read back from what a client sends to `node`.

An id names the model by its current name: after a model is renamed, the ids handed out before
find nothing (`node` answers null for them, as for a deleted record).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from .dialects import Dialect
from .text import Sql, text_param

GLOBAL_ID_FIELD = "nodeId"  # the field of every record type that holds its global id
MAX_ID = 2**63 - 1  # ids are bigint

_TEXT = re.compile(r"gid://(?P<app>[^/]*)/(?P<model>[^/]*)/(?P<id>[^/]*)")
_MODEL = re.compile(r"[A-Z][A-Za-z0-9]*")  # the registry's model name rule
_ID = re.compile(r"0|[1-9][0-9]*")  # written as the database writes it: no sign, no zeros first


class MalformedGlobalId(ValueError):
    """Not an id this API could have handed out; the message says why, for the client."""


@dataclass(frozen=True)
class GlobalId:
    app: str  # the application's slug
    model: str
    id: int

    def __str__(self) -> str:
        text = f"gid://{self.app}/{self.model}/{self.id}"
        return base64.b64encode(text.encode()).decode("ascii")


def global_id_sql(dialect: Dialect, app: str, model: str, id_column: str) -> Sql:
    """The global id of the record whose id is `id_column`, as the database writes it (equal
    to `str(GlobalId(app, model, id))`)."""
    return dialect.base64(dialect.concat(text_param(f"gid://{app}/{model}/"), Sql(id_column)))


def parse_global_id(value: str) -> GlobalId:
    """The id a client sent; MalformedGlobalId unless it is one `global_id_sql` writes (the
    one base64 spelling of it: opaque ids are compared as text by clients' caches)."""
    shown = value if len(value) <= 80 else value[:77] + "..."
    where = f"{shown!r} is not a global id"
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError as error:  # binascii.Error, or characters outside ASCII
        raise MalformedGlobalId(f"{where}: not base64.") from error
    if base64.b64encode(raw).decode("ascii") != value:
        raise MalformedGlobalId(f"{where}: not base64 as this API writes it (standard "
                                "alphabet, with padding).")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedGlobalId(f"{where}: it does not decode to gid://<app>/<Model>/<id>.") \
            from error
    found = _TEXT.fullmatch(text)
    if found is None:
        raise MalformedGlobalId(f"{where}: it does not decode to gid://<app>/<Model>/<id>.")
    if not _MODEL.fullmatch(found["model"]):
        raise MalformedGlobalId(f"{where}: {found['model']!r} is not a model name.")
    if not _ID.fullmatch(found["id"]) or int(found["id"]) > MAX_ID:
        raise MalformedGlobalId(f"{where}: {found['id']!r} is not a record id.")
    return GlobalId(found["app"], found["model"], int(found["id"]))
