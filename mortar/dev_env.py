"""The development settings file, `<data dir>/dev.env`: written by `make run` (manage.py
devsetup), read by every later `manage.py` call, so that commands in a second shell see the
same settings as the dev server. Only manage.py reads it: gunicorn (mortar.wsgi) and the test
suite never do, so production still needs its own MORTAR_SECRET_KEY."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def dev_env_path() -> Path:
    """Beside the dev database, in the data dir (MORTAR_DATA_DIR, as the settings read it)."""
    return Path(os.environ.get("MORTAR_DATA_DIR", BASE_DIR / "var")) / "dev.env"


def read_dev_env(path: Path) -> dict[str, str]:
    """`NAME=value` lines; blank lines and `#` comments are skipped."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#"):
            values[name.strip()] = value.strip()
    return values


def load_dev_env() -> None:
    """Put the file's values into the environment when it exists; a variable already set wins,
    so `MORTAR_DEBUG=0 .venv/bin/python manage.py …` still means what it says."""
    path = dev_env_path()
    if path.exists():
        for name, value in read_dev_env(path).items():
            os.environ.setdefault(name, value)


def write_dev_env(values: dict[str, str]) -> Path:
    path = dev_env_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{name}={value}" for name, value in values.items()]
    path.write_text(
        "# Development settings, written by `make run` (manage.py devsetup) and read by every\n"
        "# manage.py command; an environment variable set in the shell wins. Production never\n"
        "# reads this file: set MORTAR_SECRET_KEY and the rest in its environment.\n"
        + "\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)  # it holds the secret key and the ops token
    return path
