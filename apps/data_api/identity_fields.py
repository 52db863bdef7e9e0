"""The identity mutations of every schema (login, refreshToken, revokeRefreshToken,
generateJwt): their arguments to `apps.identity`, its answers to the selected JSON."""

from __future__ import annotations

import json

from django.http import HttpRequest
from graphql import get_named_type
from graphql.execution.collect_fields import collect_sub_fields
from graphql.execution.values import get_argument_values

from apps.identity import sessions
from apps.identity.principals import Principal

from .calls import Call
from .mutation_schema import IDENTITY_FIELDS


def is_identity_field(name: str) -> bool:
    return name in IDENTITY_FIELDS


def identity_json(call: Call, principal: Principal, request: HttpRequest | None,
                  nodes: list) -> str:
    api, application = call.api, call.application
    fragments, variables = call.fragments, call.variables
    name = nodes[0].name.value
    field_def = api.schema.mutation_type.fields[name]
    args = get_argument_values(field_def, nodes[0], variables)
    if name == "login":
        result = sessions.login(request, application, args["authProfileUuid"],
                                args["username"], args["password"])
    elif name == "refreshToken":
        result = sessions.refresh(application, args["token"])
    elif name == "revokeRefreshToken":
        result = sessions.revoke(application, args["token"])
    else:
        result = sessions.generate_jwt(application, principal, args["userId"],
                                       args["authProfileUuid"], args.get("customFields"))
    result_type = get_named_type(field_def.type)
    selected = collect_sub_fields(api.schema, fragments, variables, result_type, nodes)
    members = [json.dumps(key) + ":" + json.dumps(
        result_type.name if key_nodes[0].name.value == "__typename"
        else result[key_nodes[0].name.value]) for key, key_nodes in selected.items()]
    return "{" + ",".join(members) + "}"
