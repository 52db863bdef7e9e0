"""The OpenAPI 3.1 document of an application's REST endpoints (/api/<app>/rest/openapi.json).

Each working endpoint's methods are operations: parameters and request bodies come from the
document's variables and where `request_variables` reads them (path, query string, JSON body),
and the 200 answer's schema is derived from the operation's selection set, so a client sees
exactly the keys the endpoint returns. Endpoints a schema change broke answer only 500: they are
left out of `paths` and listed, with why, under `x-broken-endpoints`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from graphql import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FloatValueNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    ast_from_value,
    is_abstract_type,
    parse,
    print_ast,
    value_from_ast_untyped,
)
from graphql.pyutils import Undefined
from graphql.type.introspection import (
    SchemaMetaFieldDef,
    TypeMetaFieldDef,
    TypeNameMetaFieldDef,
)

from apps.data_api.request.schemas import ApiSchema
from apps.error_codes import ErrorCode
from models_registry.kinds import DECIMAL_TEXT, TIME_TEXT
from models_registry.models import Application

from .routes import Endpoint, Routes
from .variables import NUMBER, url_scalar

BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
SCHEMAS = "#/components/schemas/"
RESPONSES = "#/components/responses/"
INT32 = {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1}

# What each scalar's values are in JSON, as the data API writes them (outputs) and reads them
# (inputs: what the scalar's parse_value takes). Other scalars: any JSON.
OUTPUT_SCALARS: dict[str, dict] = {
    "Int": INT32,
    "Float": {"type": "number"},
    "String": {"type": "string"},
    "ID": {"type": "string"},
    "UUID": {"type": "string", "format": "uuid"},
    "Boolean": {"type": "boolean"},
    "Decimal": {"type": "string", "description": 'An exact decimal number as text: "12.50".'},
    "Date": {"type": "string", "format": "date"},
    "DateTime": {"type": "string", "format": "date-time"},
    "Time": {"type": "string", "pattern": r"^\d{2}:\d{2}:\d{2}(\.\d{1,6})?$"},
    "JSON": {"description": "Any JSON value."},
}
INPUT_SCALARS: dict[str, dict] = {
    **OUTPUT_SCALARS,
    "ID": {"type": ["string", "integer"]},
    "Decimal": {"type": ["string", "number"], "pattern": DECIMAL_TEXT.pattern,
                "description": 'An exact decimal number, best sent as text: "12.50".'},
    "Time": {"type": "string", "pattern": f"^(?:{TIME_TEXT.pattern})$",
             "description": "A time of day: 09:30 or 09:30:15."},
}
# What a path segment or query-string text must look like for `from_url` to read it.
URL_SCALARS: dict[str, dict] = {
    "Boolean": {"type": "boolean"},
    "Int": INT32,
    "Float": {"type": "number"},
    "Decimal": {"type": "string", "pattern": f"^{NUMBER.pattern}$",
                "description": "A decimal number, its digits passed exactly: 12.50."},
    "String": {"type": "string"},
    "ID": {"type": "string"},
    "UUID": {"type": "string", "format": "uuid"},
}

# The statuses an endpoint answers besides 200, by when: (component name, description).
ERRORS = {
    400: ("BadInput", "Bad input: a path or query-string value its variable's type cannot take "
                      "(`extensions.variable` names the variable), a variable given twice, a "
                      "missing required variable, a body that is not a JSON object, or a value "
                      "GraphQL refuses."),
    401: ("Unauthenticated", "The bearer token is not valid (unknown, revoked or expired)."),
    403: ("Forbidden", "The caller is not allowed this by the application's permissions."),
    404: ("NotFound", "No such record, or no such application."),
    409: ("Conflict", "A unique rule broken by a concurrent write."),
    413: ("TooLarge", "The body is over the application's size limit."),
    415: ("UnsupportedMediaType", "The body is not application/json."),
    422: ("Invalid", "The record breaks its model's validations."),
    429: ("RateLimited", "Rate limited: every bucket is empty; Retry-After says when to try "
                         "again."),
    500: ("ServerError", "An internal error (logged), or the endpoint no longer fits the "
                         "application's schema and a builder must fix it."),
    503: ("Unavailable", "A service Mortar needs cannot answer now; try again."),
    504: ("Timeout", "The database statement timeout fired."),
}
ALWAYS = (400, 401, 403, 404, 429, 500, 503, 504)
WITH_BODY = (413, 415)
WRITES = (409, 422)


def openapi_document(application: Application, routes: Routes, api: ApiSchema) -> dict:
    """The document for `routes` (the application's endpoints) against `api` (its schema)."""
    types = _Types(api.schema)
    paths: dict[str, dict] = {}
    broken: list[dict] = []
    shapes: dict[tuple, tuple[str, list[str]]] = {}
    taken: dict[tuple[str, str], str] = {}  # (path, method) -> endpoint name
    operation_ids: set[str] = set()
    for endpoint in routes.endpoints:
        ready = endpoint.ready(api, application.introspection_enabled)
        problems = list(ready.problems)
        template = endpoint.definition.template
        if not problems:
            shape = tuple(None if s.startswith(":") else s for s in template.segments)
            path, names = shapes.setdefault(shape, (template.openapi_path(), template.variables))
            clashes = [taken[path, m] for m in endpoint.methods if (path, m) in taken]
            if clashes:  # saved past the overlap check: such requests answer 500
                problems.append(f"It answers the same URLs and methods as {clashes[0]!r}.")
        if problems:
            broken.append({"name": endpoint.name, "url": endpoint.definition.url,
                           "methods": list(endpoint.methods), "problems": problems})
            continue
        path_names = dict(zip(template.variables, names, strict=True))
        document = parse(endpoint.definition.query)
        for method in endpoint.methods:
            taken[path, method] = endpoint.name
            operation_id = _unique(endpoint.name if len(endpoint.methods) == 1
                                   else f"{endpoint.name}_{method.lower()}", operation_ids)
            paths.setdefault(path, {})[method.lower()] = _Operation(
                endpoint, document, method, ready.declared, path_names, types,
                endpoint.comment).build(operation_id)
    components = {
        "schemas": {**dict(sorted(types.components.items())), **ERROR_SCHEMAS},
        "responses": _error_responses(),
        "securitySchemes": {"bearerAuth": {
            "type": "http", "scheme": "bearer",
            "description": "A JWT from the application's login mutation, or a server key "
                           "(mk_…). Without one, the request is anonymous."}},
    }
    content = {"paths": paths, "components": components, "x-broken-endpoints": broken}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:12]
    description = (
        f"The saved GraphQL operations of {application.name}, served as REST. Variables come "
        "from the path's segments, the query string (Boolean, String, ID, UUID, Int, Float "
        "and Decimal variables) and a JSON object body; the path and query string win over "
        "the body. Answers are what the same operation returns from "
        f"/api/{application.slug}/graphql: `data`, and `errors` when any.")
    if broken:
        description += (" Left out because they no longer fit the schema (they answer 500): "
                        + "; ".join(f"{b['name']} ({b['problems'][0]})" for b in broken))
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{application.name} REST endpoints",
                 "version": f"{api.built.version}.{digest}", "description": description},
        "servers": [{"url": f"/api/{application.slug}/rest"}],
        "security": [{}, {"bearerAuth": []}],
        **content,
    }


def _unique(wanted: str, taken: set[str]) -> str:
    found, number = wanted, 1
    while found in taken:
        number += 1
        found = f"{wanted}{number}"
    taken.add(found)
    return found


class _Operation:
    """One method of one endpoint."""

    def __init__(self, endpoint: Endpoint, document: DocumentNode, method: str,
                 declared: dict[str, tuple[GraphQLInputType, bool]],
                 path_names: dict[str, str], types: _Types, comment: str):
        self.endpoint, self.document, self.method = endpoint, document, method
        self.declared, self.path_names = declared, path_names
        self.types, self.comment = types, comment.strip()
        self.operation = next(d for d in self.document.definitions
                              if isinstance(d, OperationDefinitionNode))
        self.defaults = {node.variable.name.value: _default(node.default_value, type_)
                         for node in self.operation.variable_definitions
                         if node.default_value is not None
                         for type_ in [declared[node.variable.name.value][0]]}

    def build(self, operation_id: str) -> dict:
        body = self.method in BODY_METHODS
        route = self.path_names
        others = [name for name in self.declared if name not in route]
        operation: dict[str, Any] = {
            "operationId": operation_id,
            "summary": self.comment.splitlines()[0] if self.comment else self.endpoint.name,
            "description": self._description(body, others),
            "parameters": [self._path_parameter(name, public)
                           for name, public in route.items()]
                          + [self._query_parameter(name, body) for name in others
                             if url_scalar(self.declared[name][0]) is not None],
        }
        if self.method == "GET":
            operation["parameters"].append({
                "name": "If-None-Match", "in": "header", "required": False,
                "schema": {"type": "string"},
                "description": "The ETag of an earlier answer: 304 while it is unchanged."})
        if body and others:
            operation["requestBody"] = self._request_body(others)
        if not operation["parameters"]:
            del operation["parameters"]
        operation["responses"] = self._responses(body)
        return operation

    def _description(self, body: bool, others: list[str]) -> str:
        parts = [self.comment] if self.comment else []
        parts.append(f"Runs:\n\n```graphql\n{print_ast(self.operation).strip()}\n```")
        body_only = [f"${n}" for n in others if url_scalar(self.declared[n][0]) is None]
        if body_only and not body:
            parts.append(f"{', '.join(body_only)} can only be sent in a JSON body, which "
                         f"{self.method} requests do not carry.")
        if body and any(url_scalar(self.declared[name][0]) for name in others):
            parts.append("Variables documented as query parameters may be sent in the body "
                         "instead; the query string wins when both give one.")
        return "\n\n".join(parts)

    def _required(self, name: str) -> bool:
        type_, has_default = self.declared[name]
        return isinstance(type_, GraphQLNonNull) and not has_default

    def _path_parameter(self, name: str, public: str) -> dict:
        type_ = self.declared[name][0]
        schema = dict(URL_SCALARS[url_scalar(type_)])
        if schema["type"] == "string":
            schema.update(minLength=1, pattern=schema.get("pattern", "^[^/]+$"))
        described = f"${name} ({type_})"
        if public != name:  # another endpoint at this path names the segment first
            described += f", the segment OpenAPI calls {{{public}}}"
        return {"name": public, "in": "path", "required": True, "schema": schema,
                "description": described}

    def _query_parameter(self, name: str, body: bool) -> dict:
        type_ = self.declared[name][0]
        scalar = url_scalar(type_)
        schema = dict(URL_SCALARS[scalar])
        default = self.defaults.get(name)
        if default is not None:  # (a null default is what leaving it out gives anyway)
            schema["default"] = default if schema["type"] != "string" else str(default)
        parameter = {"name": name, "in": "query",
                     "required": self._required(name) and not body,
                     "schema": schema, "description": f"${name} ({type_})"}
        if scalar == "Boolean":
            parameter["allowEmptyValue"] = True
            parameter["description"] += f"; ?{name} alone means true"
        if not isinstance(type_, GraphQLNonNull) and default is None:
            parameter["description"] += "; null when left out"
        return parameter

    def _request_body(self, names: list[str]) -> dict:
        properties = {}
        for name in names:
            schema = self.types.input_schema(self.declared[name][0])
            if name in self.defaults:
                schema = {**schema, "default": self.defaults[name]}
            properties[name] = schema
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        required = [name for name in names if self._required(name)]
        if required:
            schema["required"] = required
        return {"required": bool(required),
                "description": "The variables, as a JSON object; names the operation does not "
                               "declare are ignored.",
                "content": {"application/json": {"schema": schema}}}

    def _responses(self, body: bool) -> dict:
        data = _Selection(self.types.schema, self.document).object_schema(
            self.types.root(self.operation), [self.operation.selection_set])
        ok: dict[str, Any] = {
            "description": "The operation's answer: `data` with exactly the selected keys, and "
                           "`errors` when part of it failed.",
            "content": {"application/json": {"schema": {
                "type": "object", "required": ["data"], "additionalProperties": False,
                "properties": {"data": data, "errors": {
                    "type": "array", "items": {"$ref": SCHEMAS + "GraphQLError"}}}}}}}
        responses: dict[str, Any] = {"200": ok}
        if self.method == "GET":
            ok["headers"] = {"ETag": {"schema": {"type": "string"},
                                      "description": "Send it as If-None-Match to revalidate."}}
            responses["304"] = {"description": "Not modified: the If-None-Match ETag is "
                                               "current."}
        statuses = set(ALWAYS)
        if body:
            statuses.update(WITH_BODY)
        if self.endpoint.definition.is_mutation:
            statuses.update(WRITES)
        for status in sorted(statuses):
            responses[str(status)] = {"$ref": RESPONSES + ERRORS[status][0]}
        return responses


class _Types:
    """Input types as JSON Schema; named input objects become components (they may nest
    themselves: a filter's _and and _or)."""

    def __init__(self, schema: GraphQLSchema):
        self.schema = schema
        self.components: dict[str, dict] = {}

    def root(self, operation: OperationDefinitionNode) -> GraphQLObjectType:
        return self.schema.get_root_type(operation.operation)

    def input_schema(self, type_: GraphQLInputType) -> dict:
        if isinstance(type_, GraphQLNonNull):
            return self._input(type_.of_type)
        return _nullable(self._input(type_))

    def _input(self, type_: GraphQLInputType) -> dict:
        if isinstance(type_, GraphQLList):
            return {"type": "array", "items": self.input_schema(type_.of_type)}
        if isinstance(type_, GraphQLInputObjectType):
            if type_.name not in self.components:
                self.components[type_.name] = {}  # taken before its fields refer to it
                self.components[type_.name] = self._input_object(type_)
            return {"$ref": SCHEMAS + type_.name}
        return _leaf(type_, INPUT_SCALARS)

    def _input_object(self, type_: GraphQLInputObjectType) -> dict:
        properties, required = {}, []
        for name, field in type_.fields.items():
            schema = self.input_schema(field.type)
            if field.default_value is not Undefined:
                schema = {**schema, "default": value_from_ast_untyped(
                    ast_from_value(field.default_value, field.type))}
            elif isinstance(field.type, GraphQLNonNull):
                required.append(name)
            if field.description:
                schema = {**schema, "description": field.description}
            properties[name] = schema
        found: dict[str, Any] = {"type": "object", "properties": properties,
                                 "additionalProperties": False}
        if required:
            found["required"] = required
        if type_.description:
            found["description"] = type_.description
        return found


class _Selection:
    """The JSON Schema of what an operation's selection returns: objects with exactly the
    selected keys (aliases as written), all required unless @skip/@include or a fragment on
    another type may leave them out; nullable where the schema says so."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode):
        self.schema = schema
        self.fragments = {d.name.value: d for d in document.definitions
                          if isinstance(d, FragmentDefinitionNode)}

    def output_schema(self, type_: GraphQLOutputType, selections: list[SelectionSetNode]
                      ) -> dict:
        if isinstance(type_, GraphQLNonNull):
            return self._output(type_.of_type, selections)
        return _nullable(self._output(type_, selections))

    def _output(self, type_: GraphQLOutputType, selections: list[SelectionSetNode]) -> dict:
        if isinstance(type_, GraphQLList):
            return {"type": "array", "items": self.output_schema(type_.of_type, selections)}
        if isinstance(type_, (GraphQLScalarType, GraphQLEnumType)):
            return _leaf(type_, OUTPUT_SCALARS)
        return self.object_schema(type_, selections)

    def object_schema(self, parent: GraphQLNamedType, selections: list[SelectionSetNode]
                      ) -> dict:
        fields: dict[str, list[tuple[FieldNode, GraphQLNamedType]]] = {}
        always: set[str] = set()
        for selection_set in selections:
            self._collect(parent, selection_set, fields, always, conditional=False)
        properties = {}
        for key, found in fields.items():
            node, owner = found[0]
            if node.name.value == "__typename":
                names = ([t.name for t in self.schema.get_possible_types(owner)]
                         if is_abstract_type(owner) else [owner.name])
                properties[key] = {"type": "string", "enum": names}
                continue
            definition = self._field(owner, node.name.value)
            schema = self.output_schema(definition.type, [n.selection_set for n, _ in found
                                                          if n.selection_set])
            if definition.description and "description" not in schema:
                schema = {**schema, "description": definition.description}
            properties[key] = schema
        result: dict[str, Any] = {"type": "object", "properties": properties,
                                  "additionalProperties": False}
        required = [key for key in properties if key in always]
        if required:
            result["required"] = required
        return result

    def _field(self, owner: GraphQLNamedType, name: str) -> GraphQLField:
        if name == "__schema":
            return SchemaMetaFieldDef
        if name == "__type":
            return TypeMetaFieldDef
        if name == "__typename":
            return TypeNameMetaFieldDef
        return owner.fields[name]

    def _collect(self, parent: GraphQLNamedType, selection_set: SelectionSetNode,
                 fields: dict, always: set[str], conditional: bool) -> None:
        for selection in selection_set.selections:
            included = _included(selection)
            if included is False:
                continue
            maybe = conditional or included is None
            if isinstance(selection, FieldNode):
                key = (selection.alias or selection.name).value
                fields.setdefault(key, []).append((selection, parent))
                if not maybe:
                    always.add(key)
                continue
            if isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                condition, inner = fragment.type_condition, fragment.selection_set
            else:
                condition, inner = selection.type_condition, selection.selection_set
            target = parent if condition is None else self.schema.get_type(condition.name.value)
            if target is parent or (is_abstract_type(target) and not is_abstract_type(parent)
                                    and self.schema.is_sub_type(target, parent)):
                self._collect(parent, inner, fields, always, maybe)
            elif is_abstract_type(parent):  # applies to some of its types only
                self._collect(target, inner, fields, always, True)
            # else: a fragment on another object type never applies here


def _included(selection) -> bool | None:
    """Whether @skip/@include keep a selection: True, False, or None (it depends on a
    variable)."""
    result: bool | None = True
    for directive in selection.directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            continue
        value = next((a.value for a in directive.arguments if a.name.value == "if"), None)
        if isinstance(value, BooleanValueNode):
            if value.value == (name == "skip"):
                return False
        else:
            result = None
    return result


def _default(node: ValueNode, type_: GraphQLInputType) -> Any:
    """A variable's default value as JSON; a decimal's as its digits, exactly."""
    if url_scalar(type_) == "Decimal" and isinstance(node, (IntValueNode, FloatValueNode)):
        return node.value
    return value_from_ast_untyped(node)


def _leaf(type_: GraphQLNamedType, scalars: dict[str, dict]) -> dict:
    if isinstance(type_, GraphQLEnumType):
        return {"type": "string", "enum": list(type_.values)}
    return dict(scalars.get(type_.name, {"description": f"A {type_.name} value."}))


def _nullable(schema: dict) -> dict:
    """`schema` or null (3.1: a list of types)."""
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        found = {**schema, "type": [*types, "null"]}
        if "enum" in schema:
            found["enum"] = [*schema["enum"], None]
        return found
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    return schema  # any value already


ERROR_SCHEMAS = {
    "GraphQLError": {
        "type": "object", "required": ["message", "extensions"],
        "properties": {
            "message": {"type": "string"},
            "locations": {"type": "array", "items": {
                "type": "object", "required": ["line", "column"],
                "properties": {"line": {"type": "integer"}, "column": {"type": "integer"}}}},
            "path": {"type": "array", "items": {"type": ["string", "integer"]}},
            "extensions": {"type": "object", "required": ["code"], "properties": {
                "code": {"type": "string", "enum": [code.value for code in ErrorCode]},
                "variable": {"type": "string",
                             "description": "The variable a 400 is about, when one is."}}},
        },
    },
    "ErrorResponse": {
        "type": "object", "required": ["errors"],
        "properties": {
            "errors": {"type": "array", "minItems": 1,
                       "items": {"$ref": SCHEMAS + "GraphQLError"}},
            "data": {"type": ["object", "null"],
                     "description": "Present when the operation ran: every field null."},
        },
    },
}


def _error_responses() -> dict:
    responses = {}
    for status, (name, description) in ERRORS.items():
        response: dict[str, Any] = {"description": description, "content": {
            "application/json": {"schema": {"$ref": SCHEMAS + "ErrorResponse"}}}}
        if status == 401:
            response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        if status == 429:
            response["headers"] = {"Retry-After": {"schema": {"type": "integer"},
                                                   "description": "Seconds to wait."}}
        responses[name] = response
    return responses
