"""Documents parsed and validated once, and reused.

The same text is served from a cache. A text that differs from a validated one only in its
number and string literals (a new id in every request) is not parsed again either: the first
document of that shape is kept as a template whose literals are variables, and the new
literals, read with the lexer alone, are checked against their types and passed as those
variables' values.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLInputType,
    GraphQLSchema,
    Source,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    parse,
    specified_rules,
    validate,
    value_from_ast,
    visit,
)
from graphql.language import (
    DocumentNode,
    FloatValueNode,
    IntValueNode,
    Lexer,
    NameNode,
    StringValueNode,
    TokenKind,
    VariableNode,
)
from graphql.pyutils import Undefined
from graphql.validation import NoSchemaIntrospectionCustomRule

from .errors import error_entry
from .input_paths import input_path

KEPT = 256
LITERALS = {TokenKind.INT: IntValueNode, TokenKind.FLOAT: FloatValueNode,
            TokenKind.STRING: StringValueNode, TokenKind.BLOCK_STRING: StringValueNode}
HOISTED = "__literal"  # variables standing for a template's literals: __literal0, __literal1...


@dataclass
class Prepared:
    """A document ready to run, or why it cannot run; `literals` are the values of a template's
    hoisted literals, to be added to the request's variables."""

    document: DocumentNode | None
    errors: list[dict]
    literals: dict[str, Any] = field(default_factory=dict)


@dataclass
class Template:
    document: DocumentNode  # literals replaced by $__literal<n>
    types: list[GraphQLInputType]  # the input type at each literal, in source order

    def bind(self, tokens: list) -> dict[str, Any] | None:
        """The coerced values of a request's literal tokens; None when one does not fit."""
        values = {}
        for index, (token, expected) in enumerate(zip(tokens, self.types, strict=True)):
            node_class = LITERALS[token.kind]
            node = (node_class(value=token.value, block=token.kind == TokenKind.BLOCK_STRING)
                    if node_class is StringValueNode else node_class(value=token.value))
            value = value_from_ast(node, expected)
            if value is Undefined:
                return None
            values[f"{HOISTED}{index}"] = value
        return values


class DocumentCache:
    def __init__(self, schema: GraphQLSchema):
        self.schema = schema
        self.texts: OrderedDict = OrderedDict()
        self.templates: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def prepare(self, text: str, introspection: bool) -> Prepared:
        key = (text, introspection)
        cached = self._get(self.texts, key)
        if cached is None:
            cached = self._prepare(text, introspection)
            self._put(self.texts, key, cached)
        return cached

    def _prepare(self, text: str, introspection: bool) -> Prepared:
        try:
            shape, literal_tokens = lex(text)
            template = self._get(self.templates, (shape, introspection))
            if template is not None:
                values = template.bind(literal_tokens)
                if values is not None:
                    return Prepared(template.document, [], values)
            document = parse(text)
        except GraphQLError as error:
            return Prepared(None, [error_entry(error)])
        rules = specified_rules if introspection else (
            *specified_rules, NoSchemaIntrospectionCustomRule)
        errors = [_named(document, error) for error in validate(self.schema, document, rules)]
        if not errors:
            template = make_template(self.schema, document, len(literal_tokens))
            if template is not None:
                self._put(self.templates, (shape, introspection), template)
        return Prepared(document, errors)

    def _get(self, cache: OrderedDict, key):
        with self.lock:
            found = cache.get(key)
            if found is not None:
                cache.move_to_end(key)
            return found

    def _put(self, cache: OrderedDict, key, value) -> None:
        with self.lock:
            cache[key] = value
            while len(cache) > KEPT:
                cache.popitem(last=False)


def lex(text: str) -> tuple[str, list]:
    """(the text's shape: its tokens with literals blanked out, the literal tokens)."""
    lexer = Lexer(Source(text))
    parts, literals = [], []
    token = lexer.advance()
    while token.kind != TokenKind.EOF:
        if token.kind in LITERALS:
            literals.append(token)
            parts.append("<string>" if LITERALS[token.kind] is StringValueNode else "<number>")
        else:
            parts.append(token.value or token.kind.value)
        token = lexer.advance()
    return " ".join(parts), literals


class _HoistLiterals(Visitor):
    def __init__(self, type_info: TypeInfo):
        super().__init__()
        self.type_info = type_info
        self.types: list[GraphQLInputType] = []
        self.hoistable = True

    def enter_variable_definition(self, node, *_):
        if node.default_value is not None:  # defaults must stay literals: no template
            self.hoistable = False
        return self.SKIP

    def enter_int_value(self, node, *_):
        return self._hoist()

    def enter_float_value(self, node, *_):
        return self._hoist()

    def enter_string_value(self, node, *_):
        return self._hoist()

    def _hoist(self):
        expected = self.type_info.get_input_type()
        if expected is None:
            self.hoistable = False
            return None
        self.types.append(expected)
        return VariableNode(name=NameNode(value=f"{HOISTED}{len(self.types) - 1}"))


def make_template(schema: GraphQLSchema, document: DocumentNode, literals: int):
    """The document with its literals as variables, or None when it cannot be one."""
    type_info = TypeInfo(schema)
    hoist = _HoistLiterals(type_info)
    template = visit(document, TypeInfoVisitor(type_info, hoist))
    if not hoist.hoistable or len(hoist.types) != literals:
        return None
    return Template(template, hoist.types)


def _named(document: DocumentNode, error: GraphQLError) -> dict:
    """A validation error, with the input field it is about when it is about a value."""
    entry = error_entry(error)
    path = input_path(document, error.nodes[0]) if error.nodes else None
    if path:
        entry["message"] = f"{path}: {entry['message']}"
        entry["extensions"]["field"] = path
    return entry
