"""The mutations of an application's schema: eight per model, and their input types.

Per model `Task`: `TaskInput` (every writable property and relation, all optional: one type
serves every mutation, and what must be present is checked when the mutation runs) and
`TaskField` (the property names `uniqueBy` may list). Shared: `RelationRefInput` ({id}),
`ManyRelationInput` ({_add, _remove, _replace}) and `DeleteManyInput` ({ids}).
"""

from __future__ import annotations

from graphql import (
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
)

from models_registry.runtime import ModelSpec

from .scalars import JSON, Date, DateTime, Decimal, Time, list_of

# kind -> the input type of its values (auto numbers are the database's to assign: absent)
WRITE_TYPES = {
    "text": GraphQLString, "rich_text": GraphQLString, "email": GraphQLString,
    "url": GraphQLString, "phone": GraphQLString, "enum": GraphQLString,
    "password": GraphQLString, "integer": GraphQLInt, "decimal": Decimal, "price": Decimal,
    "boolean": GraphQLBoolean, "date": Date, "datetime": DateTime, "time": Time, "json": JSON,
    "file": GraphQLString, "image": GraphQLString,  # a reference from POST /api/<app>/files
}
UNIQUE_BY_KINDS = {"text", "rich_text", "email", "url", "phone", "enum", "integer", "decimal",
                   "price", "boolean", "date", "datetime", "time"}

RelationRefInput = GraphQLInputObjectType(
    "RelationRefInput", {"id": GraphQLInputField(GraphQLNonNull(GraphQLInt))},
    description="A record to relate to, by id: { id: 1 }.")
_refs = GraphQLList(GraphQLNonNull(RelationRefInput))
ManyRelationInput = GraphQLInputObjectType(
    "ManyRelationInput",
    {"_add": GraphQLInputField(_refs, description="Relate these records too."),
     "_remove": GraphQLInputField(_refs, description="Unrelate these records."),
     "_replace": GraphQLInputField(_refs, description="Relate exactly these records.")},
    description="Changes to a has-many or has-and-belongs-to-many relation.")
DeleteManyInput = GraphQLInputObjectType(
    "DeleteManyInput",
    {"ids": GraphQLInputField(GraphQLNonNull(GraphQLList(GraphQLNonNull(GraphQLInt))))})
VALIDATION_SETS = GraphQLArgument(
    GraphQLList(GraphQLNonNull(GraphQLString)),
    description='["default"] (the default) checks the model\'s validations; ["empty"] skips '
                "them (server keys only); the database's own constraints always apply.")
IGNORED_ID = GraphQLArgument(
    GraphQLInt, description="Ignored: the database assigns ids. Accepted because the "
                            "platform's own createWebUser example sends one.")
AT_MOST = GraphQLArgument(
    GraphQLInt, description="Refuse, changing nothing, when more records than this match.")


def writable_properties(spec: ModelSpec) -> dict:
    return {name: prop for name, prop in spec.properties.items() if prop.kind in WRITE_TYPES}


def input_type(spec: ModelSpec, ends: dict) -> GraphQLInputObjectType:
    def fields():
        found = {"id": GraphQLInputField(
            GraphQLInt, description="Only in upsertMany items: the record to update.")}
        for name, prop in writable_properties(spec).items():
            found[name] = GraphQLInputField(WRITE_TYPES[prop.kind])
        for name, end in ends.items():
            found[name] = GraphQLInputField(ManyRelationInput if end.many else RelationRefInput)
        return found

    return GraphQLInputObjectType(f"{spec.name}Input", fields)


def mutation_fields(spec: ModelSpec, mine: dict) -> dict:
    """The eight mutations of one model; `mine` holds its object and filter types."""
    name, record, many = spec.name, mine["object"], list_of(mine["object"])
    one_input = GraphQLArgument(GraphQLNonNull(mine["input"]))
    many_input = GraphQLArgument(list_of(mine["input"]))
    unique_by = GraphQLArgument(GraphQLList(GraphQLNonNull(mine["field"])))
    record_id = GraphQLArgument(GraphQLNonNull(GraphQLInt))
    return {
        f"create{name}": GraphQLField(
            record, args={"input": one_input, "validationSets": VALIDATION_SETS,
                          "id": IGNORED_ID},
            description=f"Create a {name}; returns it."),
        f"createMany{name}": GraphQLField(
            many, args={"input": many_input, "validationSets": VALIDATION_SETS},
            description=f"Create several {name} records at once, all or none."),
        f"update{name}": GraphQLField(
            record, args={"id": record_id, "input": one_input, "validationSets": VALIDATION_SETS},
            description="Change the properties present in input (null clears one)."),
        f"updateMany{name}": GraphQLField(
            many, args={"where": GraphQLArgument(GraphQLNonNull(mine["filter"])),
                        "input": one_input, "atMost": AT_MOST,
                        "validationSets": VALIDATION_SETS},
            description=f"Give every {name} matching where the same changes."),
        f"upsert{name}": GraphQLField(
            record, args={"input": one_input, "uniqueBy": unique_by,
                          "validationSets": VALIDATION_SETS},
            description=f"Update the {name} whose uniqueBy properties equal input's, or create "
                        "one."),
        f"upsertMany{name}": GraphQLField(
            many, args={"input": many_input, "uniqueBy": unique_by,
                        "validationSets": VALIDATION_SETS},
            description="Upsert each item: matched on uniqueBy, or on id without it."),
        f"delete{name}": GraphQLField(
            record, args={"id": record_id}, description=f"Delete a {name}; returns it as it was."),
        f"deleteMany{name}": GraphQLField(
            many, args={"input": GraphQLArgument(GraphQLNonNull(DeleteManyInput)),
                        "atMost": AT_MOST},
            description=f"Delete the {name} records with these ids; returns them as they were."),
    }


def unique_by_enum(spec: ModelSpec) -> GraphQLEnumType:
    """What uniqueBy may list: id and the properties whose values can be compared."""
    names = ["id"] + [n for n, p in spec.properties.items() if p.kind in UNIQUE_BY_KINDS]
    return GraphQLEnumType(f"{spec.name}Field", {n: GraphQLEnumValue(n) for n in names})



# -- identity: logging in and out ---------------------------------------------------------------

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
IDENTITY_FIELDS = {
    "login": GraphQLField(
        GraphQLNonNull(LoginResult),
        args={"authProfileUuid": _required, "username": _required, "password": _required},
        description="Check a user's credentials; a JWT and a refresh token when they hold."),
    "refreshToken": GraphQLField(
        GraphQLNonNull(RefreshResult), args={"token": _required},
        description="Trade a refresh token (once) for a new JWT and refresh token."),
    "revokeRefreshToken": GraphQLField(
        GraphQLNonNull(RevokeResult), args={"token": _required},
        description="Log out: revoke the login this refresh token belongs to."),
    "generateJwt": GraphQLField(
        GenerateJwtResult,
        args={"userId": GraphQLArgument(GraphQLNonNull(GraphQLInt)),
              "authProfileUuid": _required, "customFields": GraphQLArgument(JSON)},
        description="A JWT for a user, with customFields in its payload (server keys only)."),
}
