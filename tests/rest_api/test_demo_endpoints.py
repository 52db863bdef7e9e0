"""The demo's REST endpoints (fixtures/demo.json) answer as the README says: its curl examples
replayed in order against a freshly loaded demo, as a reader who followed *Mutations* first
sends them; the definition it shows is the demo's; and a few answers it only describes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from apps.identity import server_keys
from models_registry import changes
from models_registry.models import Property
from models_registry.runtime import runtime_models
from tests.readme_examples import README, Example, section_examples, send_the_mutations_example

DEMO = Path(settings.BASE_DIR) / "fixtures" / "demo.json"
RENAMED = "After renaming `Task.endDate` to `dueDate`:"


def rest_section_examples() -> list[Example]:
    """The section's examples, each a curl of a URL under localhost:8000."""
    examples = list(section_examples("### REST endpoints"))
    for example in examples:
        assert example.curl.url.startswith("localhost:8000/"), example.curl.command
    return examples


class Replay:
    """Sends the examples in order, as a reader does, and checks each answer. The README shows
    `make run`'s answers, i.e. SQLite's, which must match byte for byte. PostgreSQL builds the
    JSON text itself (`"id" : 1`), so there the bodies must be equal as JSON, and its ETags
    (hashes of that text) stand in for the README's in later If-None-Match headers."""

    def __init__(self, key: str, exact: bool):
        self.client = Client(HTTP_HOST="localhost")
        self.key, self.exact = key, exact
        self.etags: dict[str, str] = {}  # the README's → this database's

    def send(self, example: Example):
        curl = example.curl
        headers = {name: self.etags.get(value, value.replace("$KEY", self.key))
                   for name, value in curl.headers.items()}
        content_type = headers.pop("Content-Type", "application/octet-stream")
        response = self.client.generic(curl.method, curl.path, curl.data or "",
                                       content_type=content_type, headers=headers)
        self.check(response, example)

    def check(self, response, example: Example) -> None:
        """The status line and the headers the README kept (with -i), and the body."""
        shown, command = example.output, example.curl.command
        if example.curl.with_headers:
            status = re.fullmatch(r"HTTP/1\.1 (\d{3}) (.+)", shown[0])
            assert (response.status_code, response.reason_phrase) == \
                (int(status[1]), status[2]), command
            blank = shown.index("") if "" in shown else len(shown)
            for line in shown[1:blank]:
                name, _, value = line.partition(": ")
                if name == "ETag" and not self.exact:
                    assert re.fullmatch(r'"[0-9a-f]{32}"', response.headers[name])
                    value = self.etags.setdefault(value, response.headers[name])
                assert response.headers.get(name) == value, (command, name)
            shown = shown[blank + 1:]
        body = response.content.decode()
        if self.exact or not shown:
            assert body == "\n".join(shown), command
        else:
            assert json.loads(body) == json.loads("\n".join(shown)), command


def test_the_readme_rest_examples_answer_what_it_shows(demo, on_postgres):
    examples = rest_section_examples()
    assert len(examples) >= 8, [e.curl.command for e in examples]
    _, key = server_keys.create(demo, "readme")
    replay = Replay(key, exact=not on_postgres)
    send_the_mutations_example(replay.client, key)
    for example in examples:
        if example.before.endswith(RENAMED):
            end_date = Property.objects.get(data_model__application=demo,
                                            data_model__name="Task", name="endDate")
            changes.alter_property(end_date, name="dueDate")
        replay.send(example)


def test_the_readme_definition_is_the_demos():
    text = README.read_text(encoding="utf-8")
    shown = text[text.index('```json\n"restEndpoints"'):].split("```")[1].removeprefix("json\n")
    endpoints = json.loads("{" + shown + "}")["restEndpoints"]
    demo = {e["name"]: e for e in json.loads(DEMO.read_text())["restEndpoints"]}
    for endpoint in endpoints:
        assert endpoint.items() <= demo[endpoint["name"]].items()


@pytest.fixture
def client(demo) -> Client:
    return Client(HTTP_HOST="localhost")


def done_of(demo, task_id: int) -> bool:
    Task = runtime_models(demo)["Task"]
    return getattr(Task.objects.get(pk=task_id), Task._mortar.attname("done"))


def test_tasks_lists_the_open_ones_ten_at_a_time(client):
    body = client.get("/api/demo/rest/tasks").json()["data"]["allTask"]
    assert body["totalCount"] == 14
    assert [task["id"] for task in body["results"]] == list(range(7, 17))
    finished = client.get("/api/demo/rest/tasks?done=true").json()["data"]["allTask"]
    assert [task["id"] for task in finished["results"]] == [1, 2, 3, 4, 5, 6]


def test_an_unknown_task_is_null_with_200(client):
    response = client.get("/api/demo/rest/tasks/999")
    assert (response.status_code, response.json()) == (200, {"data": {"oneTask": None}})


def test_finishing_a_task_takes_a_key_and_done_false_reopens_it(demo, client):
    response = client.patch("/api/demo/rest/tasks/7")
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert done_of(demo, 7) is False  # the refusal changed nothing
    _, key = server_keys.create(demo, "tests")
    auth = {"Authorization": f"Bearer {key}"}
    assert client.patch("/api/demo/rest/tasks/7", headers=auth).json() == \
        {"data": {"updateTask": {"id": 7, "name": "Plan sprint", "done": True}}}
    assert done_of(demo, 7) is True
    assert client.patch("/api/demo/rest/tasks/7?done=false", headers=auth).json() == \
        {"data": {"updateTask": {"id": 7, "name": "Plan sprint", "done": False}}}
    assert done_of(demo, 7) is False


def test_creating_a_task_without_a_key_creates_nothing(demo, client):
    response = client.post("/api/demo/rest/tasks", {"input": {"name": "Sneak in"}},
                           content_type="application/json")
    assert response.status_code == 403
    assert runtime_models(demo)["Task"].objects.count() == 20
