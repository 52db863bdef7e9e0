"""Where a worker's time goes serving C: one gunicorn worker (the bench's gthread settings)
serves the data API benchmark's query C at concurrency 1 under wrk while py-spy samples it; its
busy samples (py-spy leaves out those of threads waiting) are summed by the part of the request
their stack is in, the innermost part that names one of its frames winning (the samples of
threads that wait, which py-spy here takes for busy ones, left out by name: `WAITS`).

Usage: python -m bench.profile [--quick]   (make bench runs it on PostgreSQL; py-spy needs to
read the worker's memory: root, or ptrace allowed)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

from bench import load, report, servers
from bench.data_api import PATH, QUERIES, bench_database, build_bench_application

SECONDS = 20
RATE = 200  # samples per second
# (part, what names it in a frame: py-spy writes one as "function (package/module.py:line)"),
# the more particular first: a frame is tested against each in turn, from the innermost out.
PARTS = [
    ("the rate-limit bucket take in Redis", ("(redis/", "(apps/ratelimit/")),
    ("the data statement (psycopg, the database's answer)", ("(psycopg/",)),
    ("planning the statement", ("(apps/data_api/read/",)),
    ("the GraphQL document: parse, validate, coerce", ("(graphql/", "(apps/data_api/request/")),
    ("Mortar's request stage: view, identity, results",
     ("(apps/", "(models_registry/", "(mortar/")),
    ("Django: handler, URLs, middleware, signals",
     ("(django/", "(corsheaders/", "(whitenoise/")),
    ("gunicorn: HTTP parsing and response writing", ("(gunicorn/",)),
]
REST = "the rest (the standard library's JSON, sockets, threads)"
# Innermost frames of threads that wait: a gthread worker's idle pool thread (its queue) and
# its main thread's poll. py-spy tells a waiting thread by the kernel's word for it, which it
# does not get here for these, so they are left out by name.
WAITS = ("_worker (concurrent/futures/thread.py:81)", "EpollSelector.select (selectors.py:")


def mortar_frame(frame: str) -> bool:
    return any(f"({package}/" in frame for package in ("apps", "models_registry", "mortar"))


def part_of(stack: list[str]) -> str:
    for frame in reversed(stack):
        for part, marks in PARTS:
            if any(mark in frame for mark in marks):
                return part
    return REST


def summarise(raw: str, wall: bool = False) -> tuple[dict[str, int], dict[str, int]]:
    """Samples per part, from py-spy's raw (collapsed) output (`frame;frame;... count`), and
    the innermost frames of the rest's samples, the most common first. `wall`: the samples
    of the threads serving a request, waiting or not (of every stack, its innermost frames)."""
    counts: Counter = Counter()
    shown: Counter = Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            frames = stack.split(";")
            if wall and not any("ThreadWorker.handle " in frame for frame in frames):
                continue  # not serving a request
            if not wall and any(wait in frames[-1] for wait in WAITS):
                continue  # waiting, which py-spy here takes for busy
            part = part_of(frames)
            counts[part] += int(count)
            if wall:  # where it waits or works, and for which step of Mortar's
                mortar = next((frame for frame in reversed(frames) if mortar_frame(frame)),
                              "")
                shown[f"{frames[-1]} … {mortar}"] += int(count)
            elif part == REST:
                shown[" < ".join(frames[-1:-4:-1])] += int(count)
    return dict(counts), dict(shown.most_common(12 if wall else 5))


def worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    if len(children) != 1:
        raise RuntimeError(f"expected one gunicorn worker, found {children}")
    return int(children[0])


def profile_query(url: str, master: int, seconds: int, tasks: int, key: str,
                  wall: bool = False) -> tuple[dict[str, int], dict[str, int]]:
    """wrk sends query `key` to the one-worker server at `url` (its master's pid `master`)
    while py-spy samples its worker."""
    query = QUERIES[key]
    load.run(url + PATH, query.template(), 1, 2, (1, tasks))  # warm
    with tempfile.NamedTemporaryFile(suffix=".txt") as out:
        sampler = subprocess.Popen(
            [str(Path(sys.executable).parent / "py-spy"), "record", "--pid",
             str(worker_pid(master)), "--rate", str(RATE), "--duration", str(seconds),
             "--format", "raw", "--output", out.name, "--nonblocking",
             *(["--idle"] if wall else [])],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        sending = threading.Thread(target=load.run, args=(url + PATH, query.template(), 1,
                                                           seconds + 2, (1, tasks)))
        sending.start()
        _, errors = sampler.communicate(timeout=seconds + 60)
        sending.join()
        if sampler.returncode:
            raise RuntimeError(f"py-spy failed: {errors}")
        return summarise(Path(out.name).read_text(), wall)


def build_and_profile(url: str, seconds: int, key: str = "C", wall: bool = False) -> dict:
    _, filled = build_bench_application(url, f"Profile of {key}")
    from django.db import connection

    vendor, version = connection.vendor, report.database_version()
    connection.close()
    logs = report.RESULTS_JSON.parent
    logs.mkdir(exist_ok=True)
    pid_file = logs / f"{vendor}-mortar-profile.pid"
    with servers.gunicorn("mortar.wsgi", servers.server_environment(url),
                          logs / f"{vendor}-mortar-profile.log",
                          options=("--workers", "1", "--pid", str(pid_file))) as mortar:
        parts, rest = profile_query(mortar, int(pid_file.read_text()), seconds,
                                    filled["tasks"], key, wall)
    total = sum(parts.values())
    for part, samples in sorted(parts.items(), key=lambda item: -item[1]):
        print(f"  {samples / total:6.1%}  {part}", flush=True)
    for frames, samples in rest.items():
        print(f"  {'a stack' if wall else 'the rest'}, {samples / total:6.1%}: {frames}",
              flush=True)
    return {"vendor": vendor, "database": version, "query": key, "seconds": seconds, "rate": RATE,
            "samples": total, "parts": parts, "rest": rest, **report.environment()}


def render(every: dict) -> str:
    lines = [
        "## Where a worker's time goes serving C (a sampling profile)",
        "",
        "Command: `make bench` (it runs `python -m bench.profile` on PostgreSQL). One gunicorn "
        "worker (gthread, the bench's settings otherwise) serves query C at concurrency 1 under "
        f"wrk while py-spy samples it {RATE} times a second; a sample counts for the innermost "
        "part of the request a frame of its stack names (`bench/profile.py`), and only busy "
        "samples count (py-spy leaves out threads that wait).",
        "",
    ]
    for results in every.values():
        lines += [f"### {results['database']}: measured {results['date']}, Mortar at commit "
                  f"{results['commit']}, {results['seconds']} s, {results['samples']:,} busy "
                  "samples", "", "| part of a C request | share |", "| --- | ---: |"]
        total = results["samples"]
        for part, samples in sorted(results["parts"].items(), key=lambda item: -item[1]):
            lines.append(f"| {part} | {samples / total:.0%} |")
        lines += ["", "The rest's most common innermost frames (innermost first):", ""]
        lines += [f"- {samples / total:.1%}: `{frames}`"
                  for frames, samples in results["rest"].items()]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 s of samples, not 20")
    parser.add_argument("--query", choices=sorted(QUERIES), default="C",
                        help="another query than C, printed only (RESULTS.md keeps C's)")
    parser.add_argument("--wall", action="store_true",
                        help="wall time: the request threads' samples, waiting ones too (on "
                             "the database, on Redis), printed only")
    args = parser.parse_args(argv)
    with bench_database(os.environ.get("DATABASE_URL") or "sqlite:///") as url:
        results = build_and_profile(url, 5 if args.quick else SECONDS, args.query, args.wall)
    if args.query == "C" and not args.wall:
        report.save_section("profile", results["vendor"], results, render)
    return 0


if __name__ == "__main__":
    sys.exit(main())
