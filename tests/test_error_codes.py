"""The error codes a client can meet are one enum, and the README's table lists exactly it."""

import re
from pathlib import Path

from apps.error_codes import ErrorCode

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_documents_every_code_and_no_other():
    text = README.read_text()
    table = text[text.index("The codes (`apps/error_codes.py`):"):].split("\n\n")[1]
    documented = re.findall(r"^\| `([A-Z_]+)` \|", table, re.M)
    assert documented == [code.value for code in ErrorCode]
