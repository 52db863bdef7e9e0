import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from models_registry.definitions import DefinitionError, load_definition


class Command(BaseCommand):
    help = (
        "Create or update an application from a definition file (as written by `exportapp`). "
        "The whole file is checked first; then everything is applied in one transaction, so a "
        "failure changes nothing. Loading the same file again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the JSON definition file")
        parser.add_argument(
            "--with-data",
            action="store_true",
            help="also create or update the records in the file's \"data\" (matched by id); "
            "file values are read relative to the definition file",
        )

    def handle(self, file, with_data=False, **options):
        path = Path(file)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CommandError(f"{file}: no such file.") from None
        except json.JSONDecodeError as error:
            raise CommandError(
                f"{file}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})."
            ) from None
        try:
            report = load_definition(document, with_data, files_dir=path.parent)
        except DefinitionError as error:
            listed = "\n".join(f"  - {problem}" for problem in error.problems)
            raise CommandError(
                f"{file} was not loaded; nothing was changed. Fix these and load it again:\n"
                f"{listed}"
            ) from None
        slug = report.application.slug
        if report.unchanged:
            self.stdout.write(f"{slug}: already up to date.")
        for line in report.created:
            self.stdout.write(f"created {line}")
        for line in report.changed:
            self.stdout.write(f"changed {line}")
        if report.records:
            self.stdout.write(f"wrote {report.records} records")
        for line in report.not_in_file:
            self.stdout.write(f"kept {line} (not in the file; delete it in the admin if unwanted)")
