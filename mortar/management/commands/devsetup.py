import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from models_registry.models import Application
from mortar.dev_env import dev_env_path, read_dev_env, write_dev_env

DEMO_FILE = Path(settings.BASE_DIR) / "fixtures" / "demo.json"


class Command(BaseCommand):
    help = (
        "Prepare a development site (used by `make run`): write the development settings file "
        "(var/dev.env, read by every later manage.py command), load the demo application if it "
        "is absent, make sure a dev admin exists, and print where everything is. Running it "
        "again reuses what exists."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", default="8000", help="port the server will listen on")

    def handle(self, port="8000", **options):
        self.write_settings(port)
        if not Application.objects.filter(slug="demo").exists():
            self.stdout.write("Loading the demo application ...")
            call_command("loadapp", str(DEMO_FILE), with_data=True, stdout=self.stdout)
        Application.objects.filter(slug="demo").update(playground_enabled=True)
        username, password = self.dev_admin()
        base = f"http://127.0.0.1:{port}"
        self.stdout.write(
            "\n"
            f"  Admin:     {base}/admin/   (user {username!r}, password {password!r})\n"
            f"  Demo API:  {base}/api/demo/graphql\n"
            f"  Health:    {base}/healthz\n"
        )

    def write_settings(self, port: str) -> None:
        """The dev settings file; its secret key and ops token are made once and kept, so
        sessions and scripts survive restarts."""
        kept = read_dev_env(dev_env_path()) if dev_env_path().exists() else {}
        write_dev_env({
            "MORTAR_DEBUG": "1",
            "MORTAR_SECRET_KEY": kept.get("MORTAR_SECRET_KEY") or secrets.token_urlsafe(50),
            "MORTAR_OPS_TOKEN": kept.get("MORTAR_OPS_TOKEN") or secrets.token_urlsafe(32),
            # the local rate-limit backend's buckets live in this server: `manage.py ratelimit`
            # asks it for them
            "MORTAR_RATELIMIT_SERVER_URL": f"http://127.0.0.1:{port}",
        })

    def dev_admin(self) -> tuple[str, str]:
        """The dev admin's credentials; the password is made once and kept in the data dir."""
        secret_file = Path(settings.DATA_DIR) / "dev-admin-password"
        if not secret_file.exists():
            secret_file.parent.mkdir(parents=True, exist_ok=True)
            secret_file.write_text(secrets.token_urlsafe(12))
            secret_file.chmod(0o600)
        password = secret_file.read_text().strip()
        user, _ = get_user_model().objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        if not user.check_password(password):
            user.set_password(password)
            user.save()
        return "admin", password
