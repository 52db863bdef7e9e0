"""Copy GraphiQL's scripts and styles from their npm packages into apps/data_api/static/graphiql/,
so the playground works on a machine that reaches nothing but its own server.

Which files, versions and SRI hashes: those graphene-django's own GraphiQL page loads from its
CDN (apps/data_api/playground.py reads them from the installed graphene-django). Each package is
fetched with `npm pack`, its tarball checked against the registry's sha512 `dist.integrity`, and
each file against the SRI hash the page's `integrity` attribute will check in the browser.
Run it after upgrading graphene-django, then commit the new files (and remove the old ones).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
STATIC_ROOT = BASE_DIR / "apps" / "data_api" / "static"


def sri(data: bytes, algorithm: str) -> str:
    return f"{algorithm}-{base64.b64encode(hashlib.new(algorithm, data).digest()).decode()}"


def npm_pack(spec: str, directory: Path) -> Path:
    """The package's tarball from the registry, after checking it against `dist.integrity`."""
    expected = json.loads(_npm("view", spec, "dist.integrity", "--json"))
    packed = json.loads(_npm("pack", spec, "--json", "--pack-destination", str(directory)))
    tarball = directory / packed[0]["filename"]
    found = sri(tarball.read_bytes(), "sha512")
    if found != expected:
        sys.exit(f"{spec}: the tarball's integrity is {found}, the registry says {expected}; "
                 "nothing was written. Check the registry (npm config get registry) and retry.")
    return tarball


def _npm(*args: str) -> str:
    try:
        done = subprocess.run(["npm", *args], capture_output=True, text=True, check=True)
    except FileNotFoundError:
        sys.exit("npm is missing: install Node.js with npm (apt-get install npm).")
    except subprocess.CalledProcessError as error:
        sys.exit(f"npm {' '.join(args)} failed:\n{error.stderr.strip()}")
    return done.stdout


def vendor(destination: Path) -> list[str]:
    """Write every asset under destination; exit, writing nothing, if any check fails."""
    from apps.data_api.playground import ASSETS

    files: dict[Path, bytes] = {}
    with tempfile.TemporaryDirectory() as scratch:
        tarballs: dict[str, Path] = {}
        for asset in ASSETS:
            spec = f"{asset.package}@{asset.version}"
            if spec not in tarballs:
                tarballs[spec] = npm_pack(spec, Path(scratch))
            with tarfile.open(tarballs[spec]) as archive:
                try:
                    data = archive.extractfile(f"package/{asset.file}").read()
                except KeyError:
                    sys.exit(f"{spec} has no {asset.file}: graphene-django's page needs a "
                             "file this version does not ship. Nothing was written.")
            algorithm = asset.integrity.split("-", 1)[0]
            if sri(data, algorithm) != asset.integrity:
                sys.exit(f"{spec}/{asset.file} is {sri(data, algorithm)}, but the page checks "
                         f"{asset.integrity}: the browser would refuse it. Nothing was written.")
            files[destination / asset.static_path] = data
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return [os.path.relpath(path) for path in files]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--destination", type=Path, default=STATIC_ROOT,
                        help=f"the static directory to write into (default {STATIC_ROOT})")
    args = parser.parse_args()
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mortar.settings")
    os.environ.setdefault("MORTAR_DEBUG", "1")  # only to import the app; nothing is served
    import django

    django.setup()
    for written in vendor(args.destination.resolve()):
        print(f"wrote {written}")


if __name__ == "__main__":
    main()
