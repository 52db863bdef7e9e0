"""The playground in a real browser with nothing but loopback: GraphiQL's files come from this
server (the `page` fixture aborts, and fails on, any other request)."""

from playwright.sync_api import expect

from models_registry.models import Application

from ..data_api.conftest import demo  # noqa: F401  (the fixture)
from .conftest import run_in_graphiql

QUERY = "{ allTask(limit: 1) { totalCount } }"


def test_graphiql_renders_and_runs_a_query_offline(page, demo):  # noqa: F811
    Application.objects.filter(pk=demo.pk).update(playground_enabled=True)
    page.goto("/api/demo/graphql")
    expect(run_in_graphiql(page, QUERY)).to_contain_text('"totalCount": 20')


def test_with_the_playground_off_a_browser_reads_how_to_switch_it_on(page, demo):  # noqa: F811
    response = page.goto("/api/demo/graphql")
    assert response.status == 400
    expect(page.get_by_role("heading", level=1)).to_have_text("The playground is off for Demo")
    expect(page.get_by_role("link", name="the application demo")).to_have_attribute(
        "href", f"/admin/models_registry/application/{demo.pk}/change/")
    expect(page.locator("pre")).to_contain_text(
        '"query": "{ allArtist(limit: 1) { totalCount results { id name } } }"')


def test_graphiql_pages_with_cursors_and_shows_global_ids(page, demo):  # noqa: F811
    """Relay's parts answer in the playground as in any client: edges with their cursors,
    pageInfo and each record's nodeId."""
    Application.objects.filter(pk=demo.pk).update(playground_enabled=True)
    page.goto("/api/demo/graphql")
    result = run_in_graphiql(page, "{ allTask(first: 1) { edges { cursor node { nodeId name } } "
                                   "pageInfo { hasNextPage hasPreviousPage } } }")
    expect(result).to_contain_text('"nodeId": "Z2lkOi8vZGVtby9UYXNrLzE="')
    expect(result).to_contain_text('"hasNextPage": true')
    expect(result).to_contain_text('"cursor": "WyJUYXNrIixb')
