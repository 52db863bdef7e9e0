"""The identity mutations of every schema: login, refreshToken, revokeRefreshToken and
generateJwt, and their result types (run by `request.identity`)."""

from __future__ import annotations

from graphql import (
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLField,
    GraphQLInt,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
)

from .mutations import CLIENT_MUTATION_ID
from .roles import FieldRole, with_role
from .scalars import JSON

_string = GraphQLString
LoginResult = GraphQLObjectType("LoginResult", {
    "isValid": GraphQLField(GraphQLNonNull(GraphQLBoolean)),
    "jwtToken": GraphQLField(_string), "refreshToken": GraphQLField(_string)})
RefreshResult = GraphQLObjectType("RefreshResult", {
    "isValid": GraphQLField(GraphQLNonNull(GraphQLBoolean)),
    "jwtToken": GraphQLField(_string), "refreshToken": GraphQLField(_string),
    "refreshExpiresIn": GraphQLField(GraphQLInt, description="Seconds the new refresh token "
                                                             "lasts.")})
RevokeResult = GraphQLObjectType("RevokeResult", {
    "removed": GraphQLField(GraphQLNonNull(GraphQLBoolean)), "refreshId": GraphQLField(GraphQLInt)})
GenerateJwtResult = GraphQLObjectType("GenerateJwtResult", {"jwtToken": GraphQLField(_string)})

_required = GraphQLArgument(GraphQLNonNull(GraphQLString))
_FIELDS = {
    "login": GraphQLField(
        GraphQLNonNull(LoginResult),
        args={"authProfileUuid": _required, "username": _required, "password": _required,
              "clientMutationId": CLIENT_MUTATION_ID},
        description="Check a user's credentials; a JWT and a refresh token when they hold."),
    "refreshToken": GraphQLField(
        GraphQLNonNull(RefreshResult),
        args={"token": _required, "clientMutationId": CLIENT_MUTATION_ID},
        description="Trade a refresh token (once) for a new JWT and refresh token."),
    "revokeRefreshToken": GraphQLField(
        GraphQLNonNull(RevokeResult),
        args={"token": _required, "clientMutationId": CLIENT_MUTATION_ID},
        description="Log out: revoke the login this refresh token belongs to."),
    "generateJwt": GraphQLField(
        GenerateJwtResult,
        args={"userId": GraphQLArgument(GraphQLNonNull(GraphQLInt)),
              "authProfileUuid": _required, "customFields": GraphQLArgument(JSON),
              "clientMutationId": CLIENT_MUTATION_ID},
        description="A JWT for a user, with customFields in its payload (server keys only)."),
}
IDENTITY_FIELDS = {name: with_role(field, FieldRole(name)) for name, field in _FIELDS.items()}
