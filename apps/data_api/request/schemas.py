"""Each application's API at its current schema version: the GraphQL schema, built along with
the runtime models, and the document and operation caches that belong to it."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from graphql import GraphQLSchema

from models_registry.lru import LruCache
from models_registry.models import Application
from models_registry.runtime import RuntimeModels, runtime_models

from ..read.plan_cache import PlanCache
from ..schema.build import build_schema
from .documents import DocumentCache
from .operations import OperationCache


@dataclass
class ApiSchema:
    built: RuntimeModels
    schema: GraphQLSchema
    record_types: set[str]
    documents: DocumentCache
    operations: OperationCache
    plans: PlanCache


# As many as runtime builds: an entry keeps its build alive.
_schemas: LruCache[ApiSchema] = LruCache(lambda: settings.MORTAR_RUNTIME_CACHE_SIZE,
                                      "schemas")


def api_schema(application: Application) -> ApiSchema:
    """The application's schema at its current version; built along with its runtime models."""
    built = runtime_models(application)

    def build() -> ApiSchema:
        record_types = {cls._mortar.name for cls in built.by_id.values()}
        schema = build_schema(built)
        return ApiSchema(built, schema, record_types, DocumentCache(schema),
                         OperationCache(schema, record_types), PlanCache())

    return _schemas.get_or_make(application.pk, build, fresh=lambda found: found.built is built)
