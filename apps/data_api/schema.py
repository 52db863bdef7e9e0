"""The GraphQL schema of one application at one schema version, built from its runtime models.

Types per model `Task`: `Task`, `TaskResultSet`, `TaskFilterInput`, `TaskSortInput`,
`TaskSortField`, `TaskRelationSortInput`, `TaskSortFieldsInput`; queries `allTask`, `oneTask`;
the mutations of `mutation_schema`.
The schema validates documents and coerces arguments; reading data is the planner's job.
"""

from __future__ import annotations

from dataclasses import dataclass

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
)

from models_registry.models import Relation
from models_registry.runtime import ModelSpec, RuntimeModels

from .mutation_schema import IDENTITY_FIELDS, input_type, mutation_fields, unique_by_enum
from .scalars import (
    KIND_TYPES,
    PAGE_ARGUMENTS,
    DateTime,
    DateTimeFilter,
    IntFilter,
    SortOrder,
    list_of,
)

SYSTEM_FIELDS = {"id": (GraphQLInt, IntFilter), "createdAt": (DateTime, DateTimeFilter),
                 "updatedAt": (DateTime, DateTimeFilter)}


@dataclass
class RelationEnd:
    """A relation seen from one model: `many` when the field is a list."""

    relation: Relation
    side: str  # "source" or "target"
    target: ModelSpec

    @property
    def many(self) -> bool:
        return self.relation.kind != Relation.Kind.BELONGS_TO or self.side == "target"


def relation_ends(spec: ModelSpec, built: RuntimeModels) -> dict[str, RelationEnd]:
    ends = {}
    for name, (relation, side) in spec.relations.items():
        other_id = relation.target_id if side == "source" else relation.source_id
        ends[name] = RelationEnd(relation, side, built.by_id[other_id]._mortar)
    return ends


def readable_properties(spec: ModelSpec):
    return {name: prop for name, prop in spec.properties.items() if prop.kind in KIND_TYPES}


def build_schema(built: RuntimeModels) -> GraphQLSchema:
    specs = [cls._mortar for cls in built.by_id.values()]
    types: dict[str, dict] = {spec.name: {} for spec in specs}

    for spec in specs:
        types[spec.name]["filter"] = _filter_input(spec, built, types)
        types[spec.name]["sort_field"] = GraphQLEnumType(
            f"{spec.name}SortField",
            {name: GraphQLEnumValue(name) for name in _sortable(spec)},
        )
        types[spec.name]["sort_fields"] = GraphQLInputObjectType(
            f"{spec.name}SortFieldsInput",
            {name: GraphQLInputField(SortOrder) for name in _sortable(spec)},
        )
    for spec in specs:
        types[spec.name]["input"] = input_type(spec, relation_ends(spec, built))
        types[spec.name]["field"] = unique_by_enum(spec)
        types[spec.name]["sort"] = _sort_input(spec, built, types)
        types[spec.name]["object"] = _object_type(spec, built, types)
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
        mutation.update(mutation_fields(spec, mine))
        query[f"all{spec.name}"] = GraphQLField(
            GraphQLNonNull(mine["result_set"]),
            args={"where": GraphQLArgument(mine["filter"]), **_sort_args(mine), **PAGE_ARGUMENTS},
            description=f"{spec.name} records matching `where`, a page of them in `results`.",
        )
        query[f"one{spec.name}"] = GraphQLField(
            mine["object"], args={"where": GraphQLArgument(mine["filter"])},
            description=f"The first {spec.name} matching `where` (by id), or null.",
        )
    if not query:  # an application without models still answers introspection
        query["_empty"] = GraphQLField(GraphQLInt, description="This application has no models.")
    mutation.update(IDENTITY_FIELDS)
    return GraphQLSchema(query=GraphQLObjectType("Query", query),
                         mutation=GraphQLObjectType("Mutation", mutation))



def _sort_args(mine: dict) -> dict:
    return {"sort": GraphQLArgument(GraphQLList(GraphQLNonNull(mine["sort"])))}


def _sortable(spec: ModelSpec) -> list[str]:
    names = list(SYSTEM_FIELDS)
    names += [n for n, p in readable_properties(spec).items() if KIND_TYPES[p.kind][2]]
    return names


def _filter_input(spec: ModelSpec, built: RuntimeModels, types: dict) -> GraphQLInputObjectType:
    def fields():
        found = {name: GraphQLInputField(filter_type)
                 for name, (_, filter_type) in SYSTEM_FIELDS.items()}
        for name, prop in readable_properties(spec).items():
            found[name] = GraphQLInputField(KIND_TYPES[prop.kind][1])
        for name, end in relation_ends(spec, built).items():
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


def _sort_input(spec: ModelSpec, built: RuntimeModels, types: dict) -> GraphQLInputObjectType:
    single = {name: end for name, end in relation_ends(spec, built).items() if not end.many}
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


def _object_type(spec: ModelSpec, built: RuntimeModels, types: dict) -> GraphQLObjectType:
    def fields():
        found = {
            "id": GraphQLField(GraphQLNonNull(GraphQLInt)),
            "createdAt": GraphQLField(GraphQLNonNull(DateTime)),
            "updatedAt": GraphQLField(GraphQLNonNull(DateTime)),
        }
        for name, prop in readable_properties(spec).items():
            output = KIND_TYPES[prop.kind][0]
            found[name] = GraphQLField(GraphQLNonNull(output) if prop.required else output)
        for name, end in relation_ends(spec, built).items():
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
