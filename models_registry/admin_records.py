"""The admin's record browser: list, search, add, change and delete records of a runtime model.

DataModelAdmin mounts these views under a model's admin URL (`<id>/records/...`). Record edits
are not written to the admin's LogEntry: that needs a ContentType row per runtime class, which
leaks (see FIELD-NOTES). They are change events like the data API's (`events`), made by the
builder (actor "admin"), in the transaction of the edit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.contrib import admin, messages
from django.contrib.admin.utils import display_for_field
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError, connections, router, transaction
from django.db.models import ProtectedError, Q, QuerySet, RestrictedError
from django.db.models.deletion import Collector
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from .events import (
    CREATE,
    UPDATE,
    ChangeBatch,
    Origin,
    actor_label,
    admin_actor,
    delete_records,
    note_links,
)
from .files import file_url
from .kinds import KINDS, FileKind, Kind, PasswordKind
from .models import DataModel, Relation
from .record_forms import for_kind, record_form_class
from .record_history import NotRestorable, restore, versions
from .runtime import RuntimeRecord, runtime_models
from .trash import trash_records

PAGE_SIZE = 50
EMPTY = "-"
URL_NAME = "models_registry_datamodel_record"
TEMPLATES = "admin/models_registry/records"


def counted(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def runtime_class(data_model: DataModel) -> type[RuntimeRecord]:
    return runtime_models(data_model.application).by_id[data_model.pk]


def record_count(data_model: DataModel) -> int:
    return runtime_class(data_model).objects.count()


# SQLite refuses a compound SELECT of more than 500 parts.
COUNTS_PER_STATEMENT = 400


def record_counts(data_models: Iterable[DataModel]) -> dict[int, int]:
    """Records per data model id: one statement (a UNION ALL of one COUNT per table) for up to
    COUNTS_PER_STATEMENT models, rather than one per model."""
    data_models = list(data_models)
    connection = connections[router.db_for_read(DataModel)]
    counts: dict[int, int] = {}
    for start in range(0, len(data_models), COUNTS_PER_STATEMENT):
        chunk = data_models[start:start + COUNTS_PER_STATEMENT]
        sql = " UNION ALL ".join(
            f"SELECT {int(dm.pk)}, COUNT(*) FROM {connection.ops.quote_name(dm.table_name)}"
            for dm in chunk
        )
        with connection.cursor() as cursor:
            cursor.execute(sql)
            counts.update(cursor.fetchall())
    return counts


def linked(record: RuntimeRecord, attname: str) -> set[int]:
    """The ids of the records a record is linked to through its habtm field `attname`."""
    return set(getattr(record, attname).values_list("pk", flat=True))


def record_name(record: RuntimeRecord) -> str:
    """How messages name a record: by its first text property when it has one, with its id."""
    named = str(record)
    fallback = f"{record._mortar.name} #{record.pk}"
    return fallback if named == fallback else f"{record._mortar.name} “{named}” (#{record.pk})"


# -- list columns ---------------------------------------------------------------------------


def password_cell(value, field) -> str:
    return "set" if value else "empty"  # never the hash


def file_cell(value, field) -> str:
    if not value:
        return EMPTY
    slug = field.model._mortar.data_model.application.slug
    return format_html(
        '<a href="{}">{}</a>', file_url(slug, value), value.get("name") or value["key"]
    )


def value_cell(value, field) -> str:
    shown = display_for_field(value, field, EMPTY)
    return shown if isinstance(shown, SafeString) else Truncator(str(shown)).chars(80)


# How a value shows in the list, by kind (the nearest kind class in the table decides).
CELLS: dict[type[Kind], Callable] = {
    Kind: value_cell,
    PasswordKind: password_cell,
    FileKind: file_cell,
}


@dataclass
class Column:
    header: str
    cell: Callable[[RuntimeRecord], str]


def list_columns(cls: type[RuntimeRecord]) -> list[Column]:
    """id, then each property, then each belongs-to relation of which the model is the source."""
    spec = cls._mortar
    columns = [Column("id", id_cell(spec.data_model.pk))]
    for prop in spec.properties.values():
        columns.append(Column(prop.name, property_cell(cls._meta.get_field(prop.attname), prop)))
    for relation in belongs_to_relations(cls):
        columns.append(Column(relation.source_field, related_cell(relation)))
    return columns


def id_cell(data_model_id: int) -> Callable[[RuntimeRecord], str]:
    def cell(record: RuntimeRecord) -> str:
        url = record_url("change", data_model_id, record.pk)
        return format_html('<a href="{}">{}</a>', url, record.pk)

    return cell


def property_cell(field, prop) -> Callable[[RuntimeRecord], str]:
    show = for_kind(CELLS, KINDS[prop.kind])

    def cell(record: RuntimeRecord) -> str:
        return show(getattr(record, field.attname), field)

    return cell


def related_cell(relation: Relation) -> Callable[[RuntimeRecord], str]:
    def cell(record: RuntimeRecord) -> str:
        related = getattr(record, relation.attname)  # loaded by select_related
        if related is None:
            return EMPTY
        url = record_url("change", relation.target_id, related.pk)
        return format_html('<a href="{}">{}</a>', url, related)

    return cell


def belongs_to_relations(cls: type[RuntimeRecord]) -> list[Relation]:
    return [
        end.relation
        for end in cls._mortar.ends.values()
        if end.side == "source" and end.relation.kind == Relation.Kind.BELONGS_TO
    ]


def search(records: QuerySet, cls: type[RuntimeRecord], text: str) -> QuerySet:
    """Records with `text` in any text-like property (or with `text` as id)."""
    condition = Q()
    for prop in cls._mortar.properties.values():
        if KINDS[prop.kind].searchable:
            condition |= Q(**{f"{prop.attname}__icontains": text})
    if text.isdigit() and len(text) < 10:
        condition |= Q(pk=int(text))
    return records.filter(condition) if condition else records.none()


# -- URLs -----------------------------------------------------------------------------------


HISTORY_SHOWN = 50


def history(cls: type[RuntimeRecord], record_id: int) -> list[dict]:
    """The record's last changes, newest first: when, who, from where, what, and each field's
    value before and after."""
    return [{"at": version.event.created_at, "who": actor_label(version.event.actor),
             "ip": version.event.ip, "operation": version.event.operation,
             "seq": version.event.seq, "other_fields": ", ".join(
                 name for name in version.event.fields
                 if name not in {change[0] for change in version.changes}),
             "changes": [(name, shown_value(before), shown_value(after))
                         for name, before, after in version.changes],
             "restorable": version.restorable}
            for version in versions(cls, record_id, HISTORY_SHOWN)]


def shown_value(value) -> str:
    """A snapshot's value in a history row: a file by its name, nothing as a dash."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, dict) and "key" in value:
        return str(value.get("name") or value["key"])
    return str(value)


def record_url(action: str, data_model_id: int, record_id: int | None = None) -> str:
    """URL of a record view; `action` is list, add, change or delete."""
    args = [data_model_id] if record_id is None else [data_model_id, record_id]
    return reverse(f"admin:{URL_NAME}_{action}", args=args)


def deletion_refusal(record: RuntimeRecord, error: ProtectedError | RestrictedError) -> str:
    blocking = getattr(error, "protected_objects", None) or error.restricted_objects
    counts = Counter(str(obj._meta.verbose_name) for obj in blocking)
    listed = ", ".join(counted(n, f"{name} record") for name, n in counts.items())
    return (
        f"{record_name(record)} cannot be deleted: a relation that refuses deletion "
        f"links it to {listed}. Delete those records or change what they point to first."
    )


# -- views ----------------------------------------------------------------------------------


class RecordBrowser:
    """The record views of one DataModelAdmin; they need the data model change permission."""

    def __init__(self, model_admin: admin.ModelAdmin):
        self.model_admin = model_admin

    @staticmethod
    def list_url(data_model: DataModel) -> str:
        return record_url("list", data_model.pk)

    def get_urls(self) -> list[URLPattern]:
        wrap = self.model_admin.admin_site.admin_view
        return [
            path("<int:data_model_id>/records/", wrap(self.list_view), name=f"{URL_NAME}_list"),
            path("<int:data_model_id>/records/add/", wrap(self.add_view), name=f"{URL_NAME}_add"),
            path(
                "<int:data_model_id>/records/<int:record_id>/",
                wrap(self.change_view),
                name=f"{URL_NAME}_change",
            ),
            path(
                "<int:data_model_id>/records/<int:record_id>/restore/<int:seq>/",
                wrap(self.restore_view),
                name=f"{URL_NAME}_restore",
            ),
            path(
                "<int:data_model_id>/records/<int:record_id>/delete/",
                wrap(self.delete_view),
                name=f"{URL_NAME}_delete",
            ),
        ]

    def browsed(self, request: HttpRequest, data_model_id: int) -> tuple[DataModel, type]:
        if not self.model_admin.has_change_permission(request):
            raise PermissionDenied
        data_model = get_object_or_404(
            DataModel.objects.select_related("application"), pk=data_model_id
        )
        return data_model, runtime_class(data_model)

    def render(self, request: HttpRequest, template: str, data_model: DataModel, **context):
        context = {
            **self.model_admin.admin_site.each_context(request),
            "opts": DataModel._meta,
            "data_model": data_model,
            "data_model_url": reverse(
                "admin:models_registry_datamodel_change", args=[data_model.pk]
            ),
            "list_url": record_url("list", data_model.pk),
            **context,
        }
        return TemplateResponse(request, f"{TEMPLATES}/{template}", context)

    def list_view(self, request: HttpRequest, data_model_id: int) -> HttpResponse:
        data_model, cls = self.browsed(request, data_model_id)
        records = cls.objects.select_related(
            *(relation.attname for relation in belongs_to_relations(cls))
        )
        query = request.GET.get("q", "").strip()
        if query:
            records = search(records, cls, query)
        page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
        columns = list_columns(cls)
        rows = [[column.cell(record) for column in columns] for record in page]
        searchable = [p.name for p in cls._mortar.properties.values() if KINDS[p.kind].searchable]
        return self.render(
            request,
            "list.html",
            data_model,
            title=f"{data_model.name} records",
            headers=[column.header for column in columns],
            rows=rows,
            page=page,
            query=query,
            searchable=searchable,
            add_url=record_url("add", data_model.pk),
            trash_url=record_url("trash", data_model.pk) if data_model.trash else None,
        )

    def add_view(self, request: HttpRequest, data_model_id: int) -> HttpResponse:
        data_model, cls = self.browsed(request, data_model_id)
        return self.form_view(request, data_model, cls(), title=f"Add {data_model.name} record")

    def change_view(self, request: HttpRequest, data_model_id: int, record_id: int):
        data_model, cls = self.browsed(request, data_model_id)
        record = get_object_or_404(cls, pk=record_id)
        title = f"Change {record_name(record)}"
        return self.form_view(request, data_model, record, title=title)

    def form_view(self, request, data_model: DataModel, record: RuntimeRecord, title: str):
        form_class = record_form_class(type(record))
        adding = record.pk is None
        if request.method == "POST":
            form = form_class(request.POST, request.FILES, instance=record)
            if form.is_valid() and self.save(request, data_model, form):
                verb = "added" if adding else "changed"
                messages.success(request, f"{record_name(record)} was {verb}.")
                return HttpResponseRedirect(self.after_save_url(request, data_model, record))
        else:
            form = form_class(instance=record)
        return self.render(
            request,
            "form.html",
            data_model,
            title=title,
            form=form,
            record=None if adding else record,
            history=[] if adding else history(type(record), record.pk),
            media=self.model_admin.media + form.media,
        )

    def save(self, request: HttpRequest, data_model: DataModel, form) -> bool:
        """Save the record and its links together, with their change events; a clash the form
        could not see (a unique value saved meanwhile) is shown on the form."""
        cls, record = form._meta.model, form.instance
        adding = record._state.adding
        try:
            with transaction.atomic(using=router.db_for_write(cls)):
                # habtm links the form changes: the records linked or unlinked change too
                ends = {end.attname: end for end in cls._mortar.ends.values()
                        if end.habtm and end.side == "source" and end.attname in form.changed_data}
                before = {} if adding else {attname: linked(record, attname) for attname in ends}
                form.save()
                changes = ChangeBatch()
                changes.add(cls, [record.pk], CREATE if adding else UPDATE, form.changed_fields())
                for attname, end in ends.items():
                    note_links(changes, end, before.get(attname, set()), linked(record, attname))
                changes.flush(data_model.application_id, admin_actor(request.user),
                              Origin.of(request))
        except IntegrityError:
            form.add_error(
                None,
                "The database refused the record: a unique value was taken or a related record "
                "removed meanwhile. Check the values and save again.",
            )
            return False
        return True

    def after_save_url(self, request, data_model: DataModel, record: RuntimeRecord) -> str:
        if "_continue" in request.POST:
            return record_url("change", data_model.pk, record.pk)
        if "_addanother" in request.POST:
            return record_url("add", data_model.pk)
        return record_url("list", data_model.pk)

    def restore_view(self, request: HttpRequest, data_model_id: int, record_id: int,
                     seq: int) -> HttpResponse:
        """POST: put the record back to its version `seq` (a change like an edit)."""
        data_model, cls = self.browsed(request, data_model_id)
        back = HttpResponseRedirect(record_url("change", data_model.pk, record_id))
        if request.method != "POST":
            return back
        try:
            fields = restore(cls, record_id, seq, admin_actor(request.user), Origin.of(request),
                             request)
        except NotRestorable as error:
            messages.error(request, str(error))
        except ValidationError as error:
            messages.error(request, f"Version {seq} cannot be restored: "
                           f"{' '.join(error.messages)} Edit the record instead.")
        except IntegrityError:
            messages.error(request, f"Version {seq} cannot be restored: one of its unique "
                           "values is taken by another record or a record it refers to is "
                           "gone. Nothing was changed.")
        else:
            messages.success(request, f"Version {seq} restored: {', '.join(fields)}."
                             if fields else f"The record already has the values of version "
                             f"{seq}: nothing to restore.")
        return back

    def delete_view(self, request: HttpRequest, data_model_id: int, record_id: int):
        data_model, cls = self.browsed(request, data_model_id)
        record = get_object_or_404(cls, pk=record_id)
        try:
            also_deleted = [] if data_model.trash else self.also_deleted(record)
            if request.method == "POST":
                name = record_name(record)
                with transaction.atomic(using=router.db_for_write(cls)):
                    changes = ChangeBatch()
                    if data_model.trash:
                        trash_records(cls, [record.pk], changes)
                    else:
                        delete_records(cls, [record.pk], changes)
                    changes.flush(data_model.application_id, admin_actor(request.user),
                                  Origin.of(request))
                messages.success(request, f"{name} was moved to the trash." if data_model.trash
                                 else f"{name} was deleted.")
                return HttpResponseRedirect(record_url("list", data_model.pk))
        except (ProtectedError, RestrictedError) as error:
            messages.error(request, deletion_refusal(record, error))
            return HttpResponseRedirect(record_url("change", data_model.pk, record_id))
        return self.render(
            request,
            "delete.html",
            data_model,
            title=f"Delete {record_name(record)}?",
            record=record,
            also_deleted=also_deleted,
        )

    def also_deleted(self, record: RuntimeRecord) -> list[str]:
        """Records the relations' on-delete rules delete with this one, counted per model;
        raises ProtectedError/RestrictedError when a relation refuses the deletion."""
        collector = Collector(using=router.db_for_write(type(record)))
        collector.collect([record])
        counts = Counter(
            str(model._meta.verbose_name)
            for model, instances in collector.data.items()
            if issubclass(model, RuntimeRecord)
            for instance in instances
            if instance != record
        )
        for queryset in collector.fast_deletes:  # cascades Django deletes without loading them
            if issubclass(queryset.model, RuntimeRecord):
                counts[str(queryset.model._meta.verbose_name)] += queryset.count()
        return [counted(n, f"{name} record") for name, n in counts.items() if n]
