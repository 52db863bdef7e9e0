"""manage.py ratelimit status [app] | reset <app>"""

from django.core.management.base import BaseCommand, CommandError

from models_registry.models import Application

from ...backends import BackendUnavailable, backend
from ...server import ServerError, reset_on_server, server_levels, server_url
from ...status import bucket_levels


class Command(BaseCommand):
    help = ("Show the data API's rate-limit buckets of every application (or one), or fill an "
            "application's buckets again. With the local backend (no REDIS_URL) the buckets "
            "live in the server process: the command asks the server named by "
            "MORTAR_RATELIMIT_SERVER_URL (`make run` sets it in var/dev.env).")

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
                self._reset(app)
        except BackendUnavailable as error:
            raise CommandError(f"{error} Is REDIS_URL right and Redis running?") from error
        except ServerError as error:
            raise CommandError(str(error)) from error

    def _reset(self, slug: str) -> None:
        if not Application.objects.filter(slug=slug).exists():
            raise CommandError(f"There is no application {slug!r}; "
                               "`manage.py ratelimit status` lists them.")
        if server_url():
            reset_on_server(slug)
        elif backend().name == "local":
            raise CommandError("With the local backend the buckets live in the server "
                               "process; restart it to fill them, set "
                               "MORTAR_RATELIMIT_SERVER_URL (and MORTAR_OPS_TOKEN) to reach "
                               "it, or set REDIS_URL.")
        else:
            backend().reset(Application.objects.get(slug=slug).pk)
        self.stdout.write(f"The buckets of {slug} are full again.")

    def _status(self, slug: str | None) -> None:
        if slug is not None and not Application.objects.filter(slug=slug).exists():
            raise CommandError(f"There is no application {slug!r}. "
                               "`manage.py ratelimit status` lists them.")
        url = server_url()
        entries = (server_levels(slug) if url
                   else [entry.as_json() for entry in bucket_levels(slug)])
        rows = [("application", "environment", "bucket", "capacity", "remaining",
                 "full again in", "refused (1 h)")]
        for entry in entries:
            for index, bucket in enumerate(entry["buckets"]):
                wait = ("not started" if bucket["resetsInSeconds"] is None
                        else f"{bucket['resetsInSeconds']:.0f} s")
                first = index == 0
                rows.append((entry["slug"] if first else "",
                             entry["environment"] if first else "",
                             bucket["name"], f"{bucket['capacity']:,}",
                             f"{bucket['remaining']:,}", wait,
                             f"{entry['refusedLastHour']:,}" if first else ""))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            self.stdout.write("  ".join(
                value.ljust(width) if i < 3 else value.rjust(width)
                for i, (value, width) in enumerate(zip(row, widths, strict=True))).rstrip())
        if url:
            self.stdout.write(f"(local backend of the server at {url})")
        elif backend().name == "local":
            self.stdout.write("(local backend: buckets live in each server process, so this "
                              "command sees only its own; set MORTAR_RATELIMIT_SERVER_URL to "
                              "ask the server, or set REDIS_URL)")
        else:
            self.stdout.write(f"({backend().name} backend)")
