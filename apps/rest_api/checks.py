"""What is wrong with an endpoint's definition, by field (name, url, methods, query): first
what needs no schema (definition files are checked so before anything is loaded), then the
document against the application's schema, then the URLs other endpoints already answer."""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import (
    GraphQLError,
    GraphQLNonNull,
    OperationDefinitionNode,
    OperationType,
    parse,
    type_from_ast,
)

from apps.data_api.request.documents import DocumentCache

from .models import METHODS
from .templates import BadTemplate, UrlTemplate
from .variables import url_scalar

Problems = dict[str, list[str]]


@dataclass
class Definition:
    name: str
    url: str
    methods: list[str]
    query: str
    template: UrlTemplate | None = field(default=None, repr=False)
    operation: OperationDefinitionNode | None = field(default=None, repr=False)

    @property
    def is_mutation(self) -> bool:
        return self.operation is not None and self.operation.operation == OperationType.MUTATION

    def effective_methods(self) -> list[str]:
        """The methods it answers: as configured, else the seed's defaults."""
        if self.methods:
            return list(self.methods)
        return ["POST"] if self.is_mutation else ["GET", "POST"]


def static_problems(definition: Definition) -> Problems:
    """Problems found without the schema; fills in `template` and `operation` when they can
    be read."""
    problems: Problems = {}
    try:
        definition.template = UrlTemplate.parse(definition.url)
    except BadTemplate as error:
        problems.setdefault("url", []).append(str(error))
    try:
        document = parse(definition.query)
    except GraphQLError as error:
        problems.setdefault("query", []).append(f"The document does not parse: {error.message}")
        document = None
    if document is not None:
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) != 1:
            problems.setdefault("query", []).append(
                f"The document has {len(operations)} operations; an endpoint runs exactly one "
                "query or mutation (fragments beside it are fine).")
        elif operations[0].operation == OperationType.SUBSCRIPTION:
            problems.setdefault("query", []).append("Subscriptions cannot be served as REST; "
                                                    "save a query or a mutation.")
        else:
            definition.operation = operations[0]
    methods = definition.methods
    if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods):
        problems.setdefault("methods", []).append('Methods are a list such as ["GET"].')
        definition.methods = methods = []
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        problems.setdefault("methods", []).append(
            f"Unknown method {unknown[0]!r}; choose among {', '.join(METHODS)}.")
    if len(set(methods)) != len(methods):
        problems.setdefault("methods", []).append("A method is listed twice.")
    if definition.operation is not None:
        if definition.is_mutation and "GET" in methods:
            problems.setdefault("methods", []).append(
                "A mutation is not served with GET: browsers, proxies and crawlers repeat GET "
                "requests freely. Use POST, PUT, PATCH or DELETE.")
        if not definition.is_mutation and set(methods) - {"GET", "POST"}:
            problems.setdefault("methods", []).append(
                "A query changes nothing: serve it with GET and POST only.")
        if definition.template is not None:
            declared = {v.variable.name.value for v in definition.operation.variable_definitions}
            for name in definition.template.variables:
                if name not in declared:
                    problems.setdefault("url", []).append(
                        f"The URL passes :{name}, but the document declares no ${name}; add "
                        f"it to the operation's variables (query Name(${name}: Int!) ...).")
    return problems


def schema_problems(definition: Definition, documents: DocumentCache,
                    introspection: bool) -> Problems:
    """The document validated against the schema `documents` belongs to, and its variables'
    types against where they can come from. Call after `static_problems` found none."""
    prepared = documents.prepare(definition.query, introspection)
    if prepared.errors or prepared.document is None:
        return {"query": [error["message"] for error in prepared.errors]}
    problems: Problems = {}
    methods = definition.effective_methods()
    route = set(definition.template.variables)
    for node in definition.operation.variable_definitions:
        name = node.variable.name.value
        type_ = type_from_ast(documents.schema, node.type)
        if name in route and url_scalar(type_) is None:
            problems.setdefault("url", []).append(
                f":{name} passes text, which ${name} of type {type_} cannot take; only "
                "Boolean, String, ID, UUID, Int, Float and Decimal variables come from a URL.")
        elif (methods == ["GET"] and url_scalar(type_) is None and node.default_value is None
              and isinstance(type_, GraphQLNonNull)):
            problems.setdefault("methods", []).append(
                f"${name} ({type_}) can only come from a JSON body, which GET requests do not "
                "carry: allow POST too, or make it nullable.")
    return problems


def overlap_problems(definition: Definition, others: list[Definition]) -> Problems:
    """Other endpoints some URL and method would match besides this one: refused when defined
    rather than answered 500 at request time (the seed's rule)."""
    if definition.template is None:
        return {}
    methods = set(definition.effective_methods())
    problems = []
    for other in others:
        if other.template is None or not definition.template.overlaps(other.template):
            continue
        shared = methods & set(other.effective_methods())
        if shared:
            problems.append(
                f"Endpoint {other.name!r} ({other.template.text}) would answer the same URLs "
                f"for {', '.join(sorted(shared))}: make a literal segment differ, or give the "
                "two different methods.")
    return {"url": problems} if problems else {}


def merged(*all_problems: Problems) -> Problems:
    result: Problems = {}
    for problems in all_problems:
        for key, messages in problems.items():
            result.setdefault(key, []).extend(messages)
    return result
