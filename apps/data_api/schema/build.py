"""The GraphQL schema of one application at one schema version, built from its runtime models.

Types per model `Task`: `Task`, `TaskResultSet`, `TaskEdge`, `TaskFilterInput`,
`TaskSortInput`, `TaskSortField`, `TaskRelationSortInput`, `TaskSortFieldsInput`, and the input
types of `mutations`; queries `allTask` (a page by offset or by cursor), `oneTask`; the
mutations of `mutations` and `identity`.
Every record type implements `Node` (its global id, `nodeId`), which the queries `node` and
`nodes` answer with. Every root field carries its `FieldRole`. The schema validates documents
and coerces arguments; reading and writing data are the planner's and the mutations' jobs.
"""

from __future__ import annotations

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLField,
    GraphQLID,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    specified_scalar_types,
)

from models_registry.runtime import RuntimeModels
from models_registry.specs import DELETED_AT, SYSTEM_COLUMNS, ModelSpec

from ..kinds import API_KINDS, readable_properties
from ..sql.global_ids import GLOBAL_ID_FIELD
from .identity import IDENTITY_FIELDS
from .mutations import (
    DeleteManyInput,
    ManyRelationInput,
    RelationRefInput,
    Trashed,
    input_type,
    mutation_fields,
    unique_by_enum,
)
from .roles import MUTATION_ACTIONS, QUERY_ACTIONS, FieldRole, with_role
from .scalars import (
    CURSOR_ARGUMENTS,
    FORWARD_CURSOR_ARGUMENTS,
    NAMED_TYPES,
    PAGE_ARGUMENTS,
    DateTime,
    DateTimeFilter,
    IntFilter,
    Node,
    PageInfo,
    SortOrder,
    list_of,
)

SYSTEM_FIELDS = {"id": (GraphQLInt, IntFilter), "createdAt": (DateTime, DateTimeFilter),
                 "updatedAt": (DateTime, DateTimeFilter)}
assert set(SYSTEM_FIELDS) == set(SYSTEM_COLUMNS)

# The types a model `Task` gives the schema: Task<suffix>.
MODEL_TYPE_SUFFIXES = ("", "ResultSet", "FilterInput", "SortInput", "SortField",
                       "RelationSortInput", "SortFieldsInput", "Input", "Field", "Edge")
# The root fields it gives: <action>Task.
ROOT_FIELD_PREFIXES = QUERY_ACTIONS + MUTATION_ACTIONS
# Names kept for types to come, besides those every schema has (`fixed_type_names`).
RESERVED_TYPE_NAMES = {"Subscription", "Upload", "FileInput", "IdInput", "Jwt"}
# The fields every record type has besides the system fields: no property may take one.
RECORD_FIELD_NAMES = (GLOBAL_ID_FIELD,)


def build_schema(built: RuntimeModels) -> GraphQLSchema:
    specs = [cls._mortar for cls in built.by_id.values()]
    types: dict[str, dict] = {spec.name: {} for spec in specs}
    # A model named Node, or a field named nodeId, from before these names were reserved keeps
    # its API as it was: such an application (or model) goes without global ids.
    global_ids = Node.name not in types
    # Likewise a model named PageInfo, or a Task beside a TaskEdge: without cursor connections.
    connections = PageInfo.name not in types

    for spec in specs:
        types[spec.name]["filter"] = _filter_input(spec, types)
        types[spec.name]["sort_field"] = GraphQLEnumType(
            f"{spec.name}SortField",
            {name: GraphQLEnumValue(name) for name in _sortable(spec)},
        )
        types[spec.name]["sort_fields"] = GraphQLInputObjectType(
            f"{spec.name}SortFieldsInput",
            {name: GraphQLInputField(SortOrder) for name in _sortable(spec)},
        )
    for spec in specs:
        types[spec.name]["input"] = input_type(spec)
        types[spec.name]["field"] = unique_by_enum(spec)
        types[spec.name]["sort"] = _sort_input(spec, types)
        types[spec.name]["object"] = _object_type(spec, types, global_ids)
        types[spec.name]["connection"] = connections and f"{spec.name}Edge" not in types
        types[spec.name]["result_set"] = _result_set(spec, types)

    query, mutation = {}, {}
    for spec in sorted(specs, key=lambda s: s.name):
        mine = types[spec.name]
        _add(mutation, mutation_fields(spec, mine))
        _add(query, {
            f"all{spec.name}": with_role(GraphQLField(
                GraphQLNonNull(mine["result_set"]),
                args={"where": GraphQLArgument(mine["filter"]), **_sort_args(mine),
                      **PAGE_ARGUMENTS,
                      **(CURSOR_ARGUMENTS if mine["connection"] else {}),
                      **({"trashed": GraphQLArgument(
                          Trashed, description="Read the trash too (WITH) or only it (ONLY): "
                                               "for those who may delete.")}
                         if spec.data_model.trash else {})},
                description=f"{spec.name} records matching `where`, a page of them in "
                            "`results` (and in `edges`, with their cursors)."),
                FieldRole("all", spec.name)),
            f"one{spec.name}": with_role(GraphQLField(
                mine["object"], args={"where": GraphQLArgument(mine["filter"])},
                description=f"The first {spec.name} matching `where` (by id), or null."),
                FieldRole("one", spec.name)),
        })
    if global_ids and specs:
        _add(query, _node_fields())
    if not query:  # an application without models still answers introspection
        query["_empty"] = GraphQLField(GraphQLInt, description="This application has no models.")
    _add(mutation, IDENTITY_FIELDS)
    return GraphQLSchema(query=GraphQLObjectType("Query", query),
                         mutation=GraphQLObjectType("Mutation", mutation))


def fixed_type_names() -> set[str]:
    """The type names every application's schema has whatever its models, and those kept for
    types to come: no model may take one (registered with the registry's name rules)."""
    empty = build_schema(RuntimeModels(0, 0, None, {}, {}))
    shared = {t.name for t in (RelationRefInput, ManyRelationInput, DeleteManyInput, SortOrder,
                               Node, PageInfo, Trashed)}
    return ({name for name in empty.type_map if not name.startswith("__")} | shared
            | set(NAMED_TYPES) | set(specified_scalar_types) | RESERVED_TYPE_NAMES)


def _add(fields: dict, more: dict) -> None:
    """Add root fields; two with one name would hide one of them (the registry's name rules
    refuse models that would make one)."""
    clashing = fields.keys() & more.keys()
    if clashing:
        raise ValueError(f"root fields generated twice: {sorted(clashing)}")
    fields.update(more)


def _sort_args(mine: dict) -> dict:
    return {"sort": GraphQLArgument(GraphQLList(GraphQLNonNull(mine["sort"])))}


def _sortable(spec: ModelSpec) -> list[str]:
    names = list(SYSTEM_FIELDS)
    names += [n for n, p in readable_properties(spec).items() if API_KINDS[p.kind].sortable]
    return names


def _filter_input(spec: ModelSpec, types: dict) -> GraphQLInputObjectType:
    def fields():
        found = {name: GraphQLInputField(filter_type)
                 for name, (_, filter_type) in SYSTEM_FIELDS.items()}
        for name, prop in readable_properties(spec).items():
            found[name] = GraphQLInputField(NAMED_TYPES[API_KINDS[prop.kind].filter])
        for name, end in spec.ends.items():
            found[name] = GraphQLInputField(
                types[end.target.name]["filter"],
                description="Records whose related record matches"
                + (" (at least one of them)." if end.many else "."),
            )
        itself = types[spec.name]["filter"]
        found["_and"] = GraphQLInputField(GraphQLList(GraphQLNonNull(itself)))
        found["_or"] = GraphQLInputField(GraphQLList(GraphQLNonNull(itself)))
        return found

    return GraphQLInputObjectType(f"{spec.name}FilterInput", fields)


def _sort_input(spec: ModelSpec, types: dict) -> GraphQLInputObjectType:
    single = {name: end for name, end in spec.ends.items() if not end.many}
    fields = {
        "field": GraphQLInputField(types[spec.name]["sort_field"]),
        "order": GraphQLInputField(SortOrder, default_value="ASC"),
    }
    if single:
        fields["relation"] = GraphQLInputField(GraphQLInputObjectType(
            f"{spec.name}RelationSortInput",
            {name: GraphQLInputField(types[end.target.name]["sort_fields"])
             for name, end in single.items()},
        ))
    return GraphQLInputObjectType(f"{spec.name}SortInput", fields)


def _result_set(spec: ModelSpec, types: dict) -> GraphQLObjectType:
    """TaskResultSet: Betty's page (`results`, `totalCount`) and, unless names taken before
    forbid it, Relay's (`edges`, `pageInfo`) of the same records."""
    connection = types[spec.name]["connection"]

    def fields():
        found = {"results": GraphQLField(list_of(types[spec.name]["object"])),
                 "totalCount": GraphQLField(GraphQLNonNull(GraphQLInt))}
        if connection:
            found["edges"] = GraphQLField(list_of(types[spec.name]["edge"]))
            found["pageInfo"] = GraphQLField(GraphQLNonNull(PageInfo))
        return found

    if connection:
        types[spec.name]["edge"] = GraphQLObjectType(f"{spec.name}Edge", lambda: {
            "cursor": GraphQLField(GraphQLNonNull(GraphQLString),
                                   description="Where this record stands in the list: pass it "
                                               "as after (or before) to page on from it."),
            "node": GraphQLField(GraphQLNonNull(types[spec.name]["object"])),
        })
    return GraphQLObjectType(f"{spec.name}ResultSet", fields)


def _has_global_id(spec: ModelSpec) -> bool:
    """Whether records of `spec` have `nodeId` (all but those of a model with a field of that
    name from before it was reserved)."""
    return GLOBAL_ID_FIELD not in spec.properties and GLOBAL_ID_FIELD not in spec.ends


def _node_fields() -> dict[str, GraphQLField]:
    return {
        "node": with_role(GraphQLField(
            Node, args={"id": GraphQLArgument(GraphQLNonNull(GraphQLID))},
            description="The record of any model with this global id (a `nodeId`): null when "
                        "there is none or you may not read it. Ids name the model: those given "
                        "out before a model was renamed find nothing."),
            FieldRole("node")),
        "nodes": with_role(GraphQLField(
            GraphQLNonNull(GraphQLList(Node)),
            args={"ids": GraphQLArgument(GraphQLNonNull(GraphQLList(GraphQLNonNull(GraphQLID))))},
            description="The records with these global ids, in the order asked: null for each "
                        "that does not exist or that you may not read. At most as many ids as "
                        "the largest page (limit)."),
            FieldRole("nodes")),
    }


def _object_type(spec: ModelSpec, types: dict, global_ids: bool) -> GraphQLObjectType:
    node = global_ids and _has_global_id(spec)

    def fields():
        found = {"id": GraphQLField(GraphQLNonNull(GraphQLInt))}
        if node:
            found[GLOBAL_ID_FIELD] = Node.fields[GLOBAL_ID_FIELD]
        found["createdAt"] = GraphQLField(GraphQLNonNull(DateTime))
        found["updatedAt"] = GraphQLField(GraphQLNonNull(DateTime))
        if spec.data_model.trash:
            found[DELETED_AT] = GraphQLField(DateTime, description="When it was moved to the "
                                                                   "trash; null: it is not in it.")
        for name, prop in readable_properties(spec).items():
            output = NAMED_TYPES[API_KINDS[prop.kind].output]
            found[name] = GraphQLField(GraphQLNonNull(output) if prop.required else output)
        for name, end in spec.ends.items():
            target = types[end.target.name]
            if end.many:
                found[name] = GraphQLField(
                    list_of(target["object"]),
                    args={"where": GraphQLArgument(target["filter"]), **_sort_args(target),
                          **PAGE_ARGUMENTS,
                          **(FORWARD_CURSOR_ARGUMENTS if target["connection"] else {})},
                )
            else:
                found[name] = GraphQLField(target["object"])
        return found

    return GraphQLObjectType(spec.name, fields, interfaces=[Node] if node else None)
