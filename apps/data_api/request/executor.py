"""Run a GraphQL request against an application: parse and validate (cached by document
text), check limits, then run each top-level field by its role: a read as one SQL statement
(`read`), a mutation in a transaction of its own (`write`), an identity field (`identity`).

Documents that ask only for `allX`/`oneX`/`node`/`nodes` (the usual case) never enter
graphql-core's executor: each field's JSON text comes from the database and is spliced into
the response. Others (introspection) run through graphql-core, whose resolvers call the same
planner.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from graphql import (
    GraphQLError,
    GraphQLString,
    OperationType,
    execute,
    get_operation_ast,
    is_non_null_type,
    parse,
    value_from_ast,
)
from graphql.execution.values import get_variable_values
from graphql.language import FieldNode, FragmentDefinitionNode

from apps.identity.access import access_for
from apps.identity.principals import ANONYMOUS, Principal
from apps.ratelimit.admission import NotAdmitted, require_admission
from models_registry.events import NOWHERE, Origin
from models_registry.models import Application

from ..context import Context
from ..errors import (
    ApiError,
    RequestError,
    coded,
    error_entry,
    forbidden_entry,
    kind_refusals,
)
from ..freshness import Freshness, StaleApplication
from ..read.plan_cache import request_shape
from ..read.results import field_json, field_value
from ..schema.roles import READ_ACTIONS, role_of
from ..write.actions import MUTATIONS
from .documents import Prepared
from .identity import identity_json
from .limits import check_limits
from .schemas import ApiSchema, api_schema
from .timeout import statement_timeout

CLIENT_MUTATION_ID = "clientMutationId"  # the argument echoed back in extensions


def run_query(application: Application, freshness: Freshness, text: str,
              variables: dict | None, operation_name: str | None, method: str = "POST",
              principal: Principal = ANONYMOUS, request: HttpRequest | None = None) -> str:
    """The JSON text of the response. Raises RequestError when nothing can be executed, and
    StaleApplication when `application` turned out not to be the current one."""
    api = api_schema(application)
    prepared = api.documents.prepare(text, application.introspection_enabled)
    return run_prepared(api, application, freshness, prepared, text, variables, operation_name,
                        method, principal, request)


def run_prepared(api: ApiSchema, application: Application, freshness: Freshness,
                 prepared: Prepared, text: str, variables: dict | None,
                 operation_name: str | None, method: str = "POST",
                 principal: Principal = ANONYMOUS, request: HttpRequest | None = None) -> str:
    """`run_query` for a document already prepared against `api` (a saved endpoint's)."""
    document = prepared.document
    if document is None:
        raise RequestError(prepared.errors)
    operation = api.operations.get(document, operation_name)
    is_mutation = operation.node.operation == OperationType.MUTATION
    if is_mutation and method == "GET":
        raise RequestError.bad_input("Mutations are sent with POST, not GET.", status=405)
    if prepared.errors:
        raise RequestError(prepared.errors)
    coerced = get_variable_values(api.schema, operation.node.variable_definitions or [],
                                  variables or {},
                                  hide_suggestions=not application.introspection_enabled)
    if isinstance(coerced, list):
        refused = kind_refusals(coerced) if is_mutation else None
        if refused is not None:
            return json.dumps({"errors": [error_entry(refused)], "data": None})
        raise RequestError([error_entry(error) for error in coerced])
    coerced.update(prepared.literals)
    top_level, measured = operation.fields(coerced)
    try:
        check_limits(measured, application)
    except ApiError as error:
        return json.dumps({"errors": [error_entry(error)], "data": None})
    context = Context(api.built, api.schema, application, freshness,
                      access_for(application, principal), operation.fragments, coerced,
                      Origin.of(request) if is_mutation else NOWHERE,  # only writes note it
                      lambda: require_admission(request))
    if is_mutation:
        freshness.confirm()  # never write through a schema that changed meanwhile
        with statement_timeout(application.statement_timeout_ms):
            return _run_mutations(context, top_level, principal, request)
    with statement_timeout(application.statement_timeout_ms):
        if all(_plannable(context, nodes[0].name.value) for nodes in top_level.values()):
            context.plans = api.plans
            context.shape = request_shape(operation, operation.where_scalars, coerced,
                                          freshness.fingerprint, principal)
            return _run_planned(context, top_level)
        node = operation.node
        if prepared.literals:  # graphql-core coerces declared variables only: use the text
            document = parse(text)
            node = get_operation_ast(document, operation_name)
            context.fragments = {d.name.value: d for d in document.definitions
                                 if isinstance(d, FragmentDefinitionNode)}
        return _run_with_graphql_core(context, document, node)


def _plannable(context: Context, name: str) -> bool:
    if name == "__typename":
        return True
    field_def = context.schema.query_type.fields.get(name)
    role = role_of(field_def) if field_def is not None else None
    return role is not None and role.action in READ_ACTIONS


def _read_json(context: Context, name: str, nodes, forbidden: list | None = None) -> str:
    field_def = context.schema.query_type.fields[name]
    role = role_of(field_def)
    return field_json(context, role.action, role.model, field_def, nodes, forbidden)


def _run_planned(context: Context, top_level) -> str:
    members, errors = [], []
    for key, nodes in top_level.items():
        name = nodes[0].name.value
        if name == "__typename":
            members.append(json.dumps(key) + ':"Query"')
            continue
        forbidden: list[tuple[list[str], str]] = []
        try:
            value = _read_json(context, name, nodes, forbidden)
        except StaleApplication:
            raise
        except Exception as error:  # one failing field leaves the others' data
            context.freshness.confirm()  # the error may come from a schema changed meanwhile
            errors.append(_field_error(error, key, nodes))
            value = "null"
        errors.extend(forbidden_entry([key, *path], why) for path, why in forbidden)
        members.append(json.dumps(key) + ":" + value)
    return _response(members, errors)


def _run_mutations(context: Context, top_level, principal, request) -> str:
    """Each top-level field in order, each in a transaction of its own. A failing field is
    null with its error; when its type is a non-null list, `data` is null and the fields after
    it do not run (GraphQL's rule for serial execution). The clientMutationId of each field
    that ran is echoed in the response's extensions, under the field's response key."""
    members, errors = [], []
    echoed: dict[str, str] = {}
    for key, nodes in top_level.items():
        name = nodes[0].name.value
        if name == "__typename":
            members.append(json.dumps(key) + ':"Mutation"')
            continue
        field_def = context.schema.mutation_type.fields[name]
        role = role_of(field_def)
        client_id = _client_mutation_id(field_def, nodes[0], context.variables)
        if client_id is not None:
            echoed[key] = client_id
        try:
            if role.model is None:
                value = identity_json(context, role.action, field_def, nodes, principal,
                                      request)
            else:
                value = MUTATIONS[role.action](context, role.model, field_def, nodes).run()
        except NotAdmitted:
            raise
        except Exception as error:
            errors.append(_field_error(error, key, nodes))
            if is_non_null_type(field_def.type):
                return json.dumps({"errors": errors, "data": None, **_extensions(echoed)})
            value = "null"
        members.append(json.dumps(key) + ":" + value)
    return _response(members, errors, _extensions(echoed))


def _client_mutation_id(field_def, node: FieldNode, variables: dict) -> str | None:
    """The field's clientMutationId argument (validated and coerced already: read from the
    node, not by coercing every argument again); None when absent or null."""
    if CLIENT_MUTATION_ID not in field_def.args:
        return None
    for argument in node.arguments:
        if argument.name.value == CLIENT_MUTATION_ID:
            value = value_from_ast(argument.value, GraphQLString, variables)
            return value if isinstance(value, str) else None
    return None


def _extensions(echoed: dict[str, str]) -> dict:
    """The response's top-level extensions member: none when no field sent a
    clientMutationId, so responses without one are as they always were."""
    return {"extensions": {CLIENT_MUTATION_ID: echoed}} if echoed else {}


def _field_error(error: Exception, key: str, nodes: list) -> dict:
    located = GraphQLError("", nodes=nodes[0])
    return error_entry(coded(error), path=[key], locations=located.locations)


def _response(members: list[str], errors: list[dict], extensions: dict | None = None) -> str:
    """The response's JSON text from its data members' JSON texts (errors first, when any:
    the REST endpoints look for them there; `_extensions` last)."""
    body = '"data":{' + ",".join(members) + "}"
    if errors:
        body = '"errors":' + json.dumps(errors) + "," + body
    if extensions:
        body += ',"extensions":' + json.dumps(extensions["extensions"])
    return "{" + body + "}"


def _run_with_graphql_core(context: Context, document, operation) -> str:
    def resolve_root(root, info, **args):
        field_def = info.parent_type.fields[info.field_name]
        role = role_of(field_def)
        if role is None:
            return None  # _empty, the query field of an application without models
        return field_value(context, role.action, role.model, field_def, list(info.field_nodes))

    def resolve_member(source, info, **args):
        if isinstance(source, dict):
            return source.get(info.path.key)
        return resolve_root(source, info, **args)

    result = execute(context.schema, document, root_value=None,
                     variable_values=context.variables,
                     operation_name=operation.name.value if operation.name else None,
                     field_resolver=resolve_member)
    for error in result.errors or []:
        if isinstance(error.original_error, StaleApplication):
            raise error.original_error
    body: dict[str, Any] = {}
    if result.errors:
        body["errors"] = [error_entry(coded(e.original_error) if e.original_error else e,
                                      path=e.path) for e in result.errors]
    body["data"] = result.data
    return json.dumps(body)
