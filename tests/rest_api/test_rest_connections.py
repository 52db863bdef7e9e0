"""Cursor paging through a saved REST endpoint: ?after=<endCursor> reads the next page (a
cursor needs no escaping in a URL), and the OpenAPI document lists the endpoint's after and
first parameters and the edges and pageInfo of its answer."""

from __future__ import annotations

from .conftest import Rest, error_of
from .test_openapi import INT, Documented, document

PAGES = ("query($after: String, $first: Int = 2) { allTask(first: $first, after: $after) "
         "{ edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }")


def pages(rest: Rest) -> list[dict]:
    """allTask of every page of the endpoint, following endCursor in the URL as it is."""
    found, path = [], "tasks/pages"
    while True:
        response = rest.get(path)
        assert response.status_code == 200, response.content
        found.append(response.json()["data"]["allTask"])
        if not found[-1]["pageInfo"]["hasNextPage"]:
            return found
        path = f"tasks/pages?after={found[-1]['pageInfo']['endCursor']}"
        assert len(found) <= 20, "paging does not end"


def test_an_endpoint_pages_with_after_in_the_query_string(rest):
    rest.save("taskPages", "tasks/pages", PAGES)
    read = pages(rest)
    assert [len(page["edges"]) for page in read] == [2] * 10
    assert [e["node"]["id"] for page in read for e in page["edges"]] == list(range(1, 21))
    after_four = read[1]["pageInfo"]["endCursor"]
    more = rest.get("tasks/pages", {"after": after_four, "first": "5"}).json()
    assert [e["node"]["id"] for e in more["data"]["allTask"]["edges"]] == [5, 6, 7, 8, 9]
    assert rest.post("tasks/pages", {"after": after_four, "first": 1}).json()["data"][
        "allTask"]["edges"][0]["node"] == {"id": 5}


def test_a_bad_cursor_in_the_url_is_bad_user_input(rest):
    rest.save("taskPages", "tasks/pages", PAGES)
    response = rest.get("tasks/pages", {"after": "not-a-cursor"})
    assert response.status_code == 400
    error = error_of(response)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}
    assert error["message"].startswith("after: this is not a cursor this application gave out")
    too_many = error_of(rest.get("tasks/pages", {"first": "201"}))
    assert too_many["extensions"] == {"code": "BAD_USER_INPUT", "field": "first"}


def test_the_openapi_document_lists_after_and_first(rest):
    rest.save("taskPages", "tasks/pages", PAGES)
    spec = document()
    operation = spec["paths"]["/tasks/pages"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert parameters["after"]["in"] == "query" and not parameters["after"]["required"]
    assert parameters["after"]["schema"] == {"type": "string"}
    assert parameters["first"]["in"] == "query" and not parameters["first"]["required"]
    assert parameters["first"]["schema"] == {**INT, "default": 2}
    documented = Documented(spec)
    for page in ("tasks/pages", "tasks/pages?first=20"):
        body = documented.check("/tasks/pages", "get", rest.get(page))
        assert body["data"]["allTask"]["edges"]
    last = documented.check("/tasks/pages", "get", rest.get("tasks/pages?first=20"))
    assert last["data"]["allTask"]["pageInfo"] == {"hasNextPage": False,
                                                   "endCursor": last["data"]["allTask"][
                                                       "edges"][-1]["cursor"]}
    past = rest.get(f"tasks/pages?after={last['data']['allTask']['pageInfo']['endCursor']}")
    assert documented.check("/tasks/pages", "get", past)["data"]["allTask"] == {
        "edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}
