"""Documents too big for any request are refused before graphql-core validates them (whose
cost grows with the square of same-named fields) and before the parser reads them whole."""

import pytest

from apps.data_api.request import documents

from ..data_api.conftest import api, demo  # noqa: F401  (the fixtures)


@pytest.fixture
def validations(monkeypatch):
    """The documents graphql-core was asked to validate."""
    seen = []
    original = documents.validate
    monkeypatch.setattr(documents, "validate",
                        lambda schema, document, rules: seen.append(document)
                        or original(schema, document, rules))
    return seen


TOKENS = "The document has more than 5,000 tokens; send values as variables, or split it."


@pytest.mark.parametrize("text, message, limit", [
    ("{ " + " ".join(f"a{i}: allTask {{ totalCount }}" for i in range(20_000)) + " }",
     TOKENS, 5_000),
    ("{ allTask { totalCount } } "
     + " ".join(f"fragment f{i} on Task {{ id }}" for i in range(20_000)), TOKENS, 5_000),
    ("{ " + " ".join(f"a{i}: __typename" for i in range(800)) + " }",
     "The document selects more than 500 fields (aliases included); split it into several "
     "requests.", 500),
    ("{ allTask { totalCount } } "
     + " ".join(f"fragment f{i} on Task {{ id }}" for i in range(150)),
     "The document has 151 operations and fragments; at most 100 are allowed.", 100),
], ids=["20,000 aliases", "20,000 fragments", "800 aliases", "150 fragments"])
def test_an_oversized_document_is_refused_unvalidated(api, validations, text, message,  # noqa: F811
                                                      limit):
    assert api(text) == {"errors": [{"message": message, "extensions": {
        "code": "QUERY_TOO_COMPLEX", "limit": limit}}]}
    assert validations == []
