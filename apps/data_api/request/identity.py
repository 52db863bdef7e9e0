"""The identity mutations of every schema (login, refreshToken, revokeRefreshToken,
generateJwt): their arguments to `apps.identity`, its answers to the selected JSON."""

from __future__ import annotations

import contextlib
import json

from django.db import transaction
from django.http import HttpRequest
from graphql import GraphQLField, get_named_type
from graphql.execution.collect_fields import collect_sub_fields
from graphql.execution.values import get_argument_values
from graphql.language import FieldNode

from apps.identity import sessions
from apps.identity.principals import Principal

from ..context import Context


def identity_json(context: Context, action: str, field_def: GraphQLField,
                  nodes: list[FieldNode], principal: Principal,
                  request: HttpRequest | None) -> str:
    """The JSON text of one identity field, run in a transaction of its own."""
    application = context.application
    args = get_argument_values(field_def, nodes[0], context.variables)
    context.admit()  # a login or a refresh writes (tokens, audit entries): only when served
    # login opens its own once the password is checked (see sessions.login)
    with contextlib.nullcontext() if action == "login" else transaction.atomic():
        if action == "login":
            result = sessions.login(request, application, args["authProfileUuid"],
                                    args["username"], args["password"])
        elif action == "refreshToken":
            result = sessions.refresh(application, args["token"], request)
        elif action == "revokeRefreshToken":
            result = sessions.revoke(application, args["token"], request)
        else:
            result = sessions.generate_jwt(application, principal, args["userId"],
                                           args["authProfileUuid"], args.get("customFields"))
    result_type = get_named_type(field_def.type)
    selected = collect_sub_fields(context.schema, context.fragments, context.variables,
                                  result_type, nodes)
    members = [json.dumps(key) + ":" + json.dumps(
        result_type.name if key_nodes[0].name.value == "__typename"
        else result[key_nodes[0].name.value]) for key, key_nodes in selected.items()]
    return "{" + ",".join(members) + "}"
