"""Every query example of the primary contract (Betty Blocks Data API reference), as written,
against the demo application."""

import re

from .conftest import ids


def test_get_all_tasks(api):
    data = api.data("{ allTask { results { id name endDate } } }")
    assert ids(data["allTask"]) == list(range(1, 21))
    assert data["allTask"]["results"][0] == {
        "id": 1, "name": "Design homepage", "endDate": "2025-01-13"}


def test_filter_with_where(api):
    data = api.data("{ allTask(where: { id: { in: [3, 4] } }) { results { id name endDate } } }")
    assert data == {"allTask": {"results": [
        {"id": 3, "name": "Set up hosting", "endDate": "2025-01-27"},
        {"id": 4, "name": "Configure DNS", "endDate": "2025-02-03"},
    ]}}


def test_one_task(api):
    data = api.data("{ oneTask(where: { id: { eq: 10 } }) { id name description } }")
    assert data == {"oneTask": {"id": 10, "name": "Draft contract",
                                "description": "Draft contract for the office project."}}


def test_sort_descending(api):
    data = api.data("{ allTask(sort: { field: id, order: DESC }) { results { id } } }")
    assert ids(data["allTask"]) == list(range(20, 0, -1))


def test_limit_and_offset(api):
    data = api.data("{ allTask(limit: 5, offset: 0) { results { id task } } }")
    assert data["allTask"]["results"] == [
        {"id": 1, "task": "Design homepage"}, {"id": 2, "task": "Write copy"},
        {"id": 3, "task": "Set up hosting"}, {"id": 4, "task": "Configure DNS"},
        {"id": 5, "task": "Build contact form"}]


def test_related_record(api):
    data = api.data("{ oneTask(where: { id: { eq: 3 } }) { id name project { name } } }")
    assert data == {"oneTask": {"id": 3, "name": "Set up hosting",
                                "project": {"name": "Website"}}}


def test_file_properties(api):
    data = api.data("{ allArtist { results { name songs { art { name url } } } } }")
    artists = data["allArtist"]["results"]
    assert [a["name"] for a in artists] == ["New Order", "David Bowie"]
    art = artists[0]["songs"][0]["art"]
    assert art["name"] == "blue-monday.png"
    assert re.fullmatch(r"/api/demo/files/[0-9a-f]{32}/blue-monday\.png"
                        r"\?expires=\d+&signature=[0-9a-f]{64}", art["url"]), art["url"]
    assert len(artists[1]["songs"]) == 3
