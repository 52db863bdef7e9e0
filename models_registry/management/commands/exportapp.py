import json
import sys

from django.core.management.base import BaseCommand, CommandError

from models_registry.definitions import export_definition
from models_registry.models import Application


class Command(BaseCommand):
    help = (
        "Write an application's definition (models, properties, relations) as JSON, to load "
        "elsewhere with `loadapp`."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the application's slug, as in /api/<slug>/graphql")
        parser.add_argument("-o", "--output", help="file to write (default: standard output)")
        parser.add_argument(
            "--with-data", action="store_true", help="include every record, with its id"
        )

    def handle(self, slug, output=None, with_data=False, **options):
        try:
            application = Application.objects.get(slug=slug)
        except Application.DoesNotExist:
            known = ", ".join(Application.objects.values_list("slug", flat=True)) or "none"
            raise CommandError(f"No application {slug!r}. Known applications: {known}.") from None
        text = json.dumps(export_definition(application, with_data), indent=2, ensure_ascii=False)
        if output:
            with open(output, "w", encoding="utf-8") as file:
                file.write(text + "\n")
            self.stderr.write(f"Wrote {slug} to {output}.")
        else:
            sys.stdout.write(text + "\n")
