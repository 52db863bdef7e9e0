"""manage.py trash on|off <app> <Model> | purge"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ...changes import SchemaChangeError, set_trash
from ...models import DataModel
from ...shell import tell
from ...tasks import purge_every_trash


class Command(BaseCommand):
    help = ("Models' trashes: give a model one (deleteX then moves its records there, to be "
            "restored with restoreX until the application's trash period ends), take it away "
            "(deletions final again; refused while it holds records), or delete for good the "
            "records past their trash period now (purge; Celery beat does it hourly).")

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="on|off|purge")
        for action, what in (("on", "Give the model a trash."),
                             ("off", "Take the model's trash away (it must be empty).")):
            command = actions.add_parser(action, help=what)
            command.add_argument("app", help="the application's slug")
            command.add_argument("model", help="the model's name, e.g. Task")
        actions.add_parser("purge", help="Delete the records that have been in a trash longer "
                           "than their application's trash period (trash_hours).")

    def handle(self, *args, action: str, **options):
        if action == "purge":
            self.stdout.write(f"Purged {purge_every_trash()} records past their trash period.")
            return
        data_model = DataModel.objects.select_related("application").filter(
            application__slug=options["app"], name=options["model"]).first()
        if data_model is None:
            raise CommandError(f"There is no model {options['model']!r} in an application "
                               f"{options['app']!r}; the admin lists them under Data models.")
        try:
            set_trash(data_model, action == "on")
        except SchemaChangeError as error:
            raise CommandError(error.message) from None
        tell("schema.change", data_model.application, "data model", object=data_model.name,
             trash=action == "on")
        name, hours = data_model.name, data_model.application.trash_hours
        self.stdout.write(
            f"{name} has a trash: delete{name} and deleteMany{name} move records there, "
            f"restore{name} and restoreMany{name} bring them back for {hours} hours."
            if action == "on" else f"{name} has no trash: its deletions are final.")
