"""`where` by property kind, with the platform's operator names; _and/_or; through relations.

Demo facts used below: task i has endDate 2025-01-06 + 7·i days, externalId ext-00i,
done for i <= 6, priority ["low", "medium", "high"][i % 3], project (i % 3) + 1
(1 Website, 2 Office move, 3 Marketing).
"""

import pytest

from .conftest import ids

EVERY = list(range(1, 21))


@pytest.mark.parametrize(
    "where,expected",
    [
        ("{ id: { eq: 4 } }", [4]),
        ("{ id: { neq: 4 } }", [i for i in EVERY if i != 4]),
        ("{ id: { in: [2, 5, 99] } }", [2, 5]),
        ("{ id: { nin: [2, 5] } }", [i for i in EVERY if i not in (2, 5)]),
        ("{ id: { in: [] } }", []),
        ("{ id: { gt: 17 } }", [18, 19, 20]),
        ("{ id: { gteq: 18 } }", [18, 19, 20]),
        ("{ id: { gte: 18 } }", [18, 19, 20]),
        ("{ id: { lt: 3 } }", [1, 2]),
        ("{ id: { lteq: 2 } }", [1, 2]),
        ("{ id: { lte: 2 } }", [1, 2]),
        ('{ endDate: { gteq: "2025-03-31" } }', [12, 13, 14, 15, 16, 17, 18, 19, 20]),
        ('{ endDate: { lt: "2025-01-27", gt: "2025-01-13" } }', [2]),
        ('{ name: { eq: "Write copy" } }', [2]),
        ('{ name: { matches: "DESIGN" } }', [1, 9]),
        ('{ name: { does_not_match: "E" } }', [5, 7, 10, 17]),
        ('{ name: { starts_with: "write" } }', [2, 14]),
        ('{ name: { ends_with: "bug" } }', [17]),
        ('{ name: { regex: "^(Plan|Fix) " } }', [7, 17]),
        ('{ name: { matches: "100%" } }', []),  # % is a character, not a wildcard
        ('{ externalId: { in: ["ext-001", "ext-020"] } }', [1, 20]),
        ("{ done: { eq: true } }", [1, 2, 3, 4, 5, 6]),
        ("{ done: { neq: true } }", list(range(7, 21))),
        ('{ priority: { eq: "high" } }', [2, 5, 8, 11, 14, 17, 20]),
        ("{ description: { exists: true } }", EVERY),
        ("{ description: { does_not_exist: true } }", []),
        ("{ createdAt: { lt: \"2000-01-01T00:00:00Z\" } }", []),
    ],
)
def test_operators(api, where, expected):
    data = api.data(f"{{ allTask(where: {where}, limit: 200) {{ results {{ id }} }} }}")
    assert ids(data["allTask"]) == expected


def test_and_or_nest_to_any_depth(api):
    where = """{ _or: [
        { _and: [ { done: { eq: true } }, { id: { gt: 4 } } ] },
        { _and: [ { priority: { eq: "high" } },
                  { _or: [ { id: { eq: 8 } }, { id: { eq: 20 } } ] } ] }
    ] }"""
    data = api.data(f"{{ allTask(where: {where}) {{ results {{ id }} }} }}")
    assert ids(data["allTask"]) == [5, 6, 8, 20]


def test_belongs_to_relation_filter(api):
    data = api.data('{ allTask(where: { project: { name: { eq: "Website" } } }) '
                    "{ results { id } } }")
    assert ids(data["allTask"]) == [3, 6, 9, 12, 15, 18]


def test_has_many_filter_matches_when_one_related_record_matches(api):
    data = api.data('{ allProject(where: { tasks: { name: { eq: "Fix login bug" } } }) '
                    "{ results { id name } } }")
    assert data["allProject"]["results"] == [{"id": 3, "name": "Marketing"}]


def test_habtm_filter_both_directions(api):
    data = api.data('{ allWebUser(where: { roles: { name: { eq: "viewer" } } }) '
                    "{ results { id } } }")
    assert ids(data["allWebUser"]) == [3, 4]
    data = api.data('{ allRole(where: { webUsers: { email: { ends_with: "@example.com" } } }) '
                    "{ results { id } } }")
    assert ids(data["allRole"]) == [1, 2, 3, 4]


def test_where_through_two_relations(api):
    data = api.data('{ allCompany(where: { webUsers: { roles: { name: { eq: "billing" } } } }) '
                    "{ results { name } } }")
    assert data["allCompany"]["results"] == [{"name": "Acme"}]


def test_values_are_bound_parameters(api):
    hostile = "x' OR 1=1 --"
    data = api.data("query($n: String) { allTask(where: { name: { eq: $n } }) "
                    "{ totalCount } }", {"n": hostile})
    assert data["allTask"]["totalCount"] == 0


@pytest.mark.parametrize(
    "where,field",
    [
        ('{ endDate: { eq: "31/12/2025" } }', "where.endDate.eq"),
        ('{ id: { eq: "four" } }', "where.id.eq"),
        ("{ colour: { eq: 1 } }", "where.colour"),
        ('{ name: { like: "x" } }', "where.name.like"),
        ('{ project: { budget: { gt: 3 } } }', "where.project.budget"),
    ],
)
def test_wrong_values_fields_and_operators_name_the_field(api, where, field):
    response = api.post(f"{{ allTask(where: {where}) {{ totalCount }} }}")
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == field
    assert field in error["message"]


def test_wrong_variable_value_names_the_field(api):
    error = api.error("query($w: TaskFilterInput) { allTask(where: $w) { totalCount } }",
                      {"w": {"endDate": {"eq": "tomorrow"}}})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "endDate" in error["message"]


def test_bad_regex_is_bad_user_input(api):
    error = api.error('{ allTask(where: { name: { regex: "(" } }) { totalCount } }')
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "where.name.regex" in error["message"]
