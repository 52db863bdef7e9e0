"""The admin's trash view of a model that has one: the records in its trash, newest first,
with when each is purged; each can be restored (refused, with the reason, when a unique value
is taken meanwhile) or purged for good now. Both are changes like the record browser's
(events by the builder, `trash`)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import router, transaction
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse

from .admin_records import (
    PAGE_SIZE,
    URL_NAME,
    RecordBrowser,
    deletion_refusal,
    list_columns,
    record_name,
)
from .events import ChangeBatch, Origin, admin_actor
from .trash import RestoreConflict, in_trash, purge_records, restore_records

TRASH_URL = f"{URL_NAME}_trash"


def trash_url(data_model_id: int, action: str = "", record_id: int | None = None) -> str:
    """The trash view of a model, or the URL restoring/purging one of its records."""
    if not action:
        return reverse(f"admin:{TRASH_URL}", args=[data_model_id])
    return reverse(f"admin:{TRASH_URL}_{action}", args=[data_model_id, record_id])


class TrashViews:
    """Mounted by DataModelAdmin beside the record browser, with its permission (changing
    data models)."""

    def __init__(self, records: RecordBrowser):
        self.records = records

    def get_urls(self) -> list[URLPattern]:
        wrap = self.records.model_admin.admin_site.admin_view
        return [
            path("<int:data_model_id>/records/trash/", wrap(self.list_view), name=TRASH_URL),
            *(path(f"<int:data_model_id>/records/trash/<int:record_id>/{action}/",
                   wrap(getattr(self, f"{action}_view")), name=f"{TRASH_URL}_{action}")
              for action in ("restore", "purge")),
        ]

    def browsed(self, request: HttpRequest, data_model_id: int):
        data_model, cls = self.records.browsed(request, data_model_id)
        if not data_model.trash:
            raise Http404(f"{data_model.name} has no trash.")
        return data_model, cls

    def list_view(self, request: HttpRequest, data_model_id: int) -> HttpResponse:
        data_model, cls = self.browsed(request, data_model_id)
        page = Paginator(in_trash(cls).order_by("-deleted_at", "-pk"), PAGE_SIZE).get_page(
            request.GET.get("page"))
        columns = list_columns(cls)[1:]  # the id links to a change page the record lacks
        period = timedelta(hours=data_model.application.trash_hours)
        rows = [{"id": record.pk, "cells": [column.cell(record) for column in columns],
                 "deleted_at": record.deleted_at, "purged_at": record.deleted_at + period,
                 "restore_url": trash_url(data_model.pk, "restore", record.pk),
                 "purge_url": trash_url(data_model.pk, "purge", record.pk)} for record in page]
        return self.records.render(
            request, "trash.html", data_model, title=f"{data_model.name} trash",
            headers=[column.header for column in columns], rows=rows, page=page)

    def restore_view(self, request: HttpRequest, data_model_id: int, record_id: int):
        return self._act(request, data_model_id, record_id, "restore")

    def purge_view(self, request: HttpRequest, data_model_id: int, record_id: int):
        return self._act(request, data_model_id, record_id, "purge")

    def _act(self, request: HttpRequest, data_model_id: int, record_id: int, action: str):
        data_model, cls = self.browsed(request, data_model_id)
        back = HttpResponseRedirect(trash_url(data_model.pk))
        if request.method != "POST":
            return back
        record = get_object_or_404(in_trash(cls), pk=record_id)
        name = record_name(record)
        try:
            with transaction.atomic(using=router.db_for_write(cls)):
                changes = ChangeBatch()
                (restore_records if action == "restore" else purge_records)(
                    cls, [record.pk], changes)
                changes.flush(data_model.application_id, admin_actor(request.user),
                              Origin.of(request))
        except RestoreConflict as conflict:
            messages.error(request, f"{name} stays in the trash: {' '.join(conflict.messages)}")
        except (ProtectedError, RestrictedError) as error:
            messages.error(request, deletion_refusal(record, error))
        else:
            messages.success(request, f"{name} was restored." if action == "restore"
                             else f"{name} was deleted for good.")
        return back
