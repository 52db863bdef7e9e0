"""The identity admin: auth profiles, signing keys, server keys and permissions; and the
permissions a builder sees where he works: per operation on each model's page, and the models
only server keys can reach on the application's page, with a one-click read grant."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from models_registry.admin_style import AdminStyle
from models_registry.models import Application, DataModel

from . import server_keys, tokens
from .models import AuthProfile, Permission, ServerKey, SigningKey


@admin.register(AuthProfile)
class AuthProfileAdmin(AdminStyle, admin.ModelAdmin):  # AdminStyle: lifetimes shown whole
    list_display = ["name", "application", "uuid", "user_model", "access_token_lifetime",
                    "refresh_token_lifetime"]
    list_filter = ["application"]
    readonly_fields = ["uuid"]
    fields = ["application", "name", "uuid", "user_model", "username_property",
              "password_property", "roles_relation", "role_name_property",
              "access_token_lifetime", "refresh_token_lifetime", "refresh_grace_seconds"]


@admin.register(SigningKey)
class SigningKeyAdmin(admin.ModelAdmin):
    list_display = ["application", "generation", "rotated_at"]
    readonly_fields = ["generation", "rotated_at"]
    actions = ["rotate"]

    @admin.action(description="Rotate the key (every JWT signed so far stops working)")
    def rotate(self, request, queryset):
        for key in queryset.select_related("application"):
            tokens.rotate_key(key.application)
        self.message_user(request, f"Rotated {queryset.count()} key(s).", messages.SUCCESS)


@admin.register(ServerKey)
class ServerKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "application", "prefix", "created_at", "expires_at", "revoked_at",
                    "last_used_at"]
    list_filter = ["application"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    fields = ["application", "name", "prefix", "expires_at", "revoked_at", "created_at",
              "last_used_at"]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        row, text = server_keys.create(obj.application, obj.name, obj.expires_at)
        obj.pk, obj.prefix, obj.key_hash = row.pk, row.prefix, row.key_hash
        self.message_user(request, f"The key (shown once, copy it now): {text}",
                          messages.WARNING)


@admin.register(Permission)
class PermissionAdmin(admin.ModelAdmin):
    list_display = ["data_model", "operation", "access", "roles", "condition"]
    list_filter = ["data_model__application", "operation", "access"]

    # Saved: back to the model's page, which shows its permissions.
    def response_post_save_add(self, request, obj: Permission):
        return HttpResponseRedirect(model_url(obj.data_model_id))

    def response_post_save_change(self, request, obj: Permission):
        return HttpResponseRedirect(model_url(obj.data_model_id))


NOBODY = "nobody but server keys"
GRANT_PERMISSION = "identity.add_permission"


def model_url(data_model_id: int) -> str:
    return reverse("admin:models_registry_datamodel_change", args=[data_model_id])


def who_may(permission: Permission | None) -> str:
    if permission is None:
        return NOBODY
    if permission.access == Permission.Access.ROLES:
        return f"users with one of the roles {', '.join(permission.roles)}"
    return permission.get_access_display()


def permissions_table(data_model: DataModel) -> str:
    """Per operation: who may, on which records, and a link to change or grant it."""
    granted = {p.operation: p for p in data_model.permissions.all()}
    add_url = reverse("admin:identity_permission_add")
    rows = []
    for operation in Permission.Operation.values:
        permission = granted.get(operation)
        if permission is None:
            link = (f"{add_url}?data_model={data_model.pk}&operation={operation}",
                    f"Grant {operation}")
            records = "—"
        else:
            link = (reverse("admin:identity_permission_change", args=[permission.pk]), "Change")
            records = ("all records" if permission.condition is None
                       else "those matching " + json.dumps(permission.condition))
        rows.append((operation, who_may(permission), records, *link))
    return format_html(
        "<p>Who may call the API for each operation; with no permission, only server keys "
        "(the actions context) may.</p><table><thead><tr><th>operation</th><th>who may</th>"
        "<th>on which records</th><th></th></tr></thead><tbody>{}</tbody></table>",
        format_html_join("", '<tr class="permission-{}"><td>{}</td><td>{}</td><td>{}</td>'
                             '<td><a href="{}">{}</a></td></tr>',
                         ((operation, operation, *rest) for operation, *rest in rows)))


def closed_models_table(application: Application, can_grant: bool) -> str:
    """The models with no permission at all (only server keys may reach them), each with a
    button that lets anyone read it. The buttons submit the change form to `allow_read`."""
    closed = application.data_models.filter(permissions__isnull=True).order_by("name")
    listed = reverse("admin:identity_permission_changelist") + (
        f"?data_model__application__id__exact={application.pk}")
    link = format_html('<p><a href="{}">All permissions of {}</a></p>', listed, application.slug)
    if not closed:
        return format_html("<p>Every model has at least one permission.</p>{}", link)
    action = reverse("admin:models_registry_application_allow_read", args=[application.pk])

    def row(data_model: DataModel) -> str:
        grant = format_html('<button type="submit" formaction="{}" formmethod="post" '
                            'formnovalidate name="data_model" value="{}">Allow anyone to read'
                            "</button>", action, data_model.pk) if can_grant else ""
        return format_html('<tr class="closed-model"><td><a href="{}">{}</a></td><td>{}</td>'
                           "<td>{}</td></tr>", model_url(data_model.pk), data_model.name,
                           NOBODY, grant)

    rows = format_html_join("", "{}", ((row(dm),) for dm in closed))
    return format_html(
        "<p>These models are closed: no permission grants anything on them, so only server "
        "keys (the actions context) may reach them.</p><table><thead><tr><th>model</th>"
        "<th>who may</th><th></th></tr></thead><tbody>{}</tbody></table>{}", rows, link)


class ApplicationPermissions:
    """For the application's admin: its closed models, and the read grant."""

    # Enter in a text box presses the form's first submit button: with the Save row on top,
    # that is Save, not an "Allow anyone to read" further down.
    save_on_top = True

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        table = closed_models_table(obj, request.user.has_perm(GRANT_PERMISSION))
        return [*fieldsets, ("Models only server keys can reach",
                             {"fields": [], "description": table})]

    def get_urls(self):
        allow_read = self.admin_site.admin_view(require_POST(self.allow_read))
        return [path("<path:object_id>/allow-anyone-to-read/", allow_read,
                     name="models_registry_application_allow_read"), *super().get_urls()]

    def allow_read(self, request, object_id: str):
        """Grant read to anyone on the posted model of this application."""
        if not request.user.has_perm(GRANT_PERMISSION):
            raise PermissionDenied
        application = self.get_object(request, unquote(object_id))
        model_id = request.POST.get("data_model", "")
        data_model = None if application is None or not model_id.isdigit() else (
            application.data_models.filter(pk=model_id).first())
        if data_model is None:
            raise Http404("No such model in this application.")
        permission, created = Permission.objects.get_or_create(
            data_model=data_model, operation=Permission.Operation.READ,
            defaults={"access": Permission.Access.PUBLIC})
        back = reverse("admin:models_registry_application_change", args=[application.pk])
        if not created:
            messages.warning(request, f"{data_model.name} already has a read permission "
                                      f"({who_may(permission)}); change it on the model's page.")
            return HttpResponseRedirect(back)
        self.log_addition(request, permission, [{"added": {}}])
        messages.success(request, f"Anyone may now read {data_model.name} records; change it "
                                  "on the model's page under Permissions.")
        return HttpResponseRedirect(back)


class DataModelPermissions:
    """For the data model's admin: its permissions per operation."""

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return [*fieldsets, ("Permissions", {"fields": [],
                                             "description": permissions_table(obj)})]


def show_permissions_in_registry_admins(site: admin.AdminSite = admin.site) -> None:
    """Extend the application and data model admins as registered (models_registry may not
    import identity). Called from IdentityConfig.ready, once every admin module has registered
    its own: the rate limits' re-registers the application's."""
    for model, permissions in ((Application, ApplicationPermissions),
                               (DataModel, DataModelPermissions)):
        registered = type(site.get_model_admin(model))
        site.unregister(model)
        site.register(model, type(registered.__name__, (permissions, registered), {}))
