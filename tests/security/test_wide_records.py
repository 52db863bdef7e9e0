"""A record of many properties is readable whole (point 14 of the security review): one call
of PostgreSQL's json_build_object takes 50 members, SQLite's json_object 63; past that the
planner joins several, keeping the members in the order asked."""

from ..conftest import everyone_may
from ..data_api.conftest import Api

WIDTH = 120


def test_a_record_of_120_properties_reads_whole(make_app, make_model):
    app = make_app("wide")
    names = [f"p{i:03}" for i in range(WIDTH)]
    everyone_may(make_model(app, "Wide", **dict.fromkeys(names, "text")),
                 operations=("read", "create"))
    api = Api("wide")
    values = {name: f"value {i}" for i, name in enumerate(names)}
    created = api.data("mutation($input: WideInput!) { createWide(input: $input) { id } }",
                       {"input": values})
    selection = " ".join(reversed(names))  # not in the properties' order
    record = api.data("{ oneWide { " + selection + " project: __typename } }")["oneWide"]
    assert list(record) == list(reversed(names)) + ["project"]
    assert record == {**values, "project": "Wide"}
    page = api.data("{ allWide { results { id " + selection + " } } }")["allWide"]["results"]
    assert page == [{"id": created["createWide"]["id"], **values}]
