"""The mutations of a model: eight per model, and their input types.

Every mutation takes `clientMutationId` (echoed in the response's extensions by the request
stage); updateX, updateManyX, upsertX and deleteX take `ifUpdatedAt` (optimistic locking).

Per model `Task`: `TaskInput` (every writable property and relation, all optional: one type
serves every mutation, and what must be present is checked when the mutation runs) and
`TaskField` (the property names `uniqueBy` may list). Shared: `RelationRefInput` ({id}),
`ManyRelationInput` ({_add, _remove, _replace}) and `DeleteManyInput` ({ids}).
"""

from __future__ import annotations

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLString,
)

from models_registry.specs import ModelSpec

from ..kinds import API_KINDS, writable_properties
from .roles import FieldRole, with_role
from .scalars import NAMED_TYPES, DateTime, list_of

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
Trashed = GraphQLEnumType("Trashed", {
    "ONLY": GraphQLEnumValue("ONLY", description="Only the records in the trash."),
    "WITH": GraphQLEnumValue("WITH", description="Those in the trash and the others."),
}, description="Which records of a model with a trash to read (without: those not in it).")
VALIDATION_SETS = GraphQLArgument(
    GraphQLList(GraphQLNonNull(GraphQLString)),
    description='["default"] (the default) checks the model\'s validations; ["empty"] skips '
                "them (server keys only); the database's own constraints always apply.")
IGNORED_ID = GraphQLArgument(
    GraphQLInt, description="Ignored: the database assigns ids. Accepted because the "
                            "platform's own createWebUser example sends one.")
AT_MOST = GraphQLArgument(
    GraphQLInt, description="Refuse, changing nothing, when more records than this match.")
CLIENT_MUTATION_ID = GraphQLArgument(
    GraphQLString,
    description="Any text of the client's, echoed back in the response's top-level "
                "extensions: extensions.clientMutationId maps this field's response key (its "
                "alias, or its name) to the text, whether the mutation succeeded or not. "
                "Absent or null: no echo (and no extensions member when no field sends one).")
_STALE = ("nothing is written and the error is CONFLICT, with the record's current updatedAt "
          "in extensions.updatedAt: read the record again and retry.")
IF_UPDATED_AT = GraphQLArgument(
    DateTime,
    description="Optimistic locking: the record's updatedAt as you read it (send back the "
                "text you read). When the record's updatedAt is no longer this (it changed "
                "since), " + _STALE)
UPSERT_IF_UPDATED_AT = GraphQLArgument(
    DateTime,
    description="Optimistic locking of the update: the matched record's updatedAt as you read "
                "it. When it is no longer this, " + _STALE + " With ifUpdatedAt the upsert "
                "only updates: when uniqueBy matches no record (it was deleted meanwhile) it is "
                "refused with CONFLICT (extensions.updatedAt null), and nothing is created.")
DELETE_IF_UPDATED_AT = GraphQLArgument(
    DateTime,
    description="Optimistic locking: the record's updatedAt as you read it. When it is no "
                "longer this, nothing is deleted and the error is CONFLICT, with the record's "
                "current updatedAt in extensions.updatedAt: read the record again and decide.")
MANY_IF_UPDATED_AT = GraphQLArgument(
    DateTime,
    description="Optimistic locking over where: the latest updatedAt you read. When any record "
                "where matches was updated after it (changed since you read), nothing is "
                "written: CONFLICT, with extensions.changed listing the { id updatedAt } of "
                "those records. Read them again and retry.")


def input_type(spec: ModelSpec) -> GraphQLInputObjectType:
    def fields():
        found = {"id": GraphQLInputField(
            GraphQLInt, description="Only in upsertMany items: the record to update.")}
        for name, prop in writable_properties(spec).items():
            found[name] = GraphQLInputField(NAMED_TYPES[API_KINDS[prop.kind].input])
        for name, end in spec.ends.items():
            found[name] = GraphQLInputField(ManyRelationInput if end.many else RelationRefInput)
        return found

    return GraphQLInputObjectType(f"{spec.name}Input", fields)


def mutation_fields(spec: ModelSpec, mine: dict) -> dict:
    """The eight mutations of one model (and restoring two, with a trash); `mine` holds its
    object and filter types."""
    name, record, many = spec.name, mine["object"], list_of(mine["object"])
    one_input = GraphQLArgument(GraphQLNonNull(mine["input"]))
    many_input = GraphQLArgument(list_of(mine["input"]))
    unique_by = GraphQLArgument(GraphQLList(GraphQLNonNull(mine["field"])))
    record_id = GraphQLArgument(GraphQLNonNull(GraphQLInt))
    fields = {
        "create": GraphQLField(
            record, args={"input": one_input, "validationSets": VALIDATION_SETS,
                          "id": IGNORED_ID},
            description=f"Create a {name}; returns it."),
        "createMany": GraphQLField(
            many, args={"input": many_input, "validationSets": VALIDATION_SETS},
            description=f"Create several {name} records at once, all or none."),
        "update": GraphQLField(
            record, args={"id": record_id, "input": one_input, "validationSets": VALIDATION_SETS,
                          "ifUpdatedAt": IF_UPDATED_AT},
            description="Change the properties present in input (null clears one)."),
        "updateMany": GraphQLField(
            many, args={"where": GraphQLArgument(GraphQLNonNull(mine["filter"])),
                        "input": one_input, "atMost": AT_MOST,
                        "validationSets": VALIDATION_SETS, "ifUpdatedAt": MANY_IF_UPDATED_AT},
            description=f"Give every {name} matching where the same changes."),
        "upsert": GraphQLField(
            record, args={"input": one_input, "uniqueBy": unique_by,
                          "validationSets": VALIDATION_SETS, "ifUpdatedAt": UPSERT_IF_UPDATED_AT},
            description=f"Update the {name} whose uniqueBy properties equal input's, or create "
                        "one."),
        "upsertMany": GraphQLField(
            many, args={"input": many_input, "uniqueBy": unique_by,
                        "validationSets": VALIDATION_SETS},
            description="Upsert each item: matched on uniqueBy, or on id without it."),
        "delete": GraphQLField(
            record, args={"id": record_id, "ifUpdatedAt": DELETE_IF_UPDATED_AT},
            description=f"Delete a {name}; returns it as it was."),
        "deleteMany": GraphQLField(
            many, args={"input": GraphQLArgument(GraphQLNonNull(DeleteManyInput)),
                        "atMost": AT_MOST},
            description=f"Delete the {name} records with these ids; returns them as they were."),
    }
    if spec.data_model.trash:
        fields["delete"].description = f"Move a {name} to the trash; returns it as it was."
        fields["deleteMany"].description = (f"Move the {name} records with these ids to the "
                                            "trash; returns them as they were.")
        fields["restore"] = GraphQLField(
            record, args={"id": record_id},
            description=f"Bring a {name} back from the trash, with its relations; returns it.")
        fields["restoreMany"] = GraphQLField(
            many, args={"input": GraphQLArgument(GraphQLNonNull(DeleteManyInput)),
                        "atMost": AT_MOST},
            description=f"Bring the {name} records with these ids back from the trash, all or "
                        "none.")
    for field in fields.values():
        field.args["clientMutationId"] = CLIENT_MUTATION_ID
    return {action + name: with_role(field, FieldRole(action, name))
            for action, field in fields.items()}


def unique_by_enum(spec: ModelSpec) -> GraphQLEnumType:
    """What uniqueBy may list: id and the properties whose values can be compared."""
    names = ["id"] + [n for n, p in spec.properties.items() if API_KINDS[p.kind].unique_by]
    return GraphQLEnumType(f"{spec.name}Field", {n: GraphQLEnumValue(n) for n in names})
