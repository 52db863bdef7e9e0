"""Permissions where a builder works: per operation on the model's admin page; the models only
server keys can reach on the application's page, with a one-click "allow anyone to read"."""

import json

import pytest
from django.contrib.auth.models import Permission as AdminPermission
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from apps.identity.models import Permission

from .conftest import Caller

ALLOW_READ = "Allow anyone to read"


@pytest.fixture
def shop(make_app, make_model):
    """Product: anyone reads, editors update their own; Category: no permission at all."""
    app = make_app("shop")
    make_model(app, "Category", name="text")
    product = make_model(app, "Product", name="text")
    Permission.objects.create(data_model=product, operation="read", access="public")
    Permission.objects.create(data_model=product, operation="update", access="roles",
                              roles=["editor"], condition={"owner": {"id": {"eq": "$currentUser"}}})
    return app


def model_of(app, name: str):
    return app.data_models.get(name=name)


def application_page(client, app):
    return client.get(reverse("admin:models_registry_application_change", args=[app.pk]))


def allow_read_url(app) -> str:
    return reverse("admin:models_registry_application_allow_read", args=[app.pk])


def staff(*perms: str, **client_options) -> Client:
    """A logged-in staff user with only these admin permissions ("app_label.codename")."""
    user = User.objects.create_user("builder", password="builder-pw-1", is_staff=True)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(AdminPermission.objects.get(
            content_type__app_label=app_label, codename=codename))
    client = Client(**client_options)
    client.force_login(user)
    return client


def test_the_model_page_shows_who_may_do_each_operation(admin_client, shop):
    product = model_of(shop, "Product")
    page = admin_client.get(reverse("admin:models_registry_datamodel_change", args=[product.pk]))
    html = page.content.decode()
    read, update = product.permissions.get(operation="read"), product.permissions.get(
        operation="update")
    condition = escape("those matching " + json.dumps(update.condition))
    add = escape(reverse("admin:identity_permission_add") + f"?data_model={product.pk}&operation=")
    change = reverse("admin:identity_permission_change", args=[read.pk])
    assert (f'<tr class="permission-read"><td>read</td><td>anyone</td><td>all records</td>'
            f'<td><a href="{change}">Change</a></td></tr>') in html
    assert (f'<tr class="permission-update"><td>update</td><td>users with one of the roles '
            f"editor</td><td>{condition}</td>") in html
    for operation in ("create", "delete"):
        assert (f'<tr class="permission-{operation}"><td>{operation}</td><td>nobody but server '
                f'keys</td><td>—</td><td><a href="{add}{operation}">Grant {operation}</a>'
                "</td></tr>") in html


def test_a_saved_permission_leads_back_to_its_model(admin_client, shop):
    category = model_of(shop, "Category")
    response = admin_client.post(reverse("admin:identity_permission_add"), {
        "data_model": category.pk, "operation": "create", "access": "authenticated",
        "roles": "[]", "condition": ""})
    assert response.status_code == 302
    assert response.url == reverse("admin:models_registry_datamodel_change", args=[category.pk])
    assert category.permissions.get().access == "authenticated"


def test_the_application_page_lists_the_closed_models(admin_client, shop):
    html = application_page(admin_client, shop).content.decode()
    category = model_of(shop, "Category")
    closed = html.count('<tr class="closed-model">')
    assert closed == 1
    assert (f'<button type="submit" formaction="{allow_read_url(shop)}" formmethod="post" '
            f'formnovalidate name="data_model" value="{category.pk}">{ALLOW_READ}</button>'
            ) in html
    assert ">Product</a></td><td>nobody but server keys" not in html


def test_allow_anyone_to_read_grants_read(admin_client, shop):
    category = model_of(shop, "Category")
    anonymous = Caller("shop")
    assert anonymous.post("{ allCategory { totalCount } }").json()["data"] == {
        "allCategory": None}
    response = admin_client.post(allow_read_url(shop), {"data_model": category.pk}, follow=True)
    assert response.redirect_chain == [
        (reverse("admin:models_registry_application_change", args=[shop.pk]), 302)]
    html = response.content.decode()
    assert escape("Anyone may now read Category records; change it on the model's page under "
                  "Permissions.") in html
    assert '<tr class="closed-model">' not in html
    assert "Every model has at least one permission." in html
    [permission] = category.permissions.all()
    assert (permission.operation, permission.access) == ("read", "public")
    assert anonymous.data("{ allCategory { totalCount } }") == {"allCategory": {"totalCount": 0}}


def test_allow_read_again_keeps_the_permission_there_is(admin_client, shop):
    product = model_of(shop, "Product")
    response = admin_client.post(allow_read_url(shop), {"data_model": product.pk}, follow=True)
    assert escape("Product already has a read permission (anyone); change it on the model's "
                  "page.") in response.content.decode()
    assert product.permissions.count() == 2


def test_allow_read_is_refused_without_the_permission_to_add_permissions(shop):
    client = staff("models_registry.change_application")
    category = model_of(shop, "Category")
    html = application_page(client, shop).content.decode()
    assert '<tr class="closed-model">' in html and ALLOW_READ not in html  # no button
    assert client.post(allow_read_url(shop), {"data_model": category.pk}).status_code == 403
    assert not category.permissions.exists()


def test_allow_read_is_a_post_with_a_csrf_token(shop):
    category = model_of(shop, "Category")
    client = staff("models_registry.change_application", "identity.add_permission",
                   enforce_csrf_checks=True)
    assert client.get(allow_read_url(shop), {"data_model": category.pk}).status_code == 405
    assert client.post(allow_read_url(shop), {"data_model": category.pk}).status_code == 403
    assert not category.permissions.exists()
    application_page(client, shop)  # sets the CSRF cookie, as the page's form does
    token = client.cookies["csrftoken"].value
    response = client.post(allow_read_url(shop), {"data_model": category.pk,
                                                  "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and category.permissions.get().access == "public"


def test_allow_read_takes_only_a_model_of_the_application(admin_client, shop, make_app,
                                                          make_model):
    elsewhere = make_model(make_app("other"), "Secret", name="text")
    for posted in (elsewhere.pk, "", "x"):
        assert admin_client.post(allow_read_url(shop), {"data_model": posted}).status_code == 404
    assert not elsewhere.permissions.exists()
