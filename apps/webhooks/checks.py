"""What a webhook definition must be, checked the same way for the admin's form and for
definition files: a URL that is http(s) (and not a private host named literally, unless the
application allows those), known models and operations, and a `where` that fits each of its
models' filter input (`<Model>FilterInput` of the data API), with values of the right kinds."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, GraphQLInputObjectType, coerce_input_value

from apps.data_api.errors import BadUserInput
from apps.data_api.read.filters import FilterCompiler
from apps.data_api.request.schemas import api_schema
from apps.data_api.sql.dialects import dialect
from apps.data_api.sql.text import Aliases
from models_registry.models import Application

from .models import OPERATIONS
from .targets import literal_problem

Problems = dict[str, list[str]]


def static_problems(url: Any, model_names: Any, operations: Any, where: Any,
                    allow_private: bool) -> Problems:
    """Problems visible without the application's schema."""
    problems: Problems = {}

    def add(field: str, message: str) -> None:
        problems.setdefault(field, []).append(message)

    if not isinstance(url, str):
        add("url", "Expected text.")
    elif (problem := literal_problem(url, allow_private)) is not None:
        add("url", problem)
    if not isinstance(model_names, list) or not all(isinstance(m, str) for m in model_names):
        add("models", 'Expected a list of model names, e.g. ["Task"].')
    if not isinstance(operations, list) or not all(isinstance(o, str) for o in operations):
        add("operations", 'Expected a list of operations, e.g. ["create", "update"].')
    else:
        for operation in operations:
            if operation not in OPERATIONS:
                add("operations", f"Unknown operation {operation!r}: use "
                                  f"{', '.join(OPERATIONS)}.")
    if where is not None:
        if not isinstance(where, dict):
            add("where", 'Expected a where object, e.g. {"done": {"eq": true}}, or nothing.')
        elif isinstance(model_names, list) and not model_names:
            add("where", "A where filter fits the fields of particular models: name them in "
                         "models.")
        if isinstance(operations, list) and (not operations or "delete" in operations):
            add("where", "A deleted record cannot be checked against a where filter: leave "
                         "delete out of operations (a second webhook without where can "
                         "take deletes).")
    return problems


def schema_problems(application: Application, model_names: list[str],
                    where: dict | None) -> Problems:
    """Problems against the application's current models: unknown models, a where that does
    not fit one of them."""
    schema = api_schema(application)
    problems: Problems = {}
    for name in model_names:
        if name not in schema.built.by_name:
            known = ", ".join(sorted(schema.built.by_name)) or "none yet"
            problems.setdefault("models", []).append(
                f"{application.slug} has no model {name!r} (its models: {known}).")
        elif where is not None:
            try:
                filter_condition(application, name, where)
            except BadUserInput as error:
                problems.setdefault("where", []).append(f"For {name}: {error}")
    return problems


def filter_condition(application: Application, model: str, where: dict,
                     alias: str = "t0", aliases: Aliases | None = None):
    """The SQL condition of `where` on `model`'s records in table alias `alias`; BadUserInput
    when it does not fit the model (an unknown field or operator, a value of the wrong kind)."""
    schema = api_schema(application)
    cls = schema.built.by_name[model]
    input_type = schema.schema.get_type(f"{model}FilterInput")
    assert isinstance(input_type, GraphQLInputObjectType)
    errors: list[str] = []

    def on_error(path: list, invalid: Any, error: GraphQLError) -> None:
        place = ".".join(["where", *(str(p) for p in path)])
        errors.append(f"{place}: {error.message}")

    coerced = coerce_input_value(where, input_type, on_error)
    if errors:
        raise BadUserInput("; ".join(errors))
    compiler = FilterCompiler(schema.built, dialect(), aliases or Aliases())
    return cls, compiler.condition(cls, alias, coerced)
