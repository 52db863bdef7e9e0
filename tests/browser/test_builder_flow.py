"""The builder's flow in a real browser: log in, create an application with its playground on,
a model with properties of a few kinds, a relation, records, grant read to anyone, and run a
query in the playground. Each step leaves a screenshot in var/screenshots/ (CI artifacts)."""

from playwright.sync_api import expect

from models_registry.models import Application, DataModel, Relation

from .conftest import SCREENSHOTS, log_in_as_builder, run_in_graphiql

QUERY = "{ allProduct { totalCount results { name price size category { name } } } }"

# Whether a number box shows its whole value: the text's width, plus the box's arrows, fits
# inside its padding.
SHOWS_WHOLE_NUMBER = """input => {
  const style = getComputedStyle(input);
  const context = document.createElement("canvas").getContext("2d");
  context.font = style.font;
  const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return context.measureText(input.value).width + 16 <= room;
}"""


def shot(page, step: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"builder_flow_{step}.png", full_page=True)


def press(page, button: str) -> None:
    page.get_by_role("button", name=button, exact=True).first.click()  # pages may have 2 rows


def saved(page, message: str) -> None:
    expect(page.locator(".messagelist")).to_contain_text(message)


def test_builder_flow(page):
    log_in_as_builder(page)
    shot(page, "01_logged_in")

    # The application, its playground on; the slug's help then shows the real URL.
    page.goto("/admin/models_registry/application/add/")
    expect(page.locator("#id_slug_helptext")).to_contain_text("/api/<slug>/graphql")
    page.locator("#id_slug").fill("shop")
    page.locator("#id_name").fill("Shop")
    page.locator("#id_environment").select_option("sandbox")
    page.locator("#id_playground_enabled").check()
    press(page, "Save and continue editing")
    saved(page, "was added successfully")
    api_url = f"{page.url.split('/admin/')[0]}/api/shop/graphql"
    expect(page.locator("#id_slug_helptext a").first).to_have_attribute("href", api_url)
    assert page.locator("#id_max_body_bytes").evaluate(SHOWS_WHOLE_NUMBER)
    shot(page, "02_application")

    # Category: a model with a text property, added through the inline.
    page.get_by_role("link", name="Add a data model").click()
    page.locator("#id_name").fill("Category")
    press(page, "Save")
    saved(page, "The model Category and its table were created")
    page.locator("#id_properties-0-name").fill("name")
    press(page, "Save and continue editing")
    saved(page, "was changed successfully")
    category = DataModel.objects.get(name="Category")

    # Product: text and decimal properties (a default typed as a value) and a relation.
    page.goto(f"/admin/models_registry/application/{category.application_id}/change/")
    page.get_by_role("link", name="Add a data model").click()
    page.locator("#id_name").fill("Product")
    press(page, "Save")
    page.locator("#id_properties-0-name").fill("name")
    page.locator("#properties-group .add-row a").click()
    page.locator("#id_properties-1-name").fill("price")
    page.locator("#id_properties-1-kind").select_option("decimal")
    page.locator("#id_properties-1-default").fill("9.99")
    page.locator("#relations_out-group .add-row a").click()
    page.locator("#id_relations_out-0-source_field").fill("category")
    page.locator("#id_relations_out-0-target").select_option(label="shop.Category")
    page.locator("#id_relations_out-0-target_field").fill("products")
    press(page, "Save and continue editing")
    saved(page, "was changed successfully")
    shot(page, "03_product_model")

    # An enum, on the property's own page: its kind first, then only the options it has.
    page.get_by_role("link", name="Add a property with its options").click()
    page.get_by_role("link", name="enum", exact=True).click()
    expect(page.locator("#id_min_length")).to_have_count(0)
    page.locator("#id_name").fill("size")
    page.locator("#id_enum_values").fill("S\nM\nL")
    page.locator("#id_default").fill("M")
    shot(page, "04_enum_property")
    press(page, "Save")
    saved(page, "was added successfully")
    expect(page.locator("td.field-options", has_text="S, M, L")).to_be_visible()
    product = DataModel.objects.get(name="Product")
    props = {p.name: p for p in product.properties.all()}
    relation = Relation.objects.get(source=product)

    # Records through the record browser, named by their first text property.
    page.goto(f"/admin/models_registry/datamodel/{category.pk}/records/add/")
    page.locator(f"#id_{category.properties.get().attname}").fill("Chairs")
    press(page, "Save")
    saved(page, "Category “Chairs” (#1) was added.")
    page.goto(f"/admin/models_registry/datamodel/{product.pk}/records/add/")
    expect(page.locator(f"#id_{props['price'].attname}")).to_have_value("9.99")
    page.locator(f"#id_{props['name'].attname}").fill("Stool")
    page.locator(f"#id_{props['price'].attname}").fill("12.50")
    expect(page.locator(f"#id_{props['size'].attname}")).to_have_value("M")
    page.locator(f"#id_{relation.attname}").select_option(label="Chairs")
    press(page, "Save")
    saved(page, "Product “Stool” (#1) was added.")
    shot(page, "05_records")

    # Read for anyone, in the Permissions admin.
    for model in ("shop.Product", "shop.Category"):
        page.goto("/admin/identity/permission/add/")
        page.locator("#id_data_model").select_option(label=model)
        page.locator("#id_operation").select_option("read")
        page.locator("#id_access").select_option("public")
        press(page, "Save")
        saved(page, "was added successfully")
    shot(page, "06_permissions")

    # The application page: record counts and the schema picture; the index behind View site.
    page.goto(f"/admin/models_registry/application/{product.application_id}/change/")
    expect(page.locator("td.record-count")).to_have_text(["1", "1"])
    schema = page.locator(".schema-picture img")
    expect(schema).to_be_visible()
    assert schema.evaluate("img => img.naturalWidth") > 0  # the SVG was served and drawn
    shot(page, "07_application_counts_and_schema")
    page.get_by_role("link", name="View site").click()
    expect(page.locator("#application-shop")).to_contain_text("Product")
    shot(page, "08_index")

    # The playground runs a query (GraphiQL served by Mortar itself).
    assert Application.objects.get(slug="shop").playground_enabled
    page.goto("/api/shop/graphql")
    response = run_in_graphiql(page, QUERY)
    expect(response).to_contain_text('"totalCount": 1')
    expect(response).to_contain_text('"size": "M"')
    expect(response).to_contain_text('"name": "Chairs"')
    shot(page, "09_playground")
