"""What one request's fields are read and written with: below every stage, so that the
request stage makes it and the read and write stages use it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLSchema

from apps.identity.access import Access
from models_registry.events import NOWHERE, Origin
from models_registry.models import Application
from models_registry.runtime import RuntimeModels

from .freshness import Freshness


@dataclass
class Context:
    """The application's runtime models, schema and row as this request uses them, the
    freshness check, the caller's permissions, and the operation's fragments and coerced
    variables."""

    built: RuntimeModels
    schema: GraphQLSchema
    application: Application
    freshness: Freshness
    access: Access
    fragments: dict
    variables: dict
    origin: Origin = NOWHERE  # where the request came from, for the change events
    # called before anything a mutation wrote lasts (inside its transaction): raises when the
    # request turns out not to be served (apps.ratelimit.admission)
    admit: Callable[[], None] = lambda: None
    # reads: the plans kept for this request's shape (a read.plan_cache.PlanCache and Shape,
    # which the stages below this module's place know); None: planned afresh
    plans: Any = None
    shape: Any = None
