"""Documents parsed and validated once, and reused.

The same text is served from a cache. A text that differs from a validated one only in its
number and string literals (a new id in every request) is not parsed again either: the first
document of that shape is kept as a template whose literals are variables, and the new
literals, read with the lexer alone, are checked against their types and passed as those
variables' values.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLInputType,
    GraphQLSchema,
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
    FieldNode,
    FloatValueNode,
    IntValueNode,
    NameNode,
    StringValueNode,
    TokenKind,
    VariableNode,
)
from graphql.language.block_string import dedent_block_string_lines
from graphql.pyutils import Undefined
from graphql.validation import NoSchemaIntrospectionCustomRule

from models_registry.lru import LruCache

from ..errors import QueryTooComplex, error_entry
from .input_paths import input_path

KEPT = 256
# Bounds on a document's size, met before the parse runs to its end and before validation
# (whose overlapping-fields rule costs the square of same-named fields): no request of the
# data API needs more, and 20,000 aliases cost seconds of CPU to validate.
MAX_TOKENS = 5_000
MAX_FIELDS = 500
MAX_DEFINITIONS = 100
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

    def bind(self, literals: list[tuple[TokenKind, str]]) -> dict[str, Any] | None:
        """The coerced values of a request's literals; None when one does not fit."""
        if len(literals) != len(self.types):  # "<number>" written as such in the text
            return None
        values = {}
        for index, ((kind, text), expected) in enumerate(zip(literals, self.types, strict=True)):
            node_class = LITERALS[kind]
            node = (node_class(value=text, block=kind == TokenKind.BLOCK_STRING)
                    if node_class is StringValueNode else node_class(value=text))
            value = value_from_ast(node, expected)
            if value is Undefined:
                return None
            values[f"{HOISTED}{index}"] = value
        return values


class DocumentCache:
    def __init__(self, schema: GraphQLSchema):
        self.schema = schema
        self.texts: LruCache[Prepared] = LruCache(KEPT, "documents")
        self.templates: LruCache[Template] = LruCache(KEPT, "document templates")

    def prepare(self, text: str, introspection: bool) -> Prepared:
        key = (text, introspection)
        cached = self.texts.get(key)
        if cached is None:
            cached = self._prepare(text, introspection)
            self.texts.put(key, cached)
        return cached

    def _prepare(self, text: str, introspection: bool) -> Prepared:
        try:
            lexed = lex(text)
        except TooManyTokens:  # refused before the parser, which is costlier per token
            lexed, text_too_long = None, True
        else:
            text_too_long = False
        if lexed is not None:
            template = self.templates.get((lexed[0], introspection))
            if template is not None:
                values = template.bind(lexed[1])
                if values is not None:
                    return Prepared(template.document, [], values)
        if text_too_long:
            return Prepared(None, [error_entry(QueryTooComplex(
                f"The document has more than {MAX_TOKENS:,} tokens; send values as variables, "
                "or split it.", limit=MAX_TOKENS))])
        try:
            document = parse(text)  # of fewer than MAX_TOKENS tokens: `lex` counted them
        except GraphQLError as error:
            return Prepared(None, [error_entry(error)])
        too_big = _too_big(document)
        if too_big is not None:
            return Prepared(None, [error_entry(too_big)])
        rules = specified_rules if introspection else (
            *specified_rules, NoSchemaIntrospectionCustomRule)
        # "Did you mean 'allTask'?" would show the schema that introspection hides
        errors = [_named(document, error) for error in
                  validate(self.schema, document, rules, hide_suggestions=not introspection)]
        if not errors and lexed is not None:
            template = make_template(self.schema, document, len(lexed[1]))
            if template is not None:
                self.templates.put((lexed[0], introspection), template)
        return Prepared(document, errors)


# Runs are matched possessively (++, *+): an unclosed string must not backtrack through every
# way of splitting its text.
_ALTERNATIVES = r"""
    (?P<block>"{3}(?:[^"\\]++|\\"{3}|\\|"(?!""))*+"{3})
  | (?P<unclosed>"{3})
  | (?P<string>"(?:[^"\\\n\r]++|\\.)*+")
  | (?P<comment>\#[^\n\r]*)
  | (?P<name>%s)
  | (?P<number>-?[0-9][0-9.eE+-]*(?![_A-Za-z.]))
  | (?P<stray>[^ \t\n\r,\ufeff!$&():=@\[\]{}|])
"""
_NAME = r"[_A-Za-z][_0-9A-Za-z]*|\.\.\.|[!$&():=@\[\]{}|]"
_TOKENS = re.compile(_ALTERNATIVES % _NAME, re.VERBOSE)  # a token a match, to count them
# Names and punctuators, with what separates them, a run a match: only literals reach Python.
_RUNS = re.compile(_ALTERNATIVES % rf"(?:{_NAME}|[ \t\n\r,\ufeff])++", re.VERBOSE)
# What GraphQL allows nowhere in a document (only escaped, in strings).
_NEVER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?P<float>(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)")


class TooManyTokens(Exception):
    """A text of more than MAX_TOKENS tokens (punctuators included, as graphql-core counts)."""


def lex(text: str) -> tuple[str, list[tuple[TokenKind, str]]] | None:
    """(the text's shape: the text with its literals blanked out and its comments left out,
    the literals' kinds and values), found with one regular expression rather than
    graphql-core's lexer; None when a literal is not plainly valid (the parser then says why).
    Raises TooManyTokens past MAX_TOKENS.

    Two texts with one shape differ only in literal values, so they parse to one structure.
    """
    plain = _NEVER.search(text) is None
    parts, literals, end = [], [], 0
    # Counted to the end (or to MAX_TOKENS) even once the text is known not to be plain, so
    # that the parser, which reads it then, never meets more tokens than that. A text of no
    # more characters than MAX_TOKENS has no more tokens: it is read in runs, uncounted.
    tokens = _RUNS if len(text) <= MAX_TOKENS else _TOKENS
    for count, match in enumerate(tokens.finditer(text)):
        if count >= MAX_TOKENS:
            raise TooManyTokens
        kind = match.lastgroup
        if kind == "name" or not plain:
            continue
        if kind in ("stray", "unclosed"):  # no token starts here: the parser says why
            plain = False
            continue
        parts.append(text[end:match.start()])
        end = match.end()
        raw = match.group()
        if kind == "comment":
            continue
        if kind == "number":
            number = _NUMBER.fullmatch(raw)
            if number is None:
                plain = False
                continue
            literals.append((TokenKind.FLOAT if number["float"] else TokenKind.INT, raw))
            parts.append("<number>")
            continue
        value = _block_string(raw) if kind == "block" else _string(raw)
        if value is None:
            plain = False
            continue
        literals.append((TokenKind.BLOCK_STRING if kind == "block" else TokenKind.STRING, value))
        parts.append("<string>")
    if not plain:
        return None
    parts.append(text[end:])
    return "".join(parts), literals


def _string(raw: str) -> str | None:
    """A string literal's value: GraphQL's escapes are JSON's. None for what JSON reads
    differently (a tab, a lone surrogate) or not at all (\\u{...})."""
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    if "\\u" in raw and any("\ud800" <= char <= "\udfff" for char in value):
        return None
    return value


def _block_string(raw: str) -> str:
    lines = re.split(r"\r\n|\n|\r", raw[3:-3].replace('\\"""', '"""'))
    return "\n".join(dedent_block_string_lines(lines))


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


def _too_big(document: DocumentNode) -> QueryTooComplex | None:
    """More definitions or field selections than any request needs (aliases and unused
    fragments included), counted before validation."""
    if len(document.definitions) > MAX_DEFINITIONS:
        return QueryTooComplex(f"The document has {len(document.definitions):,} operations and "
                               f"fragments; at most {MAX_DEFINITIONS} are allowed.",
                               limit=MAX_DEFINITIONS)
    fields, pending = 0, [d.selection_set for d in document.definitions
                          if getattr(d, "selection_set", None)]
    while pending:
        for selection in pending.pop().selections:
            fields += isinstance(selection, FieldNode)
            inner = getattr(selection, "selection_set", None)  # none on a fragment spread
            if inner is not None:
                pending.append(inner)
        if fields > MAX_FIELDS:
            return QueryTooComplex(f"The document selects more than {MAX_FIELDS:,} fields "
                                   "(aliases included); split it into several requests.",
                                   limit=MAX_FIELDS)
    return None


def _named(document: DocumentNode, error: GraphQLError) -> dict:
    """A validation error, with the input field it is about when it is about a value."""
    entry = error_entry(error)
    path = input_path(document, error.nodes[0]) if error.nodes else None
    if path:
        entry["message"] = f"{path}: {entry['message']}"
        entry["extensions"]["field"] = path
    no_trash = NO_TRASH.match(entry["message"])
    if no_trash:  # the model is named by the query itself: nothing shown that was hidden
        entry["message"] += (f" {no_trash[1]} has no trash: its deletions are final (a builder "
                             "can give it one in the admin).")
    return entry


NO_TRASH = re.compile(r"Unknown argument 'trashed' on field 'Query\.all(\w+)'\.$")
