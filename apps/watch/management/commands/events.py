"""manage.py events tail <app> [--models ...] [--from SEQ] [--count N] | prune"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from models_registry.models import Application, ChangeEvent, DataModel

from ...pruning import prune_events
from ...reading import last_seq

PAGE = 500


class Command(BaseCommand):
    help = ("The change feed from a terminal: print an application's events live as they "
            "commit (tail), as a server key sees them, or delete the events past each "
            "application's retention now (prune; Celery beat does it hourly).")

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="tail|prune")
        tail = actions.add_parser(
            "tail", help="Print the application's events as they commit (Ctrl-C stops).")
        tail.add_argument("app", help="the application's slug")
        tail.add_argument("--models", nargs="+", metavar="MODEL",
                          help="only these models' events (names, or one comma-separated list)")
        tail.add_argument("--from", dest="after", type=int, metavar="SEQ",
                          help="start after this event number (default: the latest, so only "
                               "new events; 0: every event still kept)")
        tail.add_argument("--count", type=int, metavar="N",
                          help="stop after printing N events")
        actions.add_parser("prune", help="Delete the events past each application's "
                           "retention (event_retention_hours) and the audit log's "
                           "(MORTAR_AUDIT_RETENTION_DAYS), whichever is longer.")

    def handle(self, *args, action: str, **options):
        if action == "prune":
            self.stdout.write(f"Deleted {prune_events()} events past retention.")
            return
        try:
            application = Application.objects.get(slug=options["app"])
        except Application.DoesNotExist:
            raise CommandError(f"There is no application {options['app']!r}.") from None
        models = None
        if options["models"]:
            names = {n.strip() for arg in options["models"] for n in arg.split(",") if n.strip()}
            known = set(DataModel.objects.filter(application=application).values_list(
                "name", flat=True))
            if names - known:
                raise CommandError(f"{application.slug} has no model "
                                   f"{', '.join(sorted(names - known))}; its models are "
                                   f"{', '.join(sorted(known)) or 'none yet'}.")
            models = names
        after = options["after"] if options["after"] is not None else last_seq(application.pk)
        try:
            self._tail(application, models, after, options["count"])
        except KeyboardInterrupt:
            pass

    def _tail(self, application: Application, models: set[str] | None, after: int,
              count: int | None) -> None:
        printed = 0
        if count is not None and count <= 0:
            return
        while True:
            rows = list(ChangeEvent.objects.filter(application=application, seq__gt=after)
                        .order_by("seq").select_related("data_model")[:PAGE])
            if rows and rows[0].seq != after + 1 and after > 0:
                self.stdout.write(f"… events {after + 1}–{rows[0].seq - 1} are no longer kept")
            for row in rows:
                after = row.seq
                name = row.data_model.name if row.data_model else row.model
                if models is not None and name not in models:
                    continue
                self.stdout.write(line(row, name))
                printed += 1
                if count is not None and printed >= count:
                    self.stdout.flush()
                    return
            self.stdout.flush()
            if len(rows) < PAGE:
                time.sleep(settings.MORTAR_WATCH_POLL_SECONDS)  # the pace of a poll


def line(event: ChangeEvent, model: str) -> str:
    at = event.created_at.isoformat(timespec="seconds").replace("+00:00", "Z")
    fields = ", ".join(event.fields) if event.fields else "-"
    return (f"{event.seq:>6}  {at}  {event.operation:<6}  {model} {event.record_id}  "
            f"{fields}  ({actor_text(event.actor)})")


def actor_text(actor: dict) -> str:
    kind = actor.get("kind")
    if kind == "user":
        return f"user {actor.get('id')}"
    if kind == "admin":
        return f"admin {actor.get('username')}"
    return {"server": "server key"}.get(kind, str(kind))
