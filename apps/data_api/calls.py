"""What one request's fields are run with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from apps.identity.access import Access
from models_registry.models import Application

from .freshness import Freshness

if TYPE_CHECKING:
    from .executor import ApiSchema


@dataclass
class Call:
    """The application's schema and row as this request uses them, the freshness check, the
    caller's permissions, and the operation's fragments and coerced variables."""

    api: ApiSchema
    application: Application
    freshness: Freshness
    access: Access
    fragments: dict
    variables: dict
