"""Run a GraphQL request against an application: parse and validate (cached by document
text), check limits, then plan and run each top-level read field as one SQL statement, or each
mutation field in a transaction of its own (`mutations`).

Documents that ask only for `allX`/`oneX` (the usual case) never enter graphql-core's executor:
each field's JSON text comes from the database and is spliced into the response. Others
(introspection) run through graphql-core, whose resolvers call the same planner.
"""

from __future__ import annotations

import json
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any

from django.db import DataError, IntegrityError, OperationalError, connection, transaction
from django.http import HttpRequest
from graphql import (
    GraphQLError,
    GraphQLSchema,
    OperationType,
    execute,
    get_operation_ast,
    is_non_null_type,
    parse,
)
from graphql.execution.values import get_variable_values
from graphql.language import FragmentDefinitionNode

from apps.identity.access import access_for
from apps.identity.principals import ANONYMOUS, Principal
from apps.identity.sessions import Refused
from models_registry.models import Application
from models_registry.runtime import RuntimeModels, runtime_models

from .calls import Call
from .documents import DocumentCache
from .errors import (
    ApiError,
    BadUserInput,
    Conflict,
    RequestError,
    Timeout,
    ValidationFailed,
    error_entry,
    kind_refusals,
)
from .freshness import Freshness, StaleApplication
from .identity_fields import identity_json, is_identity_field
from .limits import check_limits
from .mutations import Mutation
from .operations import OperationCache
from .planner import Planner, result_set_json
from .schema import build_schema


@dataclass
class ApiSchema:
    built: RuntimeModels
    schema: GraphQLSchema
    record_types: set[str]
    documents: DocumentCache
    operations: OperationCache


_schemas: dict[int, ApiSchema] = {}
_schemas_lock = threading.Lock()


def api_schema(application: Application) -> ApiSchema:
    """The application's schema at its current version; built along with its runtime models."""
    built = runtime_models(application)
    cached = _schemas.get(application.pk)
    if cached is not None and cached.built is built:
        return cached
    with _schemas_lock:
        cached = _schemas.get(application.pk)
        if cached is None or cached.built is not built:
            record_types = {cls._mortar.name for cls in built.by_id.values()}
            schema = build_schema(built)
            cached = ApiSchema(built, schema, record_types, DocumentCache(schema),
                               OperationCache(schema, record_types))
            _schemas[application.pk] = cached
    return cached


def run_query(application: Application, freshness: Freshness, text: str, variables: Any,
              operation_name: str | None, method: str = "POST",
              principal: Principal = ANONYMOUS, request: HttpRequest | None = None) -> str:
    """The JSON text of the response. Raises RequestError when nothing can be executed, and
    StaleApplication when `application` turned out not to be the current one."""
    api = api_schema(application)
    prepared = api.documents.prepare(text, application.introspection_enabled)
    document = prepared.document
    if document is None:
        raise RequestError(prepared.errors)
    operation = api.operations.get(document, operation_name)
    if operation.node.operation != OperationType.QUERY:
        if method == "GET":
            raise RequestError([{"message": "Mutations are sent with POST, not GET.",
                                 "extensions": {"code": "BAD_USER_INPUT"}}], status=405)
    if prepared.errors:
        raise RequestError(prepared.errors)
    if variables is not None and not isinstance(variables, dict):
        raise RequestError([{"message": "variables must be a JSON object.",
                             "extensions": {"code": "BAD_USER_INPUT"}}])
    coerced = get_variable_values(api.schema, operation.node.variable_definitions or [],
                                  variables or {})
    if isinstance(coerced, list):
        refused = (kind_refusals(coerced)
                   if operation.node.operation == OperationType.MUTATION else None)
        if refused is not None:
            return json.dumps({"errors": [error_entry(refused)], "data": None})
        raise RequestError([error_entry(error) for error in coerced])
    coerced.update(prepared.literals)
    fragments = operation.fragments
    top_level, measured = operation.fields(coerced)
    try:
        check_limits(measured, application)
    except ApiError as error:
        return json.dumps({"errors": [error_entry(error)], "data": None})
    call = Call(api, application, freshness, access_for(application, principal), fragments,
                coerced)
    if operation.node.operation == OperationType.MUTATION:
        freshness.confirm()  # never write through a schema that changed meanwhile
        with statement_timeout(application.statement_timeout_ms):
            return _run_mutations(call, top_level, principal, request)
    with statement_timeout(application.statement_timeout_ms):
        if all(_plannable(nodes[0].name.value, api) for nodes in top_level.values()):
            return _run_planned(call, top_level)
        node = operation.node
        if prepared.literals:  # graphql-core coerces declared variables only: use the text
            document = parse(text)
            node = get_operation_ast(document, operation_name)
            call.fragments = {d.name.value: d for d in document.definitions
                              if isinstance(d, FragmentDefinitionNode)}
        return _run_with_graphql_core(call, document, node)


def _plannable(name: str, api: ApiSchema) -> bool:
    return name == "__typename" or (
        name in api.schema.query_type.fields and (name.startswith("all") or name.startswith("one"))
        and name[3:] in api.record_types
    )


def _run_planned(call: Call, top_level) -> str:
    members, errors = [], []
    for key, nodes in top_level.items():
        name = nodes[0].name.value
        if name == "__typename":
            members.append(json.dumps(key) + ':"Query"')
            continue
        forbidden: list[list[str]] = []
        try:
            value = field_json(call, name, nodes, forbidden)
        except StaleApplication:
            raise
        except Exception as error:  # one failing field leaves the others' data
            call.freshness.confirm()  # the error may come from a schema changed meanwhile
            errors.append(_field_error(error, key, nodes))
            value = "null"
        errors.extend(_forbidden_entry([key, *path]) for path in forbidden)
        members.append(json.dumps(key) + ":" + value)
    return _response(members, errors)


def _forbidden_entry(path: list[str]) -> dict:
    """A relation field left empty because the caller may not read its records."""
    return {"message": f"You may not read the records of {path[-1]}; it is left empty.",
            "path": path, "extensions": {"code": "FORBIDDEN"}}


def _run_mutations(call: Call, top_level, principal, request) -> str:
    """Each top-level field in order, each in a transaction of its own. A failing field is
    null with its error; when its type is a non-null list, `data` is null and the fields after
    it do not run (GraphQL's rule for serial execution)."""
    members, errors = [], []
    for key, nodes in top_level.items():
        name = nodes[0].name.value
        if name == "__typename":
            members.append(json.dumps(key) + ':"Mutation"')
            continue
        try:
            with transaction.atomic():
                if is_identity_field(name):
                    value = identity_json(call, principal, request, nodes)
                else:
                    value = Mutation(call, nodes).run()
        except Exception as error:
            errors.append(_field_error(error, key, nodes))
            if is_non_null_type(call.api.schema.mutation_type.fields[name].type):
                return json.dumps({"errors": errors, "data": None})
            value = "null"
        members.append(json.dumps(key) + ":" + value)
    return _response(members, errors)


def _field_error(error: Exception, key: str, nodes: list) -> dict:
    located = GraphQLError("", nodes=nodes[0])
    return error_entry(_graphql_error(error), path=[key], locations=located.locations)


def _response(members: list[str], errors: list[dict]) -> str:
    """The response's JSON text from its data members' JSON texts."""
    data = '"data":{' + ",".join(members) + "}"
    if errors:
        return '{"errors":' + json.dumps(errors) + "," + data + "}"
    return "{" + data + "}"


def _graphql_error(error: Exception) -> Exception:
    if isinstance(error, GraphQLError) and error.original_error is None:
        return BadUserInput(error.message)  # argument coercion
    if isinstance(error, Refused):
        return ApiError(error.message, code=error.code)
    if isinstance(error, IntegrityError):
        return _integrity_error(error)
    if isinstance(error, UnicodeEncodeError):
        return BadUserInput("Text must be valid Unicode: a lone surrogate (such as \\ud800) "
                            "can be neither stored nor searched for.")
    if isinstance(error, DataError):
        return BadUserInput("The database cannot take one of the values (text with a NUL "
                            "character, or a number out of its range); nothing was changed.")
    if isinstance(error, OperationalError) and _is_timeout(error):
        return Timeout("The query ran longer than this application's statement timeout; "
                       "narrow it with where or a smaller page.")
    return error


def _integrity_error(error: IntegrityError) -> ApiError:
    """A rule the database itself enforced; checked beforehand, so met here only in a race."""
    cause = error.__cause__
    if getattr(cause, "sqlstate", None) == "23505" or "UNIQUE constraint" in str(error):
        return Conflict("Another request wrote a record with the same unique value at the "
                        "same time; read the current data and try again.")
    return ValidationFailed("The database refused the change (a required value missing or a "
                            "related record gone meanwhile); nothing was changed.")


def field_json(call: Call, name: str, nodes, forbidden: list | None = None) -> str:
    """The JSON text of one top-level allX/oneX field: one statement (a second only to count
    when a page past the end came back empty). Its last column says whether the application
    row is unchanged, checked before the rows are used. The paths of relation fields left
    empty because the caller may not read them are added to `forbidden`."""
    planner = Planner(call.api.built, call.api.schema, call.fragments, call.variables,
                      call.application, call.freshness.column(), call.access)
    plan = planner.plan(name, nodes)
    if forbidden is not None:
        forbidden.extend(planner.forbidden)
    with connection.cursor() as cursor:
        cursor.execute(plan.sql.text, plan.sql.params)
        rows = cursor.fetchall()
        if rows:
            call.freshness.check(rows[0][-1])
        if plan.shape == "one":
            return rows[0][0] if rows else "null"
        if plan.shape == "count":
            return result_set_json(plan, [], rows[0][0])
        count = None
        if plan.count_sql is not None:
            if rows:
                count = rows[0][1]
            elif plan.offset:
                cursor.execute(plan.count_sql.text, plan.count_sql.params)
                count = cursor.fetchone()[0]
            else:
                count = 0
    return result_set_json(plan, rows, count)


def _run_with_graphql_core(call: Call, document, operation) -> str:
    api, variables = call.api, call.variables

    def resolve_root(root, info, **args):
        return json.loads(field_json(call, info.field_name, list(info.field_nodes)))

    def resolve_member(source, info, **args):
        if isinstance(source, dict):
            return source.get(info.path.key)
        return resolve_root(source, info, **args)

    result = execute(api.schema, document, root_value=None, variable_values=variables,
                     operation_name=operation.name.value if operation.name else None,
                     field_resolver=resolve_member)
    for error in result.errors or []:
        if isinstance(error.original_error, StaleApplication):
            raise error.original_error
    body: dict[str, Any] = {}
    if result.errors:
        body["errors"] = [error_entry(_graphql_error_from(e), path=e.path) for e in result.errors]
    body["data"] = result.data
    return json.dumps(body)


def _graphql_error_from(error: GraphQLError):
    if error.original_error is not None:
        return _graphql_error(error.original_error)
    return error


# -- statement timeout -------------------------------------------------------------------

_timeouts_set: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class statement_timeout:
    """Stop statements that run longer than `ms`.

    PostgreSQL: the session's statement_timeout, set only when this connection's value differs
    (no statement per request). SQLite: a progress handler that interrupts past the deadline.
    """

    def __init__(self, ms: int):
        self.ms = ms

    def __enter__(self):
        connection.ensure_connection()
        raw = connection.connection
        if connection.vendor == "postgresql":
            if _timeouts_set.get(raw) != self.ms:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('statement_timeout', %s, false)",
                                   [f"{self.ms}ms"])
                _timeouts_set[raw] = self.ms
        elif connection.vendor == "sqlite":
            deadline = time.monotonic() + self.ms / 1000
            raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        return self

    def __exit__(self, *exc):
        if connection.vendor == "sqlite" and connection.connection is not None:
            connection.connection.set_progress_handler(None, 0)
        return False


def _is_timeout(error: OperationalError) -> bool:
    cause = error.__cause__
    sqlstate = getattr(cause, "sqlstate", None)
    return sqlstate == "57014" or "interrupted" in str(error)

