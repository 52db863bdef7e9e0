"""The README's *Relay* subsection answers what it shows: its curl examples replayed in order
against a freshly loaded demo, after *Mutations*' two tasks, as a reader sends them.

Cursors (signed with the secret key) and timestamps differ per install and run. The README
shortens cursors ("WyJUYXNrIixb…"): any longer cursor with that start matches one, and one sent
as `after` is the endCursor the reader just received. It shows a run's timestamps in full: the
same one shown twice must be the same one both times, and two different ones must differ."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.test import Client

from apps.identity import server_keys

README = Path(settings.BASE_DIR) / "README.md"
URL = "http://127.0.0.1:8000/api/demo/graphql"
SHORTENED = "…"  # ends a cursor the README shortens
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?\+00:00")
QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')  # a JSON string in the text of an answer
# The README's *Mutations* example, which a reader sends before reaching *Relay*.
CREATE_MANY = ('mutation($input: [TaskInput!]!) { createManyTask(input: $input) '
               '{ id task done project { name } } }')
MOW_AND_WASH = [{"task": "Mow lawn", "project": {"id": 1}}, {"task": "Wash dishes", "done": True}]


@dataclass
class Example:
    """One `$ curl …` of the subsection and the answer shown under it."""

    command: str
    output: str
    body: dict = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, command: str, output: list[str]) -> Example:
        example = cls(command, "\n".join(output))
        words = shlex.split(command)
        assert words[:3] == ["curl", "-s", URL], command
        at = 3
        while at < len(words):
            option, value = words[at], words[at + 1]
            if option == "-H":
                name, _, text = value.partition(": ")
                example.headers[name] = text
            else:
                assert option == "-d", command
                example.body = json.loads(value)
            at += 2
        assert example.headers.pop("Content-Type") == "application/json", command
        return example


def relay_examples() -> list[Example]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Relay: global ids, cursor pages, optimistic locking"):]
    section = section[:section.index("\n### ")]
    examples = []
    pieces = section.split("```")
    for index in range(1, len(pieces), 2):  # the insides of the code blocks
        command, output = None, []
        for line in pieces[index].splitlines()[1:]:
            if line.startswith("$ "):
                if command:
                    examples.append(Example.parse(command, output))
                command, output = line[2:], []
            elif command and command.endswith("\\"):
                command = command[:-1] + line
            elif command and not output and unfinished(command):
                command += "\n" + line  # inside the quotes of -d '…'
            elif command:
                output.append(line)
        if command:
            examples.append(Example.parse(command, output))
    return examples


def unfinished(command: str) -> bool:
    try:
        shlex.split(command)
    except ValueError:  # No closing quotation
        return True
    return False


def varies(value: Any) -> bool:
    return isinstance(value, str) and (value.endswith(SHORTENED) or bool(
        TIMESTAMP.fullmatch(value)))


class Replay:
    """Sends the examples in order and checks each answer against the one shown. `make run`
    serves SQLite, whose answers must match the README's byte for byte once the varying values
    are put in; PostgreSQL writes its JSON with other spaces, so there they must be equal as
    JSON."""

    def __init__(self, key: str, exact: bool):
        self.client = Client(HTTP_HOST="localhost")
        self.key, self.exact = key, exact
        self.timestamps: dict[str, str] = {}  # the README's → this run's
        self.end_cursor: str | None = None  # of the last answer that had one

    def send(self, example: Example) -> None:
        body = dict(example.body)
        if "variables" in body:
            body["variables"] = {name: self.variable(value, example)
                                 for name, value in body["variables"].items()}
        headers = {name: value.replace("$KEY", self.key)
                   for name, value in example.headers.items()}
        response = self.client.post("/api/demo/graphql", json.dumps(body),
                                    content_type="application/json", headers=headers)
        assert response.status_code == 200, (example.command, response.content)
        text = response.content.decode()
        answer = json.loads(text)
        found: list[str] = []  # this run's values in the places the README's vary
        self.match(json.loads(example.output), answer, found, example.command)
        if self.exact:
            values = iter(found)
            shown = QUOTED.sub(lambda quoted: json.dumps(next(values))
                               if varies(json.loads(quoted[0])) else quoted[0], example.output)
            assert next(values, None) is None
            assert text == shown, example.command
        page_info = ((answer.get("data") or {}).get("allTask") or {}).get("pageInfo") or {}
        self.end_cursor = page_info.get("endCursor", self.end_cursor)

    def variable(self, shown: Any, example: Example) -> Any:
        """What the reader sends where the README shows a varying value: the endCursor just
        received for a shortened cursor, this run's timestamp for the README's."""
        if not varies(shown):
            return shown
        if shown.endswith(SHORTENED):
            assert self.end_cursor and self.end_cursor.startswith(shown[:-1]), example.command
            return self.end_cursor
        assert shown in self.timestamps, (example.command, "a timestamp not read before")
        return self.timestamps[shown]

    def match(self, shown: Any, actual: Any, found: list[str], where: str) -> None:
        if isinstance(shown, str) and shown.endswith(SHORTENED):
            assert isinstance(actual, str) and actual.startswith(shown[:-1]), (where, actual)
            assert len(actual) > len(shown) + 20, (where, actual)  # a signature follows
            found.append(actual)
        elif isinstance(shown, str) and TIMESTAMP.fullmatch(shown):
            assert isinstance(actual, str) and TIMESTAMP.fullmatch(actual), (where, actual)
            if shown not in self.timestamps:
                assert actual not in self.timestamps.values(), (where, "two timestamps alike")
                self.timestamps[shown] = actual
            assert self.timestamps[shown] == actual, (where, shown, actual)
            found.append(actual)
        elif isinstance(shown, dict):
            assert isinstance(actual, dict) and shown.keys() == actual.keys(), (where, actual)
            for key, value in shown.items():
                self.match(value, actual[key], found, where)
        elif isinstance(shown, list):
            assert isinstance(actual, list) and len(shown) == len(actual), (where, actual)
            for value, other in zip(shown, actual, strict=True):
                self.match(value, other, found, where)
        else:
            assert shown == actual, (where, shown, actual)


def test_the_readme_relay_examples_answer_what_it_shows(demo, on_postgres):
    examples = relay_examples()
    assert len(examples) == 7, [e.command for e in examples]
    _, key = server_keys.create(demo, "readme")
    replay = Replay(key, exact=not on_postgres)
    created = replay.client.post(
        "/api/demo/graphql",
        json.dumps({"query": CREATE_MANY, "variables": {"input": MOW_AND_WASH}}),
        content_type="application/json", headers={"Authorization": f"Bearer {key}"})
    assert created.json()["data"]["createManyTask"][1]["id"] == 22
    for example in examples:
        replay.send(example)
    assert len(replay.timestamps) == 2  # the one read and the one the first update wrote


def test_the_nested_list_it_describes_continues_each_projects_tasks(demo):
    """`allProject { results { tasks(first: 2, after: $after, sort: { field: name }) ... } }`
    with an endCursor of `allTask` under that sort: each project's next two tasks by name."""
    client = Client(HTTP_HOST="localhost")

    def data(query: str, variables: dict | None = None) -> dict:
        response = client.post("/api/demo/graphql",
                               json.dumps({"query": query, "variables": variables or {}}),
                               content_type="application/json")
        body = response.json()
        assert "errors" not in body, body
        return body["data"]

    page = data("{ allTask(first: 2, sort: { field: name }) { pageInfo { endCursor } } }")
    nested = data("query($after: String) { allProject { results { name tasks(first: 2, "
                  "after: $after, sort: { field: name }) { id } } } }",
                  {"after": page["allTask"]["pageInfo"]["endCursor"]})["allProject"]["results"]
    # the database's order of all tasks by name, and of each project's
    ordered = [task["id"] for task in data(
        "{ allTask(limit: 200, sort: { field: name }) { results { id } } }")["allTask"]["results"]]
    following = set(ordered[2:])  # the tasks after the cursor's, the second
    whole = data("{ allProject { results { tasks(limit: 200, sort: { field: name }) { id } } } }")
    for project, every in zip(nested, whole["allProject"]["results"], strict=True):
        assert project["tasks"] == [task for task in every["tasks"]
                                    if task["id"] in following][:2], project["name"]
    assert any(project["tasks"] for project in nested)
