"""The GraphQL schema of one application at one schema version, built from its runtime models.

Types per model `Task`: `Task`, `TaskResultSet`, `TaskFilterInput`, `TaskSortInput`,
`TaskSortField`, `TaskRelationSortInput`, `TaskSortFieldsInput`, and the input types of
`mutations`; queries `allTask`, `oneTask`; the mutations of `mutations` and `identity`.
Every root field carries its `FieldRole`. The schema validates documents and coerces
arguments; reading and writing data are the planner's and the mutations' jobs.
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
    GraphQLObjectType,
    GraphQLSchema,
    specified_scalar_types,
)

from models_registry.runtime import RuntimeModels
from models_registry.specs import SYSTEM_COLUMNS, ModelSpec

from ..kinds import API_KINDS, readable_properties
from .identity import IDENTITY_FIELDS
from .mutations import (
    DeleteManyInput,
    ManyRelationInput,
    RelationRefInput,
    input_type,
    mutation_fields,
    unique_by_enum,
)
from .roles import MUTATION_ACTIONS, QUERY_ACTIONS, FieldRole, with_role
from .scalars import (
    NAMED_TYPES,
    PAGE_ARGUMENTS,
    DateTime,
    DateTimeFilter,
    IntFilter,
    SortOrder,
    list_of,
)

SYSTEM_FIELDS = {"id": (GraphQLInt, IntFilter), "createdAt": (DateTime, DateTimeFilter),
                 "updatedAt": (DateTime, DateTimeFilter)}
assert set(SYSTEM_FIELDS) == set(SYSTEM_COLUMNS)

# The types a model `Task` gives the schema: Task<suffix>.
MODEL_TYPE_SUFFIXES = ("", "ResultSet", "FilterInput", "SortInput", "SortField",
                       "RelationSortInput", "SortFieldsInput", "Input", "Field")
# The root fields it gives: <action>Task.
ROOT_FIELD_PREFIXES = QUERY_ACTIONS + MUTATION_ACTIONS
# Names kept for types to come, besides those every schema has (`fixed_type_names`).
RESERVED_TYPE_NAMES = {"Subscription", "Upload", "FileInput", "IdInput", "Jwt"}


def build_schema(built: RuntimeModels) -> GraphQLSchema:
    specs = [cls._mortar for cls in built.by_id.values()]
    types: dict[str, dict] = {spec.name: {} for spec in specs}

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
        types[spec.name]["object"] = _object_type(spec, types)
        types[spec.name]["result_set"] = GraphQLObjectType(
            f"{spec.name}ResultSet",
            lambda spec=spec: {
                "results": GraphQLField(list_of(types[spec.name]["object"])),
                "totalCount": GraphQLField(GraphQLNonNull(GraphQLInt)),
            },
        )

    query, mutation = {}, {}
    for spec in sorted(specs, key=lambda s: s.name):
        mine = types[spec.name]
        _add(mutation, mutation_fields(spec, mine))
        _add(query, {
            f"all{spec.name}": with_role(GraphQLField(
                GraphQLNonNull(mine["result_set"]),
                args={"where": GraphQLArgument(mine["filter"]), **_sort_args(mine),
                      **PAGE_ARGUMENTS},
                description=f"{spec.name} records matching `where`, a page of them in "
                            "`results`."), FieldRole("all", spec.name)),
            f"one{spec.name}": with_role(GraphQLField(
                mine["object"], args={"where": GraphQLArgument(mine["filter"])},
                description=f"The first {spec.name} matching `where` (by id), or null."),
                FieldRole("one", spec.name)),
        })
    if not query:  # an application without models still answers introspection
        query["_empty"] = GraphQLField(GraphQLInt, description="This application has no models.")
    _add(mutation, IDENTITY_FIELDS)
    return GraphQLSchema(query=GraphQLObjectType("Query", query),
                         mutation=GraphQLObjectType("Mutation", mutation))


def fixed_type_names() -> set[str]:
    """The type names every application's schema has whatever its models, and those kept for
    types to come: no model may take one (registered with the registry's name rules)."""
    empty = build_schema(RuntimeModels(0, 0, None, {}, {}))
    shared = {t.name for t in (RelationRefInput, ManyRelationInput, DeleteManyInput, SortOrder)}
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


def _object_type(spec: ModelSpec, types: dict) -> GraphQLObjectType:
    def fields():
        found = {
            "id": GraphQLField(GraphQLNonNull(GraphQLInt)),
            "createdAt": GraphQLField(GraphQLNonNull(DateTime)),
            "updatedAt": GraphQLField(GraphQLNonNull(DateTime)),
        }
        for name, prop in readable_properties(spec).items():
            output = NAMED_TYPES[API_KINDS[prop.kind].output]
            found[name] = GraphQLField(GraphQLNonNull(output) if prop.required else output)
        for name, end in spec.ends.items():
            target = types[end.target.name]
            if end.many:
                found[name] = GraphQLField(
                    list_of(target["object"]),
                    args={"where": GraphQLArgument(target["filter"]), **_sort_args(target),
                          **PAGE_ARGUMENTS},
                )
            else:
                found[name] = GraphQLField(target["object"])
        return found

    return GraphQLObjectType(spec.name, fields)
