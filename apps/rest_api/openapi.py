"""The OpenAPI 3.1 document of an application's REST endpoints."""

from __future__ import annotations

from apps.data_api.request.schemas import ApiSchema
from models_registry.models import Application

from .routes import Routes


def openapi_document(application: Application, routes: Routes, api: ApiSchema) -> dict:
    return {"openapi": "3.1.0",
            "info": {"title": f"{application.name} REST endpoints", "version": "1"},
            "paths": {}}
