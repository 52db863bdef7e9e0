"""An endpoint's GraphQL variables from a request, by the seed's rules (shared/seeds/004):
JSON body values pass as they are; route segments and query-string values are read by the
variable's type (Boolean, String, ID, UUID, Int, Float and the Decimal kind's numbers), a
missing nullable variable is null, and any other type or a text that does not fit is a
variable type error naming the variable."""

from __future__ import annotations

import math
import re

from graphql import GraphQLInputType, GraphQLNamedType, GraphQLNonNull, GraphQLScalarType

from apps.data_api.errors import BadUserInput

INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")
NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
STRING_SCALARS = {"String", "ID", "UUID"}
NUMBER_SCALARS = {"Int", "Float", "Decimal"}
URL_SCALARS = STRING_SCALARS | NUMBER_SCALARS | {"Boolean"}


class VariableTypeError(BadUserInput):
    """A URL or query-string value its variable's type cannot take (HTTP 400)."""


def url_scalar(type_: GraphQLInputType) -> str | None:
    """The name of the scalar a URL text can be read as for a variable of `type_`, if any."""
    named = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(named, GraphQLScalarType) and named.name in URL_SCALARS:
        return named.name
    return None


def type_name(type_: GraphQLInputType) -> str:
    return str(type_) if not isinstance(type_, GraphQLNamedType) else type_.name


def from_url(name: str, type_: GraphQLInputType, text: str, where: str) -> object:
    """The value of variable `name` written as `text` in the URL (`where`: "the path" or "the
    query string"). Raises VariableTypeError."""
    scalar = url_scalar(type_)
    if scalar is None:
        raise VariableTypeError(
            f"Variable ${name} is of type {type_}, which {where} cannot carry (only Boolean, "
            "String, ID, UUID, Int, Float and Decimal can); send it in a JSON body instead.",
            variable=name)
    if scalar in STRING_SCALARS:
        return text
    if scalar == "Boolean":
        if text in ("", "true"):  # ?flag alone is true
            return True
        if text == "false":
            return False
        raise _mismatch(name, type_, text, where, "true or false")
    if scalar == "Int":
        if not INTEGER.fullmatch(text):
            raise _mismatch(name, type_, text, where, "a whole number")
        return int(text)
    if not NUMBER.fullmatch(text) or not math.isfinite(float(text)):
        raise _mismatch(name, type_, text, where, "a number")
    return text if scalar == "Decimal" else float(text)  # a decimal's digits, exactly


def _mismatch(name: str, type_: GraphQLInputType, text: str, where: str,
              expected: str) -> VariableTypeError:
    shown = text if len(text) <= 40 else text[:40] + "…"
    return VariableTypeError(f"Variable ${name} ({type_}) in {where} must be {expected}, not "
                             f"{shown!r}.", variable=name)


def request_variables(declared: dict[str, tuple[GraphQLInputType, bool]],
                      route: dict[str, str], query: dict[str, list[str]],
                      body: dict) -> dict:
    """The variables of one request. `declared`: name → (type, has a default value). The URL
    wins over the body where both give a variable; names the document does not declare are
    left out of the query string's and ignored in the body (as GraphQL ignores them)."""
    variables = dict(body)
    for name, texts in query.items():
        if name not in declared or name in route:
            continue
        if len(texts) > 1:
            raise VariableTypeError(f"Variable ${name} is given {len(texts)} times in the query "
                                    "string; give it once.", variable=name)
        variables[name] = from_url(name, declared[name][0], texts[0], "the query string")
    for name, text in route.items():
        variables[name] = from_url(name, declared[name][0], text, "the path")
    for name, (type_, has_default) in declared.items():
        if name not in variables and not has_default and not isinstance(type_, GraphQLNonNull):
            variables[name] = None  # missing nullable: null
    return variables
