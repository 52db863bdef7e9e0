"""Which saved endpoint a request is for, and its document ready to run.

Each process keeps an application's endpoints as last read, fresh while the application row is
unchanged: saving or deleting an endpoint touches that row, so every process sees the change
with its next request (as permissions are seen). Each endpoint's document is prepared (parsed,
validated, its operation picked out) once per schema version; one that no longer fits the
schema is broken: it answers 500 saying why until a builder fixes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from graphql import GraphQLInputType, type_from_ast

from apps.data_api.request.documents import Prepared
from apps.data_api.request.schemas import ApiSchema
from models_registry.lru import LruCache
from models_registry.models import Application

from .checks import Definition, schema_problems, static_problems
from .models import RestEndpoint


@dataclass
class Ready:
    """An endpoint's document as prepared against one schema version, with introspection on
    or off (off refuses a document that asks for the schema)."""

    api: ApiSchema
    introspection: bool
    prepared: Prepared | None
    problems: list[str]  # why it cannot run: it is broken
    declared: dict[str, tuple[GraphQLInputType, bool]]  # variable -> (type, has a default)


@dataclass
class Endpoint:
    id: int
    definition: Definition
    methods: tuple[str, ...]
    static: list[str]  # problems found without the schema (a row written past the checks)
    comment: str = ""
    _ready: Ready | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.definition.name

    def ready(self, api: ApiSchema, introspection: bool) -> Ready:
        ready = self._ready
        if ready is None or ready.api is not api or ready.introspection != introspection:
            ready = self._ready = _prepare(self, api, introspection)
        return ready


def _prepare(endpoint: Endpoint, api: ApiSchema, introspection: bool) -> Ready:
    if endpoint.static:
        return Ready(api, introspection, None, endpoint.static, {})
    problems = schema_problems(endpoint.definition, api.documents, introspection)
    if problems:
        return Ready(api, introspection, None,
                     [m for messages in problems.values() for m in messages], {})
    declared = {node.variable.name.value: (type_from_ast(api.schema, node.type),
                                           node.default_value is not None)
                for node in endpoint.definition.operation.variable_definitions}
    return Ready(api, introspection,
                 api.documents.prepare(endpoint.definition.query, introspection), [], declared)


class NoEndpoint(Exception):
    """No endpoint's template matches the path (404)."""


class MethodNotAllowed(Exception):
    """Templates match the path, none with the request's method (405)."""

    def __init__(self, allowed: list[str]):
        super().__init__(", ".join(allowed))
        self.allowed = allowed


class Ambiguous(Exception):
    """Several endpoints match the path and method: a collision the checks could not stop
    (two builders saving at once). 500, as the seed says."""

    def __init__(self, names: list[str]):
        super().__init__(", ".join(names))
        self.names = names


class Routes:
    def __init__(self, endpoints: list[Endpoint]):
        self.endpoints = endpoints
        self.by_length: dict[int, list[Endpoint]] = {}
        for endpoint in endpoints:
            template = endpoint.definition.template
            if template is not None:
                self.by_length.setdefault(len(template.segments), []).append(endpoint)

    def find(self, method: str, path: str) -> tuple[Endpoint, dict[str, str]]:
        """The endpoint for `method` at `path` (after /rest/) and its segment variables."""
        parts = path.strip("/").split("/") if path.strip("/") else []
        found, allowed = [], []
        for endpoint in self.by_length.get(len(parts), ()):
            captured = endpoint.definition.template.match(parts)
            if captured is None:
                continue
            allowed.extend(m for m in endpoint.methods if m not in allowed)
            if method in endpoint.methods:
                found.append((endpoint, captured))
        if len(found) > 1:
            raise Ambiguous(sorted(endpoint.name for endpoint, _ in found))
        if found:
            return found[0]
        if allowed:
            raise MethodNotAllowed(allowed)
        raise NoEndpoint(path)


def endpoint_of(row: RestEndpoint) -> Endpoint:
    definition = Definition(row.name, row.url, list(row.methods or []), row.query)
    problems = static_problems(definition)
    return Endpoint(row.pk, definition, tuple(definition.effective_methods()),
                    [m for messages in problems.values() for m in messages], row.comment)


_routes: LruCache[tuple[object, Routes]] = LruCache(
    lambda: settings.MORTAR_RUNTIME_CACHE_SIZE, "rest routes")


def routes_for(application: Application) -> Routes:
    """The application's endpoints as of its row (one query when the row changed)."""
    # A new schema version makes new Routes too: no endpoint keeps an old schema alive.
    version = (application.updated_at, application.schema_version)

    def read() -> tuple[object, Routes]:
        rows = RestEndpoint.objects.filter(application_id=application.pk).order_by("id")
        return version, Routes([endpoint_of(row) for row in rows])

    return _routes.get_or_make(application.pk, read, fresh=lambda found: found[0] == version)[1]


@receiver([post_save, post_delete], sender=RestEndpoint)
def _touch_application(sender, instance: RestEndpoint, **kwargs) -> None:
    """An endpoint changed: change the application row, so every process sees it."""
    Application.objects.filter(pk=instance.application_id).update(updated_at=timezone.now())
