"""The README's *Relay* subsection answers what it shows: its curl examples replayed in order
against a freshly loaded demo, after *Mutations*' two tasks, as a reader sends them.

Cursors (signed with the secret key) and timestamps differ per install and run. The README
shortens cursors ("WyJUYXNrIixb…"): any longer cursor with that start matches one, and one sent
as `after` is the endCursor the reader just received. It shows a run's timestamps in full: the
same one shown twice must be the same one both times, and two different ones must differ."""

from __future__ import annotations

import json
import re
from typing import Any

from django.test import Client

from apps.identity import server_keys
from tests.readme_examples import Example, section_examples, send_the_mutations_example

RELAY = "### Relay: global ids, cursor pages, optimistic locking"
URL = "http://127.0.0.1:8000/api/demo/graphql"
SHORTENED = "…"  # ends a cursor the README shortens
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?\+00:00")
QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')  # a JSON string in the text of an answer


def relay_examples() -> list[Example]:
    """The subsection's examples: each `curl -s` POSTs JSON to the demo's GraphQL endpoint."""
    examples = list(section_examples(RELAY))
    for example in examples:
        curl = example.curl
        assert (curl.silent, curl.url, curl.method, curl.with_headers) == \
            (True, URL, "POST", False), curl.command
        assert curl.headers.get("Content-Type") == "application/json", curl.command
    return examples


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
        command, shown = example.curl.command, "\n".join(example.output)
        body = json.loads(example.curl.data)
        if "variables" in body:
            body["variables"] = {name: self.variable(value, command)
                                 for name, value in body["variables"].items()}
        headers = {name: value.replace("$KEY", self.key)
                   for name, value in example.curl.headers.items() if name != "Content-Type"}
        response = self.client.post(example.curl.path, json.dumps(body),
                                    content_type="application/json", headers=headers)
        assert response.status_code == 200, (command, response.content)
        text = response.content.decode()
        answer = json.loads(text)
        found: list[str] = []  # this run's values in the places the README's vary
        self.match(json.loads(shown), answer, found, command)
        if self.exact:
            values = iter(found)
            shown = QUOTED.sub(lambda quoted: json.dumps(next(values))
                               if varies(json.loads(quoted[0])) else quoted[0], shown)
            assert next(values, None) is None
            assert text == shown, command
        page_info = ((answer.get("data") or {}).get("allTask") or {}).get("pageInfo") or {}
        self.end_cursor = page_info.get("endCursor", self.end_cursor)

    def variable(self, shown: Any, command: str) -> Any:
        """What the reader sends where the README shows a varying value: the endCursor just
        received for a shortened cursor, this run's timestamp for the README's."""
        if not varies(shown):
            return shown
        if shown.endswith(SHORTENED):
            assert self.end_cursor and self.end_cursor.startswith(shown[:-1]), command
            return self.end_cursor
        assert shown in self.timestamps, (command, "a timestamp not read before")
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
    assert len(examples) == 7, [e.curl.command for e in examples]
    _, key = server_keys.create(demo, "readme")
    replay = Replay(key, exact=not on_postgres)
    send_the_mutations_example(replay.client, key)
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
