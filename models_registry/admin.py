"""The builders' admin: applications, data models, and their properties and relations inline.

Every save goes through `changes`: a new model creates its table, an inline row adds, alters or
drops a column, deleting an application drops its tables. Checks run in the forms, so refusals
show on the field to fix; a refusal that still happens at save time rolls the whole save back.
"""

from __future__ import annotations

from functools import partial

from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe

from . import changes
from .admin_forms import (
    PROPERTY_FIELDS,
    DataModelForm,
    PropertyForm,
    PropertyFormSet,
    PropertyPageForm,
    RelationForm,
    RelationFormSet,
    RelationTargetField,
)
from .admin_records import RecordBrowser, counted, record_count, record_counts
from .admin_style import AdminStyle
from .admin_trash import TrashViews
from .events import actor_label
from .kinds import KINDS
from .models import Application, ChangeEvent, DataModel, Property, Relation
from .schema_picture import schema_svg


class SchemaChangeViews:
    """For admins whose saves and deletes run schema changes.

    SQLite's foreign-key checks are paused before the admin opens its transaction (SQLite cannot
    pause them inside one). A SchemaChangeError that escapes the save (a change refused after
    the form's checks passed, e.g. by a concurrent edit) has rolled the admin's transaction
    back; the builder sees its message instead of an error page.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        view = super().changeform_view
        return self._schema_guarded(request, view, request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        return self._schema_guarded(request, super().delete_view, request, object_id, extra_context)

    def changelist_view(self, request, extra_context=None):  # runs the bulk delete action
        return self._schema_guarded(request, super().changelist_view, request, extra_context)

    def _schema_guarded(self, request, view, *args):
        if request.method != "POST":  # only posts change anything
            return view(*args)
        with changes.sqlite_foreign_keys_paused():
            try:
                return view(*args)
            except changes.SchemaChangeError as error:
                messages.error(request, f"Nothing was changed: {error.message}")
                return HttpResponseRedirect(request.get_full_path())


def deletion_summary(data_model: DataModel) -> list:
    """What deleting a model takes with it, as an item of the admin's nested delete list."""
    return [
        f"{data_model.name}: its table {data_model.table_name} and its "
        f"{counted(record_count(data_model), 'record')}",
        [
            f"property {prop.name} ({prop.get_kind_display()})"
            for prop in data_model.properties.all()
        ],
    ]


def change_url(obj) -> str:
    return reverse(f"admin:models_registry_{obj._meta.model_name}_change", args=[obj.pk])


def api_url(application: Application) -> str:
    return reverse("data-api", args=[application.slug])


def slug_help(request, application: Application | None) -> str:
    """The slug's help: the real API URL, linked, and where the playground is."""
    if application is None:  # escaped: the admin shows help texts as HTML
        return escape(f"Part of the API URL: {request.build_absolute_uri('/api/')}<slug>/graphql.")
    url = request.build_absolute_uri(api_url(application))
    if application.playground_enabled:
        playground = format_html(
            'The playground (GraphiQL) opens at the same URL in a browser: <a href="{}" '
            'target="_blank">open the playground</a>.', url)
    else:
        playground = "The playground is off: tick “Playground enabled” below to open GraphiQL " \
                     "at this URL in a browser."
    return format_html('The API: <a href="{}">{}</a> (POST GraphQL queries here). {}',
                       url, url, playground)


@admin.register(Application)
class ApplicationAdmin(SchemaChangeViews, AdminStyle, admin.ModelAdmin):
    list_display = ["slug", "name", "environment", "schema_version", "model_count"]
    list_filter = ["environment"]
    search_fields = ["slug", "name"]
    fieldsets = [
        (None, {"fields": ["slug", "name", "environment", "schema_version",
                           "data_models_table"]}),
        ("Data API", {"fields": [
            "playground_enabled", "introspection_enabled", "cors_allowed_origins",
            ("default_page_size", "max_page_size"), ("max_top_level_fields", "max_depth"),
            ("statement_timeout_ms", "max_body_bytes"), "max_mutation_items",
        ]}),
        ("Trash", {"fields": ["trash_hours"]}),
    ]
    readonly_fields = ["schema_version", "data_models_table"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None:
            return fieldsets
        # A new application's environment decides its introspection (Application.save): the
        # add form would post an unticked box, off for a sandbox too.
        return [(name, {**options, "fields": [f for f in options["fields"]
                                              if f != "introspection_enabled"]})
                for name, options in fieldsets]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if "slug" in form.base_fields:  # not for a view-only user: then it is read-only
            form.base_fields["slug"].help_text = slug_help(request, obj)
        return form

    def get_urls(self):
        schema = self.admin_site.admin_view(self.schema_view)
        return [path("<path:object_id>/schema.svg", schema,
                     name="models_registry_application_schema"), *super().get_urls()]

    def schema_view(self, request, object_id: str) -> HttpResponse:
        """The schema picture: the application's models as boxes, relations as lines."""
        application = self.get_object(request, unquote(object_id))
        if application is None:
            raise Http404(f"No application with id {object_id!r}.")
        if not self.has_view_or_change_permission(request, application):
            raise PermissionDenied
        response = HttpResponse(schema_svg(application), content_type="image/svg+xml")
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
        return response

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(model_count=Count("data_models"))

    @admin.display(description="models", ordering="model_count")
    def model_count(self, application: Application) -> int:
        return application.model_count

    @admin.display(description="data models")
    def data_models_table(self, application: Application) -> str:
        if application.pk is None:
            return "Save the application first, then add its data models."
        data_models = list(application.data_models.annotate(property_count=Count("properties")))
        counts = record_counts(data_models)
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td class="record-count">{}</td>'
            '<td><a href="{}">Records</a></td></tr>',
            (
                (change_url(dm), dm.name, dm.property_count, counts[dm.pk],
                 RecordBrowser.list_url(dm))
                for dm in data_models
            ),
        )
        add_url = reverse("admin:models_registry_datamodel_add") + f"?application={application.pk}"
        schema_url = reverse("admin:models_registry_application_schema", args=[application.pk])
        return format_html(
            "<table><thead><tr><th>model</th><th>properties</th><th>records</th><th></th></tr>"
            '</thead><tbody>{}</tbody></table><p><a class="addlink" href="{}">Add a data model'
            '</a></p><p class="schema-picture"><a href="{}">Schema picture</a> (models and '
            'relations)<br><img src="{}" alt="Schema of {}"></p>',
            rows,
            add_url,
            schema_url,
            schema_url,
            application.slug,
        )

    def get_deleted_objects(self, objs, request):
        # Django's collector would stop at Relation.target (PROTECT); delete_application removes
        # relations first, so list what it drops instead.
        to_delete: list = []
        model_count = {"applications": 0, "data models": 0}
        for application in objs:
            data_models = list(application.data_models.prefetch_related("properties"))
            summaries = [item for dm in data_models for item in deletion_summary(dm)]
            to_delete += [f"application {application}", summaries]
            model_count["applications"] += 1
            model_count["data models"] += len(data_models)
        perms_needed = set() if self.has_delete_permission(request) else {"application"}
        return to_delete, model_count, perms_needed, []

    def delete_model(self, request, obj: Application) -> None:
        changes.delete_application(obj)

    def delete_queryset(self, request, queryset) -> None:
        for application in queryset:
            changes.delete_application(application)


class PropertyInline(admin.TabularInline):
    """The settings every kind has; the options of its kind on the property's own page."""

    model = Property
    form = PropertyForm
    formset = PropertyFormSet
    fields = ["name", "kind", "required", "unique", "default", "options"]
    readonly_fields = ["options"]
    extra = 1

    @admin.display(description="options of its kind")
    def options(self, prop: Property) -> str:
        if prop.pk is None:
            return "on the property's page, once added"
        kind = KINDS[prop.kind]
        shown = [
            f"{Property._meta.get_field(name).verbose_name} {describe_option(getattr(prop, name))}"
            for name in kind.options
            if name not in ("unique", "default") and getattr(prop, name) not in (None, "", [])
        ]
        return format_html('{} <a href="{}">edit</a>', "; ".join(shown), change_url(prop))


def describe_option(value) -> str:
    if isinstance(value, list):
        return ", ".join(value)
    return format(value.normalize(), "f") if hasattr(value, "normalize") else str(value)


class RelationInline(admin.TabularInline):
    """Relations of which this model is the source; incoming ones are listed on the model."""

    model = Relation
    form = RelationForm
    formset = RelationFormSet
    fk_name = "source"
    extra = 0
    verbose_name = "relation from this model"
    verbose_name_plural = "relations from this model"

    def get_formset(self, request, obj=None, **kwargs):
        kwargs["formfield_callback"] = partial(
            self.formfield_for_dbfield, request=request, parent=obj
        )
        return super().get_formset(request, obj, **kwargs)

    def formfield_for_dbfield(self, db_field, request, parent=None, **kwargs):
        if db_field.name == "target":
            kwargs["form_class"] = RelationTargetField
            if parent is not None:  # offer the models of the same application
                kwargs["queryset"] = DataModel.objects.filter(application_id=parent.application_id)
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(DataModel)
class DataModelAdmin(SchemaChangeViews, AdminStyle, admin.ModelAdmin):
    form = DataModelForm
    inlines = [PropertyInline, RelationInline]
    list_display = ["name", "application", "property_count", "records_link"]
    list_filter = ["application"]
    list_select_related = ["application"]
    search_fields = ["name"]

    def get_urls(self):
        # Before the admin's own URLs: its catch-all `<object_id>/` would take these.
        records = RecordBrowser(self)
        return [*TrashViews(records).get_urls(), *records.get_urls(), *super().get_urls()]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(property_count=Count("properties"))

    def get_fields(self, request, obj=None):
        return (["application", "name", "trash", "incoming_relations"] if obj
                else ["application", "name", "trash"])

    def get_readonly_fields(self, request, obj=None):
        # A model stays in its application: its table and relations belong there.
        return ["application", "incoming_relations"] if obj else []

    def get_inlines(self, request, obj):
        # Properties are added once the model (and its table) exists: see response_add.
        return self.inlines if obj else []

    @admin.display(description="properties", ordering="property_count")
    def property_count(self, data_model: DataModel) -> int:
        return data_model.property_count

    @admin.display(description="records")
    def records_link(self, data_model: DataModel) -> str:
        return format_html('<a href="{}">Records</a>', RecordBrowser.list_url(data_model))

    @admin.display(description="relations from other models")
    def incoming_relations(self, data_model: DataModel) -> str:
        relations = data_model.relations_in.exclude(source=data_model).select_related("source")
        if not relations:
            return "—"
        return format_html_join(
            mark_safe("<br>"),
            '<a href="{}">{}.{}</a> → {}.{} ({})',
            (
                (
                    change_url(r.source),
                    r.source.name,
                    r.source_field,
                    data_model.name,
                    r.target_field,
                    r.get_kind_display(),
                )
                for r in relations
            ),
        )

    def response_add(self, request, obj, post_url_continue=None):
        if "_addanother" in request.POST or IS_POPUP_VAR in request.POST:
            return super().response_add(request, obj, post_url_continue)
        messages.success(
            request,
            f"The model {obj.name} and its table were created; add its "
            "properties and relations below.",
        )
        return HttpResponseRedirect(change_url(obj))

    def save_model(self, request, obj: DataModel, form, change: bool) -> None:
        if change:
            stored = DataModel.objects.get(pk=obj.pk)
            changes.rename_model(stored, obj.name)
            changes.set_trash(stored, obj.trash)
            return
        created = changes.create_model(obj.application, obj.name, trash=obj.trash)
        obj.pk, obj.created_at, obj.updated_at = created.pk, created.created_at, created.updated_at
        obj._state.adding = False

    def delete_view(self, request, object_id, extra_context=None):
        # Refused up front with the reason, rather than Django's "protected objects" page.
        data_model = self.get_object(request, unquote(object_id))
        if data_model is not None and self.has_delete_permission(request, data_model):
            problems = changes.delete_model_problems(data_model)
            if problems:
                for problem in problems:
                    messages.error(request, problem)
                return HttpResponseRedirect(change_url(data_model))
        return super().delete_view(request, object_id, extra_context)

    def get_deleted_objects(self, objs, request):
        to_delete, protected = [], []
        for data_model in objs:
            to_delete += deletion_summary(data_model)
            protected += changes.delete_model_problems(data_model)
        perms_needed = set() if self.has_delete_permission(request) else {"data model"}
        return to_delete, {"data models": len(objs)}, perms_needed, protected

    def delete_model(self, request, obj: DataModel) -> None:
        changes.delete_model(obj)

    def delete_queryset(self, request, queryset) -> None:
        for data_model in queryset:
            changes.delete_model(data_model)


@admin.register(Property)
class PropertyAdmin(SchemaChangeViews, AdminStyle, admin.ModelAdmin):
    """A property's own page: the settings of its kind and no others. Properties are listed on
    their model's page, which links here; adding one here starts with choosing its kind."""

    form = PropertyPageForm
    list_display = ["name", "data_model", "kind"]
    list_select_related = ["data_model__application"]

    def has_module_permission(self, request) -> bool:
        return False  # not in the admin index: properties live on their model's page

    def kinds_shown(self, request, obj: Property | None) -> list[str]:
        """The stored (or chosen) kind, and a kind just posted: a kind change shows the new
        kind's options too, so that an enum's can be entered."""
        chosen = [obj.kind if obj else request.GET.get("kind"), request.POST.get("kind")]
        return [kind for kind in chosen if kind in KINDS]

    def get_fields(self, request, obj=None):
        options = {name for kind in self.kinds_shown(request, obj) for name in KINDS[kind].options}
        return ["data_model", "name", "kind", "required",
                *(name for name in PROPERTY_FIELDS if name in options)]

    def get_readonly_fields(self, request, obj=None):
        return ["data_model"] if obj else []  # a property stays on its model

    def add_view(self, request, form_url="", extra_context=None):
        if request.method == "GET" and request.GET.get("kind") not in KINDS:
            return self.kind_picker(request)
        return super().add_view(request, form_url, extra_context)

    def kind_picker(self, request) -> TemplateResponse:
        """Step one of adding a property: its kind, each with the options it has."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        data_model = request.GET.get("data_model", "")
        kinds = [
            (kind, ", ".join(str(Property._meta.get_field(o).verbose_name) for o in kind.options))
            for kind in KINDS.values()
        ]
        return TemplateResponse(request, "admin/models_registry/property/pick_kind.html", {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Add a property: choose its kind",
            "kinds": kinds,
            "data_model": data_model if data_model.isdigit() else "",
        })

    def save_model(self, request, obj: Property, form, change: bool) -> None:
        if change:
            changed = form.changed_settings()
            if changed:  # every alteration bumps the schema version
                changes.alter_property(obj, **changed)
            return
        settings = {f: form.cleaned_data[f] for f in PROPERTY_FIELDS if f in form.cleaned_data}
        created = changes.add_property(
            obj.data_model, settings.pop("name"), settings.pop("kind"), **settings
        )
        obj.pk, obj.position = created.pk, created.position
        obj._state.adding = False

    # Saved: back to the model's page, where its properties are listed.
    def response_post_save_add(self, request, obj: Property):
        return HttpResponseRedirect(change_url(obj.data_model))

    def response_post_save_change(self, request, obj: Property):
        return HttpResponseRedirect(change_url(obj.data_model))

    def delete_model(self, request, obj: Property) -> None:
        changes.delete_property(obj)

    def delete_queryset(self, request, queryset) -> None:
        for prop in queryset:
            changes.delete_property(prop)


class ReadOnlyAdmin(admin.ModelAdmin):
    """A list and pages to read, with no way to add, change or delete a row (the audit log)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ActorKindFilter(admin.SimpleListFilter):
    """Record changes by who made them: a user, a server key, anyone, a builder, ..."""

    title, parameter_name = "actor", "actor"
    KINDS = ("user", "server", "anonymous", "admin", "loader", "system")

    def lookups(self, request, model_admin):
        return [(kind, kind) for kind in self.KINDS]

    def queryset(self, request, queryset):
        return queryset.filter(actor__kind=self.value()) if self.value() else queryset


@admin.register(ChangeEvent)
class RecordChangeAdmin(ReadOnlyAdmin):
    """Every record change, as the audit log keeps it (the change events): who, when, from
    where, which record and fields; read only."""

    list_display = ("created_at", "application", "model", "record_id", "operation",
                    "changed_fields", "who", "ip")
    list_filter = ("application", "operation", "model", ActorKindFilter)
    search_fields = ("model", "=record_id", "ip", "user_agent")
    date_hierarchy = "created_at"
    list_select_related = ("application",)

    @admin.display(description="fields")
    def changed_fields(self, event: ChangeEvent) -> str:
        return ", ".join(event.fields)

    @admin.display(description="who")
    def who(self, event: ChangeEvent) -> str:
        return actor_label(event.actor)
