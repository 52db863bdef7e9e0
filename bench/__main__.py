"""Run every benchmark on a throwaway test database and print (and save) the figures.

Usage: python -m bench [--quick]   (make bench starts PostgreSQL and Redis first)
"""

import argparse
import json
import os
import sys
from pathlib import Path

import django


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mortar.settings")
    django.setup()

    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    from bench import registry

    databases = setup_databases(verbosity=0, interactive=False)
    try:
        print(f"database: {connection.vendor} {connection.settings_dict['NAME']}", flush=True)
        results = registry.run_all(quick=args.quick)
    finally:
        teardown_databases(databases, verbosity=0)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "registry.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nsaved to {out / 'registry.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
