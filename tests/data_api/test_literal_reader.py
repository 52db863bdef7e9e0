"""The fast literal reader of `request/documents.py` (one regular expression) against
graphql-core's own lexer: whenever it reads a text's literals, it reads what graphql-core
reads, kind and value, in order; and two texts it gives one shape lex to the same tokens but
for their literal values (so one parsed template serves both)."""

from __future__ import annotations

import os

from graphql.language import Lexer, Source, TokenKind
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.data_api.request.documents import MAX_TOKENS, lex

LITERAL_KINDS = {TokenKind.INT, TokenKind.FLOAT, TokenKind.STRING, TokenKind.BLOCK_STRING}
SORTS = {TokenKind.INT: "number", TokenKind.FLOAT: "number", TokenKind.STRING: "string",
         TokenKind.BLOCK_STRING: "string"}

names = st.from_regex(r"[_A-Za-z][_0-9A-Za-z]{0,6}", fullmatch=True)
punctuators = st.sampled_from(["{", "}", "(", ")", "[", "]", ":", "$", "!", "=", "@", "...",
                               "|", "&"])
ints = st.integers(-10**12, 10**12).map(str)
floats = st.builds(lambda whole, fraction, exponent: f"{whole}{fraction}{exponent}",
                   st.integers(-999, 999), st.sampled_from(["", ".0", ".5", ".125", ".0001"]),
                   st.sampled_from(["", "e3", "E-2", "e+10"])).filter(
                       lambda text: "." in text or "e" in text.lower())
escapes = st.sampled_from(['\\"', "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t",
                           "\\u0041", "\\u00e9", "\\uD83D\\uDE00", "\\u20AC", "\\uD800",
                           "\\u{1F600}"])
plain = st.one_of(st.characters(blacklist_characters='"\\\n\r', blacklist_categories=("Cs",)),
                  st.sampled_from(["\x01", "\x1f", "\ud800", "\t"]))
strings = st.lists(st.one_of(plain, escapes), max_size=8).map(
    lambda parts: '"' + "".join(parts) + '"')
block_strings = st.lists(st.one_of(plain, st.sampled_from(["\n", "\n  ", '\\"""', '"', '""'])),
                         max_size=10).map(lambda parts: '"""' + "".join(parts) + '"""')
comments = st.lists(st.one_of(plain, st.just('"')), max_size=10).map(
    lambda parts: "#" + "".join(parts) + "\n")
strays = st.sampled_from(["\\", "%", "'", ".", "\u00a0", "\x01", "\ud800", '"', "1a", "-"])
tokens = st.one_of(names, punctuators, ints, floats, strings, block_strings, comments, strays)
separators = st.sampled_from([" ", "\n", ",", "\t", " , "])
texts = st.lists(st.tuples(tokens, separators), max_size=20).map(
    lambda pairs: "".join(token + separator for token, separator in pairs))


def graphql_tokens(text: str) -> list[tuple[TokenKind, str]] | None:
    """graphql-core's tokens of the text (comments left out), or None if it cannot lex it."""
    lexer = Lexer(Source(text))
    found = []
    try:
        token = lexer.advance()
        while token.kind != TokenKind.EOF:
            found.append((token.kind, token.value))
            token = lexer.advance()
    except Exception:  # GraphQLSyntaxError
        return None
    return found


@settings(max_examples=int(os.environ.get("MORTAR_HYPOTHESIS_EXAMPLES", 400)), deadline=None)
@given(texts)
def test_literals_read_fast_are_the_lexers_literals(text):
    read = lex(text)
    if read is None:
        return  # declined: the parser reads the text (and says what is wrong with it)
    expected = graphql_tokens(text)
    assert expected is not None, "the fast reader accepted a text graphql-core cannot lex"
    literals = [(kind, value) for kind, value in expected if kind in LITERAL_KINDS]
    assert read[1] == literals


@settings(max_examples=int(os.environ.get("MORTAR_HYPOTHESIS_EXAMPLES", 200)), deadline=None)
@given(texts)
def test_a_long_text_is_read_as_its_short_self(text):
    """Past MAX_TOKENS characters a text is read a token at a time, to count its tokens, not
    in runs of names: spaces that take it there change neither its literals nor its shape."""
    padding = " " * MAX_TOKENS
    short, long = lex(text), lex(text + padding)
    assert long == (None if short is None else (short[0] + padding, short[1]))


@settings(max_examples=int(os.environ.get("MORTAR_HYPOTHESIS_EXAMPLES", 200)), deadline=None)
@given(st.lists(st.tuples(tokens, separators), max_size=12), st.data())
def test_texts_of_one_shape_differ_only_in_literal_values(pairs, data):
    """Swap every literal for another of its sort: the shape stays, and so do the tokens."""
    first = "".join(token + separator for token, separator in pairs)
    swapped = []
    for token, separator in pairs:
        kind = graphql_tokens(token)
        if kind and kind[0][0] in LITERAL_KINDS:
            numbers, texts_ = st.one_of(ints, floats), st.one_of(strings, block_strings)
            token = data.draw(numbers if SORTS[kind[0][0]] == "number" else texts_)
        swapped.append(token + separator)
    second = "".join(swapped)
    one, other = lex(first), lex(second)
    if one is None or other is None or one[0] != other[0]:
        return
    assert blanked(graphql_tokens(first)) == blanked(graphql_tokens(second))


def blanked(tokens: list | None) -> list | None:
    """Tokens with each literal as its sort alone: a number (Int or Float: the template's
    type decides which it may be) or a string (quoted or block)."""
    if tokens is None:
        return None
    return [(SORTS[kind], None) if kind in SORTS else (kind, value) for kind, value in tokens]
