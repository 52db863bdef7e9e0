"""Memory benchmark: one Mortar worker serves 20,000 requests spread over 50 applications, 10
distinct documents each; its resident memory after the first 1,000 and at the end, and the
size and bound of every cache it holds (its /metrics).

Every application is a model `Note` of its own (a table each, read by anyone); the documents
differ in their page size, so each application's schema, documents, operations and kept plans
fill as real traffic would fill them. Requests go one after another over one keep-alive
connection, application after application.

Usage: python -m bench.memory [--quick]   (DATABASE_URL: postgres:// or sqlite:)
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

from bench import report, servers
from bench.data_api import bench_database, setup_django

APPLICATIONS, DOCUMENTS, REQUESTS, FIRST = 50, 10, 20_000, 1_000
NOTES = 20  # records per application
OPS_TOKEN = "bench-memory-ops-token-0123456789"
ALLOWED_GROWTH = 1.2


def document(size: int) -> str:
    return (f"{{ allNote(limit: {size}, sort: {{ field: id, order: ASC }}) "
            "{ totalCount results { id text } } }")


def build(url: str, applications: int) -> str:
    setup_django(url)
    from django.db import connection

    from apps.identity.models import Permission
    from models_registry import changes
    from models_registry.models import Application
    from models_registry.runtime import runtime_models

    unlimited = 2_000_000_000
    for number in range(applications):
        application = Application.objects.create(
            slug=f"memory-{number}", name=f"Memory {number}", rate_limit_minute=unlimited,
            rate_limit_hour=unlimited, rate_limit_day=unlimited)
        note = changes.create_model(application, "Note")
        changes.add_property(note, "text", "text")
        Permission.objects.create(data_model=note, operation="read", access="public")
        cls = runtime_models(Application.objects.get(pk=application.pk)).by_name["Note"]
        text = cls._mortar.attname("text")
        cls.objects.bulk_create(cls(**{text: f"note {i}"}) for i in range(NOTES))
    vendor = connection.vendor
    connection.close()
    return vendor


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def worker_pid(main: int) -> int:
    children = Path(f"/proc/{main}/task/{main}/children").read_text().split()
    if len(children) != 1:
        raise RuntimeError(f"expected one granian worker, found {children}")
    return int(children[0])


def cache_sizes(connection: http.client.HTTPConnection) -> dict[str, dict[str, float]]:
    connection.request("GET", "/metrics", headers={"Authorization": f"Bearer {OPS_TOKEN}"})
    text = connection.getresponse().read().decode()
    sizes: dict[str, dict[str, float]] = {}
    for line in text.splitlines():
        for metric in ("entries", "bound"):
            if line.startswith(f"mortar_cache_{metric}{{"):
                name = line.split('"')[1]
                sizes.setdefault(name, {})[metric] = float(line.split()[-1])
    return sizes


def measure(base: str, pid: int, applications: int, requests: int) -> dict:
    host = urlsplit(base)
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
    bodies = [json.dumps({"query": document(size)}).encode()
              for size in range(1, DOCUMENTS + 1)]
    rss = {}
    for sent in range(requests):
        slug = f"memory-{sent % applications}"
        body = bodies[(sent // applications) % DOCUMENTS]
        connection.request("POST", f"/api/{slug}/graphql", body,
                           {"Content-Type": "application/json"})
        response = connection.getresponse()
        answer = response.read()
        if response.status != 200 or b'"errors"' in answer:
            raise RuntimeError(f"{slug}: {response.status} {answer[:300]!r}")
        if sent + 1 in (FIRST, requests):
            rss[sent + 1] = rss_kib(pid)
            print(f"  after {sent + 1:,} requests: RSS {rss[sent + 1] / 1024:.1f} MiB",
                  flush=True)
    sizes = cache_sizes(connection)
    connection.close()
    return {"rss_kib": rss, "growth": rss[requests] / rss[FIRST], "caches": sizes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 applications, 4,000 requests")
    args = parser.parse_args(argv)
    applications, requests = (10, 4_000) if args.quick else (APPLICATIONS, REQUESTS)
    with bench_database(os.environ.get("DATABASE_URL") or "sqlite:///") as url:
        print(f"\nMemory: building {applications} applications", flush=True)
        vendor = build(url, applications)
        env = {**servers.server_environment(url), "MORTAR_OPS_TOKEN": OPS_TOKEN}
        logs = report.RESULTS_JSON.parent
        logs.mkdir(exist_ok=True)
        with servers.mortar_server(env, logs / f"{vendor}-memory.log",
                                   ("--workers", "1")) as (base, process):
            measured = measure(base, worker_pid(process.pid), applications, requests)
    measured.update(applications=applications, requests=requests, documents=DOCUMENTS,
                    **report.environment())
    report.save_section("memory", vendor, measured, render)
    if measured["growth"] > ALLOWED_GROWTH:
        print(f"RSS grew {measured['growth']:.2f}x, more than {ALLOWED_GROWTH}x", flush=True)
        return 1
    return 0


def render(every: dict) -> str:
    lines = ["## Memory: one worker, many applications and documents", "",
             "Command: `make bench` (`python -m bench.memory`). One granian worker serves "
             f"{REQUESTS:,} requests, one after another, spread over {APPLICATIONS} "
             f"applications ({DOCUMENTS} distinct documents each); its resident memory "
             f"(VmRSS) after the first {FIRST:,} and at the end, which must stay within "
             f"{ALLOWED_GROWTH}x, and its caches as its /metrics reports them at the end "
             "(a schema's caches added up over the applications).", ""]
    for vendor, found in every.items():
        rss = {int(sent): kib for sent, kib in found["rss_kib"].items()}
        first, last = rss[min(rss)], rss[max(rss)]
        lines += [f"### {report.VENDORS.get(vendor, vendor)}: {found['applications']} "
                  f"applications, {found['requests']:,} requests", "",
                  f"RSS after {min(rss):,} requests: {first / 1024:.1f} MiB; after "
                  f"{max(rss):,}: {last / 1024:.1f} MiB ({found['growth']:.2f}x).", "",
                  "| cache | entries | bound |", "| --- | ---: | ---: |"]
        for name, size in sorted(found["caches"].items()):
            lines.append(f"| {name} | {size.get('entries', 0):,.0f} | "
                         f"{size.get('bound', 0):,.0f} |")
        lines.append("")
    return "\n".join(lines).rstrip()


if __name__ == "__main__":
    sys.exit(main())
