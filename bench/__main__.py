"""Run the benchmarks and print (and save) the figures.

Usage: python -m bench [--quick] [--only NAME] [--seconds S]   (make bench starts PostgreSQL
and Redis first). The registry benchmarks run on a throwaway test database; the others
(bench/data_api.py: reads, mutations.py: writes, identity.py: login and tokens, ratelimit.py:
the bucket check, rest.py: a saved REST endpoint beside /graphql, cursors.py: page 1 against
page 900 by cursor and by offset, watch.py: SSE delivery latency of 200 watchers, trash.py:
the audit log's and the trash's costs, profile.py: a sampled profile of a worker serving C,
layers.py: C's CPU per request by process and by layer, memory.py: one worker's memory over
50 applications)
build a
database of their own and run in processes of their own, since their Django settings point at
that database.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import django


def run_registry(quick: bool) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mortar.settings")
    django.setup()

    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    from bench import registry

    databases = setup_databases(verbosity=0, interactive=False)
    try:
        print(f"database: {connection.vendor} {connection.settings_dict['NAME']}", flush=True)
        results = registry.run_all(quick=quick)
    finally:
        teardown_databases(databases, verbosity=0)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "registry.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nsaved to {out / 'registry.json'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--only", choices=["registry", "data_api", "mutations", "identity",
                                           "ratelimit", "rest", "cursors", "watch", "trash",
                                           "profile", "layers", "memory"],
                        help="run just this one")
    parser.add_argument("--seconds", type=int, help="data API and REST: seconds per round")
    args = parser.parse_args()
    if args.only in (None, "registry"):
        run_registry(args.quick)
    for name in ("data_api", "mutations", "identity", "ratelimit", "rest", "cursors", "watch",
                 "trash", "profile", "layers", "memory"):
        if args.only not in (None, name):
            continue
        command = [sys.executable, "-m", f"bench.{name}"] + ["--quick"] * args.quick
        if args.seconds and name in ("data_api", "rest"):  # rounds of wrk: their length
            command += ["--seconds", str(args.seconds)]
        if subprocess.call(command):
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
