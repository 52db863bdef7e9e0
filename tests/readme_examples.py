"""What the tests that replay the README's curl examples share: the examples of a section, each
command line read as curl reads it, and the *Mutations* example a reader sends first."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from django.conf import settings
from django.test import Client

README = Path(settings.BASE_DIR) / "README.md"
LOCAL_URL = re.compile(r"(?:http://)?(?:localhost|127\.0\.0\.1):8000(/.*)")
# The README's *Mutations* example, which a reader sends before the sections after it.
CREATE_MANY = ('mutation($input: [TaskInput!]!) { createManyTask(input: $input) '
               '{ id task done project { name } } }')
MOW_AND_WASH = [{"task": "Mow lawn", "project": {"id": 1}}, {"task": "Wash dishes", "done": True}]


def send_the_mutations_example(client: Client, key: str) -> None:
    """Creates *Mutations*' two tasks, 21 and 22, with the server key."""
    created = client.post(
        "/api/demo/graphql",
        json.dumps({"query": CREATE_MANY, "variables": {"input": MOW_AND_WASH}}),
        content_type="application/json", headers={"Authorization": f"Bearer {key}"})
    assert created.json()["data"]["createManyTask"][1]["id"] == 22


@dataclass
class Curl:
    """A `curl` command line to the local server: what it sends, and its -s and -i."""

    command: str
    url: str = ""
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    data: str | None = None
    silent: bool = False
    with_headers: bool = False  # -i: the output starts with the status and headers
    head: int | None = None  # `| head -N`: the first N lines of the output are shown

    @property
    def path(self) -> str:
        """The URL from its first `/`, with any query string."""
        return LOCAL_URL.fullmatch(self.url)[1]

    @classmethod
    def parse(cls, command: str) -> Curl:
        curl = cls(command)
        words = shlex.split(command)
        assert words[0] == "curl", command
        options = iter(words[1:])
        for word in options:
            if word == "|":
                pipe = list(options)
                assert pipe[0] == "head" and pipe[1].startswith("-"), command
                curl.head = int(pipe[1][1:])
                break
            if word in ("-X", "-H", "-d"):
                value = next(options)
                if word == "-X":
                    curl.method = value
                elif word == "-H":
                    name, _, text = value.partition(": ")
                    curl.headers[name] = text
                else:
                    curl.data = value
                    if curl.method == "GET":
                        curl.method = "POST"  # as curl does with -d
            elif word.startswith("-"):
                assert set(word[1:]) <= {"s", "i", "N"}, command  # -N: not buffered
                curl.silent |= "s" in word
                curl.with_headers |= "i" in word
            else:
                assert not curl.url and LOCAL_URL.fullmatch(word), command
                curl.url = word
        return curl


class Example(NamedTuple):
    """A `$ curl …` of the README, the lines shown under it and the paragraph before its block."""

    curl: Curl
    output: list[str]
    before: str


def section_examples(heading: str) -> Iterator[Example]:
    """The `$ curl …` examples under the README's heading (`### Relay…`), up to the next heading
    of its level or above; a command goes on over lines ending in `\\` and open quotes."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(heading + "\n"):]
    level = len(heading.split(" ")[0])  # 3 for `###`
    end = re.search(rf"\n#{{1,{level}}} ", section)
    pieces = section[:end.start() if end else None].split("```")
    for index in range(1, len(pieces), 2):  # the insides of the code blocks
        before = pieces[index - 1].strip().split("\n\n")[-1]
        command, output = None, []
        for line in pieces[index].splitlines()[1:]:
            if line.startswith("$ "):
                if command:
                    yield Example(Curl.parse(command), output, before)
                # a shell line that is not curl (`TOKEN=$(…)`) is the test's to mirror
                command, output = (line[2:] if line.startswith("$ curl") else None), []
            elif command and command.endswith("\\"):
                command = command[:-1] + line
            elif command and not output and unfinished(command):
                command += "\n" + line  # inside the quotes of -d '…'
            elif command:
                output.append(line)
        if command:
            yield Example(Curl.parse(command), output, before)


def unfinished(command: str) -> bool:
    """Whether a quote of the command is still open (its -d goes on on the next line)."""
    try:
        shlex.split(command)
    except ValueError:  # No closing quotation
        return True
    return False
