"""Where in a document an argument value sits (`where.endDate.eq`), so that errors about a
value name the field it was given for."""

from __future__ import annotations

from collections.abc import Iterator

from graphql.language import (
    DocumentNode,
    FieldNode,
    ListValueNode,
    Node,
    ObjectValueNode,
    SelectionSetNode,
)


def input_path(document: DocumentNode, target: Node) -> str | None:
    for field in _fields(document):
        for argument in field.arguments or ():
            found = _find(argument.value, target, [argument.name.value])
            if found:
                return ".".join(found)
    return None


def _fields(document: DocumentNode) -> Iterator[FieldNode]:
    def walk(selection_set: SelectionSetNode | None) -> Iterator[FieldNode]:
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                yield selection
            yield from walk(getattr(selection, "selection_set", None))

    for definition in document.definitions:
        yield from walk(getattr(definition, "selection_set", None))


def _find(value: Node, target: Node, path: list[str]) -> list[str] | None:
    if value is target:
        return path
    if isinstance(value, ObjectValueNode):
        for member in value.fields:
            inner = path + [member.name.value]
            if member is target:
                return inner
            found = _find(member.value, target, inner)
            if found:
                return found
    if isinstance(value, ListValueNode):
        for index, item in enumerate(value.values):
            found = _find(item, target, path + [str(index)])
            if found:
                return found
    return None

