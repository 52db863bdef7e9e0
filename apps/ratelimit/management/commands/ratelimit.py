"""manage.py ratelimit status [app] | reset <app>"""

from django.core.management.base import BaseCommand, CommandError

from models_registry.models import Application

from ...backends import BackendUnavailable, backend
from ...status import bucket_levels


class Command(BaseCommand):
    help = ("Show the data API's rate-limit buckets of every application (or one), or fill an "
            "application's buckets again.")

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="status|reset")
        status = actions.add_parser("status", help="Print every bucket: capacity, remaining, "
                                    "seconds until full again, refusals in the last hour.")
        status.add_argument("app", nargs="?", help="an application's slug (default: all)")
        reset = actions.add_parser("reset", help="Fill an application's three buckets now.")
        reset.add_argument("app", help="the application's slug")

    def handle(self, *args, action: str, app: str | None = None, **options):
        try:
            if action == "status":
                self._status(app)
            else:
                application = Application.objects.filter(slug=app).first()
                if application is None:
                    raise CommandError(f"There is no application {app!r}; "
                                       "`manage.py ratelimit status` lists them.")
                if backend().name == "local":
                    raise CommandError("With the local backend the buckets live in the server "
                                       "process; restart it to fill them, or set REDIS_URL.")
                backend().reset(application.pk)
                self.stdout.write(f"The buckets of {app} are full again.")
        except BackendUnavailable as error:
            raise CommandError(f"{error} Is REDIS_URL right and Redis running?") from error

    def _status(self, slug: str | None) -> None:
        try:
            levels = bucket_levels(slug)
        except Application.DoesNotExist as error:
            raise CommandError(f"{error} `manage.py ratelimit status` lists them.") from error
        rows = [("application", "environment", "bucket", "capacity", "remaining",
                 "full again in", "refused (1 h)")]
        for entry in levels:
            for index, state in enumerate(entry.decision.states):
                wait = ("not started" if state.resets_at_ms is None
                        else f"{state.resets_in_ms(entry.decision.now_ms) / 1000:.0f} s")
                first = index == 0
                rows.append((entry.application.slug if first else "",
                             entry.application.environment if first else "",
                             state.bucket.name, f"{state.bucket.capacity:,}",
                             f"{state.remaining:,}", wait,
                             f"{entry.decision.refused_last_hour:,}" if first else ""))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            self.stdout.write("  ".join(
                value.ljust(width) if i < 3 else value.rjust(width)
                for i, (value, width) in enumerate(zip(row, widths, strict=True))).rstrip())
        if backend().name == "local":
            self.stdout.write("(local backend: buckets live in each server process, so this "
                              "command sees only its own; ask the server at /ops/ratelimits, "
                              "or set REDIS_URL)")
        else:
            self.stdout.write(f"({backend().name} backend)")
