"""manage.py createserverkey <app> --name NAME [--days N]: a server key, printed once."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.identity import server_keys
from models_registry.models import Application
from models_registry.shell import tell


class Command(BaseCommand):
    help = ("Create a server key for an application's action scripts. The key is printed once "
            "and stored only as a hash: keep it somewhere safe.")

    def add_arguments(self, parser):
        parser.add_argument("app", help="the application's slug")
        parser.add_argument("--name", required=True, help="what the key is for, e.g. 'imports'")
        parser.add_argument("--days", type=int, help="expire after this many days (default: never)")

    def handle(self, *args, app, name, days, **options):
        try:
            application = Application.objects.get(slug=app)
        except Application.DoesNotExist:
            raise CommandError(f"There is no application {app!r}; see manage.py shell or the "
                               "admin for the slugs.") from None
        expires = timezone.now() + timedelta(days=days) if days else None
        row, text = server_keys.create(application, name, expires)
        tell("schema.add", application, "server key", object=f"{name} (mk_{row.prefix})",
             expires=expires.isoformat() if expires else None)
        self.stdout.write(text)
        self.stderr.write(f"Server key '{name}' for {app} (prefix mk_{row.prefix}); shown once, "
                          "send it as Authorization: Bearer <key>.")
