"""The operation a request runs, picked out of its document once per document and name.

An operation without directives selects the same fields whatever its variables are, so its
top-level fields and their nesting depths are worked out once too; @skip/@include make them
depend on the variables, and such operations work them out per request.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from graphql import GraphQLSchema, OperationType, get_operation_ast
from graphql.execution.collect_fields import collect_fields
from graphql.language import (
    ArgumentNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    NamedTypeNode,
    NonNullTypeNode,
    OperationDefinitionNode,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    visit,
)

from models_registry.lru import LruCache

from ..errors import RequestError
from ..read.plan_cache import SLOT_TYPES
from .documents import HOISTED
from .limits import depths

KEPT = 256


@dataclass
class Operation:
    schema: GraphQLSchema
    record_types: set[str]
    document: DocumentNode  # kept so that the cache key (its id) stays its own
    node: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]
    static: bool  # no directives: the same fields for all variables
    _fields: tuple | None = field(default=None, repr=False)

    @functools.cached_property
    def where_scalars(self) -> frozenset[str]:
        """The variables of type Int, Float or Boolean (null or not, no list), and the literals
        hoisted into variables (documents.HOISTED), that the operation uses only inside `where`
        arguments: the slots of its kept plans (read.plan_cache, which takes a value of those
        types only)."""
        finder = _VariableUses()
        for node in (self.node, *self.fragments.values()):
            visit(node, finder)
        scalars = {d.variable.name.value for d in self.node.variable_definitions or ()
                   if _named_scalar(d.type) in SLOT_TYPES}
        return frozenset((scalars | {name for name in finder.used if name.startswith(HOISTED)})
                         - finder.outside_where)

    def fields(self, variables: dict) -> tuple[dict[str, list[FieldNode]], dict[str, int]]:
        """(the top-level fields by response key, how deep each nests records)."""
        if self._fields is not None:
            return self._fields
        root = (self.schema.mutation_type if self.node.operation == OperationType.MUTATION
                else self.schema.query_type)
        top_level = collect_fields(self.schema, self.fragments, variables, root,
                                   self.node.selection_set)
        found = (top_level, depths(self.schema, root, self.fragments, variables, top_level,
                                   self.record_types))
        if self.static:
            self._fields = found
        return found


class OperationCache:
    def __init__(self, schema: GraphQLSchema, record_types: set[str]):
        self.schema = schema
        self.record_types = record_types
        self.kept: LruCache[Operation] = LruCache(KEPT, "operations")

    def get(self, document: DocumentNode, name: str | None) -> Operation:
        """The operation called `name` (or the only one). Raises RequestError."""
        key = (id(document), name)
        found = self.kept.get(key)
        if found is None or found.document is not document:
            found = self._make(document, name)
            self.kept.put(key, found)
        return found

    def _make(self, document: DocumentNode, name: str | None) -> Operation:
        node = get_operation_ast(document, name)
        if node is None:
            message = (f"No operation named {name!r} in the document." if name
                       else "The document has several operations: say which in operationName.")
            raise RequestError.bad_input(message)
        fragments = {d.name.value: d for d in document.definitions
                     if isinstance(d, FragmentDefinitionNode)}
        return Operation(self.schema, self.record_types, document, node, fragments,
                         static=not _has_directives(document))


def _named_scalar(type_node) -> str | None:
    if isinstance(type_node, NonNullTypeNode):
        type_node = type_node.type
    return type_node.name.value if isinstance(type_node, NamedTypeNode) else None


class _VariableUses(Visitor):
    """The variables used, and those used anywhere but inside a `where` argument."""

    def __init__(self):
        super().__init__()
        self.used: set[str] = set()
        self.outside_where: set[str] = set()

    def enter_variable(self, node: VariableNode, key, parent, path, ancestors):
        if isinstance(parent, VariableDefinitionNode):
            return
        self.used.add(node.name.value)
        if not any(isinstance(a, ArgumentNode) and a.name.value == "where" for a in ancestors):
            self.outside_where.add(node.name.value)


class _FindDirectives(Visitor):
    found = False

    def enter_directive(self, node: DirectiveNode, *_):
        self.found = True
        return self.BREAK


def _has_directives(document: DocumentNode) -> bool:
    finder = _FindDirectives()
    visit(document, finder)
    return finder.found
