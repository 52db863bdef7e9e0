"""A request starts from the application as this process last read it, and checks the
application's row inside its data statement: a change made anywhere is seen by the next
request, and a warm read costs one statement."""

from models_registry import changes
from models_registry.models import Application, DataModel


def test_a_warm_read_is_one_statement(api, django_assert_num_queries):
    api.data("{ oneTask(where: { id: { eq: 1 } }) { id } }")  # warm
    with django_assert_num_queries(1):
        data = api.data("{ oneTask(where: { id: { eq: 2 } }) { id name } }")
    assert data["oneTask"]["id"] == 2


def test_an_empty_answer_checks_the_row_on_its_own(api, django_assert_num_queries):
    api.data("{ oneTask(where: { id: { eq: 1 } }) { id } }")  # warm
    with django_assert_num_queries(2) as captured:  # no row came back to carry the check
        assert api.data("{ oneTask(where: { id: { eq: 999999 } }) { id } }") == {"oneTask": None}
    assert "models_registry_application" in captured.captured_queries[1]["sql"]


def test_settings_changed_elsewhere_apply_to_the_next_request(api, demo):
    assert len(api.data("{ allTask(limit: 20) { results { id } } }")["allTask"]["results"]) == 20
    # Another process (the admin) lowers the maximum page size; this process's copy is stale.
    Application.objects.filter(pk=demo.pk).update(max_page_size=10)
    error = api.error("{ allTask(limit: 20) { results { id } } }")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "between 0 and 10" in error["message"]


def test_a_property_added_elsewhere_is_queryable_by_the_next_request(api, demo):
    api.data("{ allTask { totalCount } }")  # warm: the schema without `notes`
    task = DataModel.objects.get(application=demo, name="Task")
    changes.add_property(task, "notes", "text")
    data = api.data("{ allTask(limit: 1) { results { notes } } }")
    assert data["allTask"]["results"] == [{"notes": None}]


def test_a_property_deleted_elsewhere_is_refused_by_the_next_request(api, demo):
    api.data("{ allTask(limit: 1) { results { name } } }")  # warm: the schema with `name`
    changes.delete_property(DataModel.objects.get(application=demo, name="Task")
                            .properties.get(name="name"))
    error = api.error("{ allTask(limit: 1) { results { name } } }")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Cannot query field 'name'" in error["message"]


def test_an_application_deleted_elsewhere_is_404_for_the_next_request(api, demo):
    api.data("{ allTask { totalCount } }")  # warm
    changes.delete_application(demo)
    response = api.post("{ allTask { totalCount } }")
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
