"""Cursor connections (Relay): allX takes first/after and last/before and answers `edges`
and `pageInfo` beside `results` and `totalCount`. Cursors are keyset cursors over the sort (id
the tiebreaker): paging with them reads every record once, in the order of one big page, also
while records are inserted and deleted between pages; they are signed, so that a cursor of
another model, sort or application is refused; one statement reads a page."""

import base64
import json
import threading

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.identity.models import Permission
from models_registry import changes
from models_registry.models import DataModel

from ..conftest import everyone_may
from .conftest import Api, ids

PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
CURSOR_PAGE = """query($first: Int, $after: String, $last: Int, $before: String,
  $sort: [{model}SortInput!], $where: {model}FilterInput) {{
  all{model}(first: $first, after: $after, last: $last, before: $before, sort: $sort,
             where: $where) {{ totalCount results {{ {node} }} edges {{ cursor node {{ {node} }} }}
  {page_info} }} }}"""
OFFSET_PAGE = """query($limit: Int, $offset: Int, $sort: [{model}SortInput!],
  $where: {model}FilterInput) {{
  all{model}(limit: $limit, offset: $offset, sort: $sort, where: $where) {{
    totalCount results {{ {node} }} edges {{ cursor node {{ {node} }} }} {page_info} }} }}"""
CREATE_MANY = "mutation($input: [TaskInput!]!) { createManyTask(input: $input) { id } }"
DELETE = "mutation($id: Int!) { deleteTask(id: $id) { id } }"
NAME = [{"field": "name", "order": "ASC"}]


class Lists:
    """allX of one model through one client, a page by cursor or by offset (`node`: the
    records' selection); every page's edges carry the same records as its results."""

    def __init__(self, api: Api, model: str = "Task", node: str = "id"):
        self.api, self.model, self.node = api, model, node

    def _page(self, template: str, variables: dict) -> dict:
        query = template.format(model=self.model, node=self.node, page_info=PAGE_INFO)
        found = self.api.data(query, variables)[f"all{self.model}"]
        assert [edge["node"] for edge in found["edges"]] == found["results"]
        return found

    def by_cursor(self, sort=None, where=None, **page) -> dict:
        return self._page(CURSOR_PAGE, {"sort": sort, "where": where, **page})

    def by_offset(self, sort=None, where=None, **page) -> dict:
        return self._page(OFFSET_PAGE, {"sort": sort, "where": where, **page})

    def everything(self, sort=None, where=None) -> list:
        """The records of one big offset page (the order cursor pages must keep)."""
        found = self.by_offset(sort, where, limit=200)
        assert not found["pageInfo"]["hasNextPage"]
        return found["results"]

    def cursors(self, sort=None) -> dict:
        """Each record's cursor under `sort`, by id, from one big offset page."""
        return {edge["node"]["id"]: edge["cursor"]
                for edge in self.by_offset(sort, limit=200)["edges"]}

    def forward(self, size: int, sort=None, where=None, after=None) -> list[dict]:
        """Pages of `size` from the start (or `after`), following endCursor to the end."""
        pages = []
        while True:
            pages.append(self.by_cursor(sort, where, first=size, after=after))
            if not pages[-1]["pageInfo"]["hasNextPage"]:
                return pages
            assert pages[-1]["pageInfo"]["endCursor"] != after, "no progress past the cursor"
            after = pages[-1]["pageInfo"]["endCursor"]

    def backward(self, size: int, sort=None, where=None, before=None) -> list[dict]:
        """Pages of `size` from the end (or `before`), following startCursor to the start."""
        pages = []
        while True:
            pages.append(self.by_cursor(sort, where, last=size, before=before))
            if not pages[-1]["pageInfo"]["hasPreviousPage"]:
                return pages
            assert pages[-1]["pageInfo"]["startCursor"] != before, "no progress past the cursor"
            before = pages[-1]["pageInfo"]["startCursor"]


def concatenated(pages: list[dict]) -> list:
    return [record for page in pages for record in page["results"]]


def decoded(cursor: str) -> str:
    return base64.urlsafe_b64decode(cursor).decode()


def create_tasks(api: Api, tasks: list[dict]) -> list[int]:
    return [t["id"] for t in api.data(CREATE_MANY, {"input": tasks})["createManyTask"]]


# -- the schema ------------------------------------------------------------------------------


def _type_ref(ref: dict | None) -> str:
    """A type reference of introspection as GraphQL writes it: [Task!]!"""
    if ref["kind"] == "NON_NULL":
        return _type_ref(ref["ofType"]) + "!"
    if ref["kind"] == "LIST":
        return "[" + _type_ref(ref["ofType"]) + "]"
    return ref["name"]


TYPE_REF = "type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }"


def test_introspection_shows_connections(api):
    """allTask takes first/after/last/before; TaskResultSet has edges and pageInfo beside
    results and totalCount; a nested has-many or habtm list takes first/after only."""
    data = api.data(f"""{{
      __schema {{ queryType {{ fields {{ name args {{ name {TYPE_REF} }} }} }} }}
      resultSet: __type(name: "TaskResultSet") {{ fields {{ name {TYPE_REF} }} }}
      edge: __type(name: "TaskEdge") {{ kind fields {{ name {TYPE_REF} }} }}
      pageInfo: __type(name: "PageInfo") {{ kind fields {{ name {TYPE_REF} }} }}
      project: __type(name: "Project") {{ fields {{ name args {{ name {TYPE_REF} }} }} }}
      webUser: __type(name: "WebUser") {{ fields {{ name args {{ name {TYPE_REF} }} }} }}
    }}""")

    def shapes(fields: list[dict]) -> dict:
        return {f["name"]: _type_ref(f["type"]) for f in fields}

    roots = {f["name"]: shapes(f["args"]) for f in data["__schema"]["queryType"]["fields"]}
    assert roots["allTask"] == {
        "where": "TaskFilterInput", "sort": "[TaskSortInput!]", "skip": "Int", "take": "Int",
        "offset": "Int", "limit": "Int", "first": "Int", "after": "String", "last": "Int",
        "before": "String"}
    assert {"first", "after", "last", "before"} <= set(roots["allWebUser"])
    assert shapes(data["resultSet"]["fields"]) == {
        "results": "[Task!]!", "totalCount": "Int!", "edges": "[TaskEdge!]!",
        "pageInfo": "PageInfo!"}
    assert data["edge"]["kind"] == "OBJECT"
    assert shapes(data["edge"]["fields"]) == {"cursor": "String!", "node": "Task!"}
    assert data["pageInfo"]["kind"] == "OBJECT"
    assert shapes(data["pageInfo"]["fields"]) == {
        "hasNextPage": "Boolean!", "hasPreviousPage": "Boolean!", "startCursor": "String",
        "endCursor": "String"}
    nested_page = {"skip": "Int", "take": "Int", "offset": "Int", "limit": "Int",
                   "first": "Int", "after": "String"}
    tasks = {f["name"]: shapes(f["args"]) for f in data["project"]["fields"]}["tasks"]
    assert tasks == {"where": "TaskFilterInput", "sort": "[TaskSortInput!]", **nested_page}
    roles = {f["name"]: shapes(f["args"]) for f in data["webUser"]["fields"]}["roles"]
    assert roles == {"where": "RoleFilterInput", "sort": "[RoleSortInput!]", **nested_page}


def test_introspection_beside_a_connection_answers_the_same(api):
    """A document with introspection runs through graphql-core's executor: its edges,
    cursors and pageInfo (aliases and __typename too) are those of the document alone."""
    page = ("allTask(first: 2, sort: [{ field: name }]) { __typename totalCount "
            "e: edges { __typename c: cursor n: node { i: id name } } "
            "p: pageInfo { __typename more: hasNextPage hasPreviousPage endCursor } }")
    alone = api.data(f"{{ {page} }}")
    beside = api.data(f"{{ __schema {{ queryType {{ name }} }} {page} }}")
    assert beside == {"__schema": {"queryType": {"name": "Query"}}, **alone}
    found = alone["allTask"]
    assert found["__typename"] == "TaskResultSet" and found["totalCount"] == 20
    assert [(e["__typename"], e["n"]) for e in found["e"]] == [
        ("TaskEdge", {"i": 5, "name": "Build contact form"}),
        ("TaskEdge", {"i": 20, "name": "Celebrate launch"})]
    assert found["p"] == {"__typename": "PageInfo", "more": True, "hasPreviousPage": False,
                          "endCursor": found["e"][1]["c"]}
    after = api.data("query($c: String) { __schema { queryType { name } } allTask(first: 1, "
                     "after: $c, sort: [{ field: name }]) { edges { node { id } } } }",
                     {"c": found["p"]["endCursor"]})
    assert after["allTask"] == {"edges": [{"node": {"id": 19}}]}  # Collect feedback


# -- paging through everything ------------------------------------------------------------------


SORTS = {
    "default": None,
    "name": NAME,
    "endDate desc (nulls first)": [{"field": "endDate", "order": "DESC"}],
    "project's name desc": [{"relation": {"project": {"name": "DESC"}}}],
    "decimal": [{"field": "estimate"}],
    "datetime desc": [{"field": "dueAt", "order": "DESC"}],
    "boolean desc, name": [{"field": "done", "order": "DESC"}, {"field": "name"}],
    "createdAt": [{"field": "createdAt"}],
    "id desc": [{"field": "id", "order": "DESC"}],
    "enum, project's name, endDate": [{"field": "priority"},
                                      {"relation": {"project": {"name": "ASC"}}},
                                      {"field": "endDate"}],
}


def _extra_tasks() -> list[dict]:
    """22 tasks beside the demo's 20: null names, end dates, estimates, due times and
    projects among them, and values several records share (with the demo's too)."""
    tasks = []
    for i in range(22):
        tasks.append({
            "name": None if i % 6 == 0 else ["Write copy", "alpha", 'Zulu: "q" \\', "élan"][i % 4],
            "endDate": None if i % 3 == 0 else f"2025-0{1 + i % 5}-1{i % 3}",
            "project": None if i % 4 == 0 else {"id": 1 + i % 3},
            "estimate": None if i % 5 == 0 else ["0.10", "1.50", "-2.25", "1234567.89",
                                                 "1.5"][i % 5],
            "dueAt": None if i % 4 == 1 else f"2025-03-0{1 + i % 4}T10:{i % 2}0:00.{i % 3}5Z",
            "done": i % 2 == 0,
            "priority": ["low", "high"][i % 2],
        })
    return tasks


@pytest.fixture
def varied(api, demo) -> Lists:
    """The demo's tasks with a decimal `estimate` and a datetime `dueAt`, and 22 more."""
    task = DataModel.objects.get(application=demo, name="Task")
    changes.add_property(task, "estimate", "decimal")
    changes.add_property(task, "dueAt", "datetime")
    create_tasks(api, _extra_tasks())
    return Lists(api)


@pytest.mark.parametrize("sort", SORTS.values(), ids=SORTS.keys())
def test_paging_forward_reads_every_record_once_in_order(varied, sort):
    """first: 3 following endCursor gives the records of one big page with the same sort,
    none twice, none left out; totalCount is the same on every page."""
    everything = varied.everything(sort)
    assert len(everything) == 42
    pages = varied.forward(3, sort)
    assert concatenated(pages) == everything
    assert [len(page["results"]) for page in pages] == [3] * 14
    for index, page in enumerate(pages):
        info = page["pageInfo"]
        assert page["totalCount"] == 42
        assert info["hasPreviousPage"] == (index > 0)
        assert info["hasNextPage"] == (index < 13)
        assert info["startCursor"] == page["edges"][0]["cursor"]
        assert info["endCursor"] == page["edges"][-1]["cursor"]


@pytest.mark.parametrize("sort", SORTS.values(), ids=SORTS.keys())
def test_paging_backward_reads_the_same_list(varied, sort):
    """last: 4 following startCursor from the end gives the same records, each page in the
    list's order, the pages from the last to the first."""
    everything = varied.everything(sort)
    pages = varied.backward(4, sort)
    assert concatenated(pages[::-1]) == everything
    assert [len(page["results"]) for page in pages] == [4] * 10 + [2]
    for index, page in enumerate(pages):
        assert page["totalCount"] == 42
        assert page["pageInfo"]["hasNextPage"] == (index > 0)
        assert page["pageInfo"]["hasPreviousPage"] == (index < 10)


@pytest.mark.parametrize("sort", [SORTS["name"], SORTS["project's name desc"]])
def test_a_cursor_of_an_offset_page_pages_on(varied, sort):
    """Offset pages answer edges and pageInfo too, and their cursors are the same as those
    of cursor pages: one works as `after` and as `before`."""
    everything = varied.everything(sort)
    page = varied.by_offset(sort, limit=4, offset=5)
    assert page["results"] == everything[5:9]
    assert page["pageInfo"]["hasPreviousPage"] and page["pageInfo"]["hasNextPage"]
    cursors = varied.cursors(sort)
    assert [e["cursor"] for e in page["edges"]] == [cursors[r["id"]] for r in everything[5:9]]
    after = varied.by_cursor(sort, first=3, after=page["pageInfo"]["endCursor"])
    assert after["results"] == everything[9:12]
    before = varied.by_cursor(sort, last=3, before=page["pageInfo"]["startCursor"])
    assert before["results"] == everything[2:5]
    first = varied.by_offset(sort, limit=3)["pageInfo"]
    assert (first["hasPreviousPage"], first["hasNextPage"]) == (False, True)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sizes=st.lists(st.integers(1, 9), min_size=1, max_size=4),
       sort=st.sampled_from(list(SORTS)), start=st.integers(0, 41))
def test_pages_of_any_sizes_from_any_cursor_join_up(varied, sizes, sort, start):
    """From any record's cursor, pages of varying sizes forward (and as many backward from
    the same cursor) read on exactly as the big page does. Read only: one dataset serves."""
    everything = varied.everything(SORTS[sort])
    cursor = varied.cursors(SORTS[sort])[everything[start]["id"]]
    read, after, index = [], cursor, 0
    while True:
        page = varied.by_cursor(SORTS[sort], first=sizes[index % len(sizes)], after=after)
        read += page["results"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after, index = page["pageInfo"]["endCursor"], index + 1
    assert read == everything[start + 1:]
    read, before, index = [], cursor, 0
    while True:
        page = varied.by_cursor(SORTS[sort], last=sizes[index % len(sizes)], before=before)
        read = page["results"] + read
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before, index = page["pageInfo"]["startCursor"], index + 1
    assert read == everything[:start]


def test_decimals_of_many_digits_page_exactly(make_app, make_model):
    """Decimals are exact: records whose values need more than 15 significant digits (or
    share one) are neither skipped nor repeated when paging one record at a time."""
    app = make_app("measures")
    everyone_may(make_model(app, "Reading", value="decimal"))
    api = Api("measures")
    values = ["12345678901234.56", "12345678901234.56", "12345678901234.57",
              "99999999999999.99", "0.30", "1234567890123.45", "-12345678901234.56"]
    api.data("mutation($input: [ReadingInput!]!) { createManyReading(input: $input) { id } }",
             {"input": [{"value": v} for v in values]})
    lists = Lists(api, "Reading", "id value")
    for sort in ([{"field": "value"}], [{"field": "value", "order": "DESC"}]):
        everything = lists.everything(sort)
        assert len(everything) == 7
        assert concatenated(lists.forward(1, sort)) == everything, sort
        assert concatenated(lists.backward(1, sort)[::-1]) == everything, sort


# -- inserts and deletes between pages ---------------------------------------------------------


@pytest.mark.parametrize("sort", [NAME, SORTS["endDate desc (nulls first)"]],
                         ids=["name", "endDate desc"])
@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_records_inserted_or_deleted_between_pages_move_no_other(api, demo, sort, direction):
    """Read a page, then insert a record on each side of its cursor and delete the record at
    the cursor and one not yet read; reading on sees every record that was there throughout
    exactly once, the one inserted ahead too, and the one inserted behind not."""
    lists = Lists(api)
    start = [r["id"] for r in lists.everything(sort)]
    forward = direction == "forward"
    first = lists.by_cursor(sort, **({"first": 5} if forward else {"last": 5}))
    seen = ids(first)
    cursor = first["pageInfo"]["endCursor" if forward else "startCursor"]
    # "AAAA" sorts before every demo name and a null end date before every date (DESC);
    # "zzzz" and 2000 after them
    early, late = create_tasks(api, [{"name": "AAAA early", "endDate": None},
                                     {"name": "zzzz late", "endDate": "2000-01-01"}])
    ahead, behind = (late, early) if forward else (early, late)
    at_cursor = seen[-1] if forward else seen[0]
    unseen = start[12] if forward else start[7]
    for task_id in (at_cursor, unseen):
        api.data(DELETE, {"id": task_id})
    pages = (lists.forward(4, sort, after=cursor) if forward
             else lists.backward(4, sort, before=cursor))
    read = seen + [i for page in pages for i in ids(page)]
    assert len(read) == len(set(read)), read
    assert sorted(i for i in read if i in start) == sorted(set(start) - {unseen})
    assert ahead in read and behind not in read
    assert all(page["totalCount"] == 20 for page in pages)  # 20 + 2 - 2


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite lets one writer in at a time: nothing writes while a page "
                           "is read")
def test_paging_while_another_client_inserts(api, demo):
    """A second client inserts (and commits) records on both sides of the cursor while the
    first pages through by name, at least two between each two pages: no record is read
    twice, and every record there before paging started is read exactly once."""
    create_tasks(api, [{"name": f"Task {i:02}"} for i in range(40)])
    lists = Lists(api)
    before = {r["id"] for r in lists.everything(NAME)}
    assert len(before) == 60
    inserted: list[int] = []
    failed: list[BaseException] = []
    wrote = threading.Condition()
    stop = threading.Event()

    def insert() -> None:
        writer = Api()
        try:
            for i in range(200):
                if stop.is_set():
                    return
                # alternately early and late in the order, and among the pages' own names
                name = ["0 first", "Task 20b", "zz last", "Hire designer"][i % 4] + f" {i}"
                [task_id] = create_tasks(writer, [{"name": name}])
                with wrote:
                    inserted.append(task_id)
                    wrote.notify_all()
        except Exception as error:  # told to the test, which fails
            failed.append(error)
        finally:
            with wrote:
                stop.set()
                wrote.notify_all()
            connections.close_all()

    thread = threading.Thread(target=insert)
    thread.start()
    read, after = [], None
    try:
        while True:
            with wrote:
                enough = len(inserted) + 2
            page = lists.by_cursor(NAME, first=4, after=after)
            read += ids(page)
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
            with wrote:  # the other client writes before the next page is read
                assert wrote.wait_for(
                    lambda enough=enough: len(inserted) >= enough or stop.is_set(), timeout=120)
    finally:
        stop.set()
        thread.join()
    assert not failed, failed
    assert len(inserted) >= 2 * 14, "the writer wrote too little to race with the pages"
    assert len(read) == len(set(read)), "a record was read twice"
    assert sorted(i for i in read if i in before) == sorted(before)
    assert set(read) <= before | set(inserted)
    assert set(read) & set(inserted), "no record inserted ahead of the cursor was read"


# -- pageInfo ----------------------------------------------------------------------------------


ALL = list(range(1, 21))


def _page_info_cases() -> list:
    """(page arguments with cursors as ("c", record id), ids, hasNextPage, hasPreviousPage);
    by id, the 20 demo tasks. None: either."""
    c = lambda i: ("c", i)  # noqa: E731
    return [
        ({"first": 5}, [1, 2, 3, 4, 5], True, False),
        ({"first": 5, "after": c(5)}, [6, 7, 8, 9, 10], True, True),
        ({"first": 5, "after": c(15)}, [16, 17, 18, 19, 20], False, True),
        ({"first": 5, "after": c(17)}, [18, 19, 20], False, True),
        ({"first": 5, "after": c(20)}, [], False, True),
        ({"after": c(12)}, ALL[12:], False, True),
        ({"first": 3, "before": c(8)}, [1, 2, 3], True, False),
        ({"last": 3, "after": c(15)}, [18, 19, 20], False, True),
        ({"first": 20}, ALL, False, False),
        ({"first": 200}, ALL, False, False),
        ({"last": 5}, [16, 17, 18, 19, 20], False, True),
        ({"last": 5, "before": c(16)}, [11, 12, 13, 14, 15], True, True),
        ({"last": 5, "before": c(6)}, [1, 2, 3, 4, 5], True, False),
        ({"last": 5, "before": c(3)}, [1, 2], True, False),
        ({"last": 5, "before": c(1)}, [], True, False),
        ({"before": c(11)}, ALL[:10], True, False),
        ({"last": 20}, ALL, False, False),
        ({"first": 0}, [], True, False),
        ({"first": 0, "after": c(20)}, [], False, True),
        ({"first": 0, "after": c(4)}, [], True, True),
        ({"last": 0}, [], False, True),
        ({"last": 0, "before": c(1)}, [], True, False),
        ({"after": c(3), "before": c(8)}, [4, 5, 6, 7], None, True),
        ({"first": 2, "after": c(3), "before": c(8)}, [4, 5], True, True),
        ({"last": 2, "after": c(3), "before": c(8)}, [6, 7], True, True),
        ({"last": 9, "after": c(3), "before": c(8)}, [4, 5, 6, 7], True, None),
    ]


def _case_id(args: dict) -> str:
    return ", ".join(f"{name}: {f'c{v[1]}' if isinstance(v, tuple) else v}"
                     for name, v in args.items())


@pytest.mark.parametrize("args, expected, has_next, has_previous", _page_info_cases(),
                         ids=[_case_id(case[0]) for case in _page_info_cases()])
def test_page_info(api, args, expected, has_next, has_previous):
    """hasNextPage and hasPreviousPage at the first, a middle and the last page, forward and
    backward, on empty pages and windows between two cursors; the start and end cursors
    are the first and last edge's (null on an empty page), the same cursors offset pages
    give; totalCount counts every record."""
    lists = Lists(api)
    cursors = lists.cursors()
    page = lists.by_cursor(**{k: cursors[v[1]] if isinstance(v, tuple) else v
                              for k, v in args.items()})
    assert ids(page) == expected
    assert [e["cursor"] for e in page["edges"]] == [cursors[i] for i in expected]
    info = page["pageInfo"]
    if has_next is not None:
        assert info["hasNextPage"] is has_next
    if has_previous is not None:
        assert info["hasPreviousPage"] is has_previous
    assert info["startCursor"] == (cursors[expected[0]] if expected else None)
    assert info["endCursor"] == (cursors[expected[-1]] if expected else None)
    assert page["totalCount"] == 20


def test_page_info_of_a_filtered_and_of_an_empty_list(api):
    """`where` limits the records paged through and those pageInfo looks for."""
    lists = Lists(api)
    open_tasks = {"done": {"eq": False}}  # 7 to 20
    cursors = lists.cursors()
    page = lists.by_cursor(where=open_tasks, first=3, after=cursors[2])
    assert ids(page) == [7, 8, 9]
    assert page["totalCount"] == 14
    assert (page["pageInfo"]["hasNextPage"], page["pageInfo"]["hasPreviousPage"]) == (
        True, False)  # tasks 1 and 2 lie before the cursor, but are done
    page = lists.by_cursor(where=open_tasks, last=3, before=cursors[7])
    assert (ids(page), page["pageInfo"]["hasPreviousPage"]) == ([], False)
    nothing = lists.by_cursor(where={"name": {"eq": "no such task"}}, first=5)
    assert nothing == {"totalCount": 0, "results": [], "edges": [], "pageInfo": {
        "hasNextPage": False, "hasPreviousPage": False, "startCursor": None,
        "endCursor": None}}


def test_page_info_alone_and_the_default_page(api, demo):
    """pageInfo without edges still gives the cursors; without first or last a page has the
    application's default size (50)."""
    create_tasks(api, [{"name": f"More {i}"} for i in range(40)])
    lists = Lists(api)
    cursors = lists.cursors()
    alone = api.data("query($c: String) { allTask(first: 3, after: $c) { pageInfo "
                     "{ hasNextPage endCursor } } }", {"c": cursors[2]})
    assert alone == {"allTask": {"pageInfo": {"hasNextPage": True, "endCursor": cursors[5]}}}
    page = lists.by_cursor(after=cursors[2])
    assert ids(page) == list(range(3, 53))
    assert page["pageInfo"]["hasNextPage"]
    assert ids(lists.by_cursor(before=cursors[59])) == list(range(9, 59))
    assert demo.default_page_size == 50


def test_the_same_record_has_the_same_cursor_under_one_sort(api):
    """A cursor names the record's place in one sort: the same in every request, another in
    another sort, and it carries no more than the model, the sort and the record's values."""
    lists = Lists(api)
    by_id, by_name = lists.cursors(), lists.cursors(NAME)
    assert lists.cursors() == by_id
    assert by_id[4] != by_name[4]
    assert len(set(by_id.values())) == 20
    signed, _signature = decoded(by_name[4]).rsplit(":", 1)
    assert json.loads(signed) == ["Task", ["name:text ASC", "id ASC"], ["Configure DNS", 4]]


# -- refusals ----------------------------------------------------------------------------------


def refused(api: Api, query: str, variables=None, field: str = "allTask") -> dict:
    """The only error of a request whose one field was refused as BAD_USER_INPUT, before any
    statement on the records; the field is null and nothing else is in data."""
    with CaptureQueriesContext(connection) as captured:
        body = api(query, variables)
    assert body["data"] == {field: None}, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["path"] == [field]
    assert not any("mortar_t" in q["sql"] for q in captured.captured_queries)
    return error


MIXED = ("Page by offset (limit/offset or take/skip) or by cursor (first/after or "
         "last/before), not both")
NOT_A_CURSOR = ("{}: this is not a cursor this application gave out. Pass on an edge's "
                "cursor or pageInfo's startCursor/endCursor unchanged, or leave it out to "
                "start from the beginning.")
BAD_ARGUMENTS = [
    ("first: 2, skip: 1", "first", f"{MIXED}: got skip with first."),
    ("first: 2, offset: 1", "first", f"{MIXED}: got offset with first."),
    ("first: 2, limit: 1", "first", f"{MIXED}: got limit with first."),
    ("first: 2, take: 1", "first", f"{MIXED}: got take with first."),
    ("last: 2, offset: 1", "last", f"{MIXED}: got offset with last."),
    ("after: $c, take: 3", "after", f"{MIXED}: got take with after."),
    ("before: $c, limit: 3, skip: 1", "before", f"{MIXED}: got limit and skip with before."),
    ("first: 2, last: 2", "last", "Give first (with after) to page forward or last (with "
                                  "before) to page backward, not both."),
    ("first: 201", "first", "first must be between 0 and 200 (got 201); fetch further pages "
                            "with after: pageInfo.endCursor."),
    ("first: -1", "first", "first must be between 0 and 200 (got -1); fetch further pages "
                           "with after: pageInfo.endCursor."),
    ("last: 201, before: $c", "last", "last must be between 0 and 200 (got 201); fetch "
                                      "further pages with before: pageInfo.startCursor."),
    ("last: -3", "last", "last must be between 0 and 200 (got -3); fetch further pages with "
                         "before: pageInfo.startCursor."),
    ('after: "not a cursor"', "after", NOT_A_CURSOR.format("after")),
    ('first: 1, before: ""', "before", NOT_A_CURSOR.format("before")),
    ('after: "WyJUYXNrIixbImlkIEFTQyJdLFszXV0="', "after", NOT_A_CURSOR.format("after")),
]


@pytest.mark.parametrize("args, field, message", BAD_ARGUMENTS,
                         ids=[case[0] for case in BAD_ARGUMENTS])
def test_contradicting_or_malformed_page_arguments_are_bad_user_input(api, args, field,
                                                                      message):
    """The message says what to send instead; extensions.field names the argument."""
    cursor = Lists(api).cursors()[3]
    declared = "query($c: String) " if "$c" in args else ""
    error = refused(api, f"{declared}{{ allTask({args}) {{ totalCount edges {{ cursor }} }} }}",
                    {"c": cursor} if declared else None)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert error["message"] == message


def _changed(cursor: str) -> list[str]:
    """The cursor with one character changed (in the middle, where every bit counts), and
    with the record's values edited and encoded again (the signature left as it was)."""
    middle = len(cursor) // 2
    one_character = cursor[:middle] + ("A" if cursor[middle] != "A" else "B") + cursor[middle + 1:]
    text = decoded(cursor)
    assert '"id ASC"],[3]]:' in text
    edited = base64.urlsafe_b64encode(text.replace("[3]]", "[30]]").encode()).decode()
    return [one_character, edited]


def test_a_changed_cursor_is_refused(api):
    cursor = Lists(api).cursors()[3]
    query = "query($c: String) { allTask(first: 2, after: $c) { edges { cursor } } }"
    for changed in _changed(cursor):
        error = refused(api, query, {"c": changed})
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}
        assert error["message"] == NOT_A_CURSOR.format("after")
    assert api.data(query, {"c": cursor})["allTask"]["edges"]  # the cursor itself works


def test_a_cursor_of_another_model_or_sort_is_refused(api):
    project = Lists(api, "Project").cursors()[1]
    query = ("query($c: String, $sort: [TaskSortInput!]) { allTask(first: 2, after: $c, "
             "sort: $sort) { totalCount } }")
    error = refused(api, query, {"c": project})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}
    assert error["message"] == ("after: this cursor is of a Project record, not of a Task: "
                                "cursors are given out by the list they page through "
                                "(allTask).")
    by_name = Lists(api).cursors(NAME)[3]
    for sort, other in ((None, "id ASC"), ([{"field": "name", "order": "DESC"}],
                                          "name:text DESC, id ASC")):
        error = refused(api, query, {"c": by_name, "sort": sort})
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}
        assert error["message"] == (
            f"after: this cursor is of another sort (name:text ASC, id ASC) than this list's "
            f"({other}). Page with the sort the cursor was given out with, or start again "
            "without a cursor.")
    assert api.data(query, {"c": by_name, "sort": NAME})["allTask"]["totalCount"] == 20


def test_a_cursor_of_another_application_is_refused(api, make_app, make_model):
    """Another application's Task under the same sort: the same model, sort and values, but
    its cursors are signed for that application."""
    everyone_may(make_model(make_app("other"), "Task", name="text"))
    other = Api("other")
    other.data('mutation { createManyTask(input: [{ name: "a" }, { name: "b" }, { name: "c" }, '
               '{ name: "d" }]) { id } }')
    foreign = Lists(other).cursors()[3]
    mine = Lists(api).cursors()[3]
    assert decoded(foreign).split(":")[0] == decoded(mine).split(":")[0]
    query = "query($c: String) { allTask(first: 2, after: $c) { totalCount } }"
    error = refused(api, query, {"c": foreign})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}
    assert error["message"] == NOT_A_CURSOR.format("after")
    assert other.data("query($c: String) { allTask(after: $c) { results { name } } }",
                      {"c": foreign}) == {"allTask": {"results": [{"name": "d"}]}}


@pytest.mark.parametrize("args, field, message", [
    ("first: 1, skip: 1", "first", f"{MIXED}: got skip with first."),
    ("first: 201", "first", "first must be between 0 and 200 (got 201); fetch further pages "
                            "with after: pageInfo.endCursor."),
    ('after: "nope"', "after", NOT_A_CURSOR.format("after")),
])
def test_a_nested_list_refuses_the_same(api, args, field, message):
    error = refused(api, f"{{ allProject {{ results {{ tasks({args}) {{ id }} }} }} }}",
                    field="allProject")
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert error["message"] == message


def test_a_nested_list_refuses_a_cursor_of_another_model_or_sort(api):
    query = ("query($c: String) { allProject { results { tasks(first: 1, after: $c, "
             "sort: [{ field: name }]) { id } } } }")
    error = refused(api, query, {"c": Lists(api, "Project").cursors(NAME)[1]},
                    field="allProject")
    assert error["message"].startswith("after: this cursor is of a Project record, not of a "
                                       "Task")
    error = refused(api, query, {"c": Lists(api).cursors()[1]}, field="allProject")
    assert error["message"].startswith("after: this cursor is of another sort (id ASC)")


# -- nested lists ------------------------------------------------------------------------------


def test_a_nested_has_many_list_starts_after_the_cursor(api):
    """Each project's tasks(first: 2, after: c, sort: name) are the two first of its tasks
    that come after c's place in allTask(sort: name), whoever's c is."""
    lists = Lists(api, node="id name project { id }")
    everything = lists.everything(NAME)
    query = ("query($c: String, $first: Int) { allProject(sort: [{ field: id }]) { results "
             "{ id tasks(first: $first, after: $c, sort: [{ field: name }]) { id name } } } }")
    for position in (0, 7, 13, 19):
        cursor = lists.cursors(NAME)[everything[position]["id"]]
        for first in (2, None):
            found = api.data(query, {"c": cursor, "first": first})["allProject"]["results"]
            expected = [{"id": project, "tasks": [
                {"id": t["id"], "name": t["name"]} for t in everything[position + 1:]
                if t["project"] == {"id": project}][:first]} for project in (1, 2, 3)]
            assert found == expected, (position, first)
    assert api.data(query, {"first": 1})["allProject"]["results"] == [
        {"id": 1, "tasks": [{"id": 9, "name": "Hire designer"}]},  # the first by name
        {"id": 2, "tasks": [{"id": 19, "name": "Collect feedback"}]},
        {"id": 3, "tasks": [{"id": 5, "name": "Build contact form"}]}]


def test_nested_habtm_lists_start_after_the_cursor(api):
    """Both sides of WebUser.roles: roles by name after "billing", users by id after 2."""
    role_cursor = Lists(api, "Role").cursors(NAME)[4]  # billing: admin < billing < editor
    users = api.data("query($c: String) { allWebUser(sort: [{ field: id }]) { results { id "
                     "roles(first: 1, after: $c, sort: [{ field: name }]) { name } } } }",
                     {"c": role_cursor})["allWebUser"]["results"]
    # roles: Betty admin+editor, Bob editor, Carla viewer, Dave viewer+billing, Eve none
    assert users == [{"id": 1, "roles": [{"name": "editor"}]},
                     {"id": 2, "roles": [{"name": "editor"}]},
                     {"id": 3, "roles": [{"name": "viewer"}]},
                     {"id": 4, "roles": [{"name": "viewer"}]},
                     {"id": 5, "roles": []}]
    user_cursor = Lists(api, "WebUser").cursors()[2]
    roles = api.data("query($c: String) { allRole(sort: [{ field: id }]) { results { name "
                     "webUsers(after: $c) { id } } } }", {"c": user_cursor})["allRole"]
    assert roles["results"] == [{"name": "admin", "webUsers": []},
                                {"name": "editor", "webUsers": []},
                                {"name": "viewer", "webUsers": [{"id": 3}, {"id": 4}]},
                                {"name": "billing", "webUsers": [{"id": 4}]}]


# -- permissions -------------------------------------------------------------------------------


def _read_only(demo, model: str, condition: dict) -> None:
    rule = Permission.objects.get(data_model__application=demo, data_model__name=model,
                                  operation="read")
    rule.condition = condition
    rule.save()


def test_cursors_page_through_readable_records_only(demo):
    """Anyone may read only the open tasks (7 to 20): pages, totalCount and hasPreviousPage
    know of no other; a cursor of a record the caller cannot read (from before the rule)
    still places the page, and reveals nothing before it."""
    api = Api()
    lists = Lists(api)
    cursors = lists.cursors()
    _read_only(demo, "Task", {"done": {"eq": False}})
    assert [r["id"] for r in lists.everything()] == list(range(7, 21))
    pages = lists.forward(4)
    assert concatenated(pages) == lists.everything()
    assert ids(pages[0]) == [7, 8, 9, 10]
    assert {p["totalCount"] for p in pages} == {14}
    assert not pages[0]["pageInfo"]["hasPreviousPage"]
    after_unreadable = lists.by_cursor(first=3, after=cursors[6])
    assert ids(after_unreadable) == [7, 8, 9]
    assert after_unreadable["totalCount"] == 14
    assert not after_unreadable["pageInfo"]["hasPreviousPage"]  # 1 to 6 are done
    after_readable = lists.by_cursor(first=3, after=cursors[7])
    assert (ids(after_readable), after_readable["pageInfo"]["hasPreviousPage"]) == (
        [8, 9, 10], True)
    backward = lists.by_cursor(last=3, before=cursors[8])
    assert (ids(backward), backward["pageInfo"]["hasPreviousPage"],
            backward["pageInfo"]["hasNextPage"]) == ([7], False, True)
    empty = lists.by_cursor(last=3, before=cursors[5])
    assert (ids(empty), empty["pageInfo"]["hasPreviousPage"]) == ([], False)
    assert concatenated(lists.backward(5)[::-1]) == lists.everything()


def test_a_relation_sort_on_records_the_caller_cannot_read(demo):
    """Tasks sorted by their project's name when the project Website may not be read: its
    tasks sort as those without a project, and no cursor carries its name."""
    api = Api()
    _read_only(demo, "Project", {"name": {"neq": "Website"}})
    lists = Lists(api, node="id project { name }")
    sort = SORTS["project's name desc"]
    everything = lists.everything(sort)
    assert [r["id"] for r in everything[:6]] == [3, 6, 9, 12, 15, 18]  # Website's: null
    pages = lists.forward(4, sort)
    assert concatenated(pages) == everything
    assert concatenated(lists.backward(3, sort)[::-1]) == everything
    cursors = [e["cursor"] for page in pages for e in page["edges"]]
    assert not any("Website" in decoded(cursor) for cursor in cursors)


# -- statements --------------------------------------------------------------------------------


PAGE = """query($c: String, $size: Int, $last: Int, $before: String) {
  allTask(first: $size, after: $c, last: $last, before: $before, sort: [{ field: name }]) {
    totalCount
    edges { cursor node { id project { name } } }
    pageInfo { hasNextPage hasPreviousPage endCursor } } }"""
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK")


def statements(api: Api, query: str, variables: dict) -> tuple[dict, list[str]]:
    """The data of a request and its SQL statements (transaction control left out)."""
    with CaptureQueriesContext(connection) as captured:
        data = api.data(query, variables)
    return data, [q["sql"] for q in captured.captured_queries
                  if not q["sql"].startswith(TRANSACTION_CONTROL)]


@pytest.mark.parametrize("size", [5, 50])
def test_a_page_after_a_cursor_is_one_statement(api, demo, size):
    """totalCount, the edges with their records' projects, and both sides of pageInfo: one
    statement, whether it reads 5 rows or 50."""
    create_tasks(api, [{"name": f"More {i}", "project": {"id": 1 + i % 3}} for i in range(60)])
    cursor = Lists(api).cursors(NAME)[4]
    statements(api, PAGE, {"c": cursor, "size": size})  # warm
    data, sql = statements(api, PAGE, {"c": cursor, "size": size})
    assert len(sql) == 1, sql
    page = data["allTask"]
    assert len(page["edges"]) == size and page["totalCount"] == 80
    assert all(e["node"]["project"]["name"] for e in page["edges"])
    assert page["pageInfo"]["hasNextPage"] and page["pageInfo"]["hasPreviousPage"]
    data, sql = statements(api, PAGE, {"before": page["pageInfo"]["endCursor"], "last": size})
    assert len(sql) == 1, sql
    assert len(data["allTask"]["edges"]) == size


def test_an_empty_page_after_a_cursor_asks_again_for_count_and_what_lies_before(api):
    """A page without rows carries neither the count nor whether records lie before the
    cursor: both come from one statement of their own; without totalCount and pageInfo, the
    page's statement alone reads the records."""
    lists = Lists(api)
    last = lists.cursors(NAME)[lists.everything(NAME)[-1]["id"]]
    statements(api, PAGE, {"c": last, "size": 5})  # warm
    data, sql = statements(api, PAGE, {"c": last, "size": 5})
    assert data["allTask"] == {"totalCount": 20, "edges": [], "pageInfo": {
        "hasNextPage": False, "hasPreviousPage": True, "endCursor": None}}
    assert len([q for q in sql if "mortar_t" in q]) == 2, sql
    data, sql = statements(api, "query($c: String) { allTask(first: 5, after: $c, sort: "
                                "[{ field: name }]) { edges { cursor } } }", {"c": last})
    assert data["allTask"] == {"edges": []}
    assert len([q for q in sql if "mortar_t" in q]) == 1, sql

