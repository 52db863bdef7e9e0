"""The playground: GraphiQL served from Mortar's own static files, and the page a browser gets
when an application's playground is off."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from graphene_django.views import GraphQLView

from models_registry.kinds import KINDS, FileKind, PasswordKind
from models_registry.models import Application, DataModel

# Where scripts/vendor_graphiql.py puts the npm packages' files, inside the app's static/.
STATIC_DIR = "graphiql"


@dataclass(frozen=True)
class Asset:
    """One file of an npm package that GraphiQL's page loads, and its SRI hash."""

    package: str
    version: str
    file: str  # inside the package
    integrity: str  # "sha256-<base64>", as graphene-django's page checks it

    @property
    def static_path(self) -> str:
        return f"{STATIC_DIR}/{self.package}@{self.version}/{self.file}"

    @property
    def is_style(self) -> bool:
        return self.file.endswith(".css")


def _assets(view: type[GraphQLView] = GraphQLView) -> tuple[Asset, ...]:
    # The versions and hashes graphene-django's own template loads from its CDN, so its
    # graphiql.js runs against the libraries it was written for; in the order it loads them.
    explorer = ("@graphiql/plugin-explorer", view.graphiql_plugin_explorer_version)
    return (
        Asset("graphiql", view.graphiql_version, "graphiql.min.css", view.graphiql_css_sri),
        Asset(*explorer, "dist/style.css", view.graphiql_plugin_explorer_css_sri),
        Asset("whatwg-fetch", view.whatwg_fetch_version, "dist/fetch.umd.js",
              view.whatwg_fetch_sri),
        Asset("react", view.react_version, "umd/react.production.min.js", view.react_sri),
        Asset("react-dom", view.react_version, "umd/react-dom.production.min.js",
              view.react_dom_sri),
        Asset("graphiql", view.graphiql_version, "graphiql.min.js", view.graphiql_sri),
        Asset("graphql-ws", view.subscriptions_transport_ws_version, "umd/graphql-ws.min.js",
              view.subscriptions_transport_ws_sri),
        Asset(*explorer, "dist/graphiql-plugin-explorer.umd.js",
              view.graphiql_plugin_explorer_sri),
    )


ASSETS = _assets()


def graphiql_page(request: HttpRequest, application: Application) -> HttpResponse:
    """GraphiQL in the browser, posting back to this same URL."""
    response = render(request, "data_api/graphiql.html", {
        "application": application,
        "styles": [asset for asset in ASSETS if asset.is_style],
        "scripts": [asset for asset in ASSETS if not asset.is_style],
    })
    patch_vary_headers(response, ["Accept"])  # the same URL answers JSON to other clients
    return response


def playground_off_page(request: HttpRequest, application: Application) -> HttpResponse:
    """What a browser gets instead of GraphiQL: how to switch it on, and a query to try.

    400, as a GET without a query is for any other client: the representation follows the
    Accept header, the verdict on the request does not.
    """
    response = render(request, "data_api/playground_off.html", {
        "application": application,
        "admin_url": reverse("admin:models_registry_application_change",
                             args=[application.pk]),
        "api_url": request.build_absolute_uri(request.path),
        "example": example_query(application),
    }, status=400)
    patch_vary_headers(response, ["Accept"])
    return response


def example_query(application: Application) -> str | None:
    """A query on the application's first model by name, with its first property; None when
    introspection is off (the page must not tell the schema to whoever asks)."""
    if not application.introspection_enabled:
        return None
    model = (DataModel.objects.filter(application=application).order_by("name")
             .prefetch_related("properties").first())
    if model is None:
        return None
    # A property a query can name bare: passwords are never readable, files need a selection.
    bare = [p.name for p in model.properties.all()
            if not isinstance(KINDS[p.kind], (PasswordKind, FileKind))]
    fields = ["id", *bare[:1]]
    return f"{{ all{model.name}(limit: 1) {{ totalCount results {{ {' '.join(fields)} }} }} }}"
