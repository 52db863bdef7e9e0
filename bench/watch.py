"""SSE delivery latency: WATCHERS clients watch the demo's tasks on one ASGI server (gunicorn
with one uvicorn worker, the Compose shape) while a writer creates tasks over HTTP at a steady
rate; for every event and watcher, the time from the write to the event's arrival.

Usage: python -m bench.watch [--quick]   (DATABASE_URL: postgres:// — LISTEN/NOTIFY — or sqlite:
— then Redis pub/sub with REDIS_URL, else polling)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request

from bench import report, servers
from bench.data_api import bench_database, setup_django

WATCHERS = 200
CREATE = 'mutation($name: String) { createTask(input: { name: $name }) { id } }'


def post(url: str, key: str, name: str) -> int:
    body = json.dumps({"query": CREATE, "variables": {"name": name}}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json",
                                                 "Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    if "errors" in answer:
        raise RuntimeError(f"Mortar refused the benchmark's write: {answer['errors']}")
    return answer["data"]["createTask"]["id"]


async def watch(port: int, key: str, arrivals: dict, ready: asyncio.Event, opened: list,
                stop: asyncio.Event) -> None:
    """One client (HTTP/1.0: the body is the stream itself, unchunked); arrival times by task
    id."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /api/demo/watch?models=Task HTTP/1.0\r\nHost: 127.0.0.1\r\n"
                 f"Authorization: Bearer {key}\r\n\r\n".encode())
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        raise RuntimeError(f"the watch was refused: {status!r}")
    opened.append(True)
    if len(opened) == WATCHERS:
        ready.set()
    try:
        while not stop.is_set():
            line = await reader.readline()
            if not line:
                raise RuntimeError("the server ended a stream")
            if line.startswith(b"data: "):
                arrivals[json.loads(line[6:])["id"]] = time.perf_counter()
    finally:
        writer.close()


async def measure(port: int, key: str, url: str, writes: int, rate: float) -> dict:
    arrivals = [{} for _ in range(WATCHERS)]
    ready, stop, opened = asyncio.Event(), asyncio.Event(), []
    clients = [asyncio.create_task(watch(port, key, arrivals[i], ready, opened, stop))
               for i in range(WATCHERS)]
    await asyncio.wait_for(ready.wait(), 60)
    await asyncio.sleep(1)  # every stream past its first lines and subscribed
    loop = asyncio.get_running_loop()
    sent, done = {}, {}
    start = time.perf_counter()
    for i in range(writes):
        await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))  # steady rate
        before = time.perf_counter()
        task = await loop.run_in_executor(None, post, url, key, f"bench {i}")
        sent[task], done[task] = before, time.perf_counter()
    deadline = time.perf_counter() + 30
    while (any(len(a) < writes for a in arrivals) and time.perf_counter() < deadline):
        await asyncio.sleep(0.1)
    stop.set()
    for client in clients:
        client.cancel()
    await asyncio.gather(*clients, return_exceptions=True)
    from_request = sorted(a[t] - sent[t] for a in arrivals for t in a if t in sent)
    from_response = sorted(a[t] - done[t] for a in arrivals for t in a if t in sent)
    writes_took = sorted(done[t] - sent[t] for t in sent)
    return {"watchers": WATCHERS, "writes": writes, "rate_per_s": rate,
            "deliveries": len(from_request), "missed": WATCHERS * writes - len(from_request),
            "write_p50_ms": statistics.median(writes_took) * 1000,
            "from_request": percentiles(from_request),
            "from_response": percentiles(from_response)}


def percentiles(seconds: list[float]) -> dict:
    return {"p50_ms": statistics.median(seconds) * 1000,
            "p99_ms": seconds[min(len(seconds) - 1, int(len(seconds) * 0.99))] * 1000,
            "max_ms": seconds[-1] * 1000}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 s of writes, not 30")
    args = parser.parse_args(argv)
    rate, seconds = 10.0, 5 if args.quick else 30
    with bench_database(os.environ.get("DATABASE_URL") or "sqlite:///") as url:
        setup_django(url, demo=True)
        from django.db import connection

        from apps.identity import server_keys
        from models_registry.models import Application

        key = server_keys.create(Application.objects.get(slug="demo"), "bench")[1]
        vendor, version = connection.vendor, report.database_version()
        connection.close()
        logs = report.RESULTS_JSON.parent
        logs.mkdir(exist_ok=True)
        port = servers.free_port()
        with open(logs / f"{vendor}-mortar-watch.log", "wb") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "mortar.asgi:application", "--worker-class",
                 "uvicorn_worker.UvicornWorker", "--workers", "1", "--bind",
                 f"127.0.0.1:{port}", "--log-level", "warning"],
                cwd=servers.ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT)
        try:
            servers._wait_until_ready(server, f"http://127.0.0.1:{port}",
                                      logs / f"{vendor}-mortar-watch.log")
            figures = asyncio.run(measure(port, key, f"http://127.0.0.1:{port}/api/demo/graphql",
                                          int(rate * seconds), rate))
        finally:
            server.terminate()
            server.wait(timeout=30)
    try:
        environment = report.environment()
    except OSError:  # no wrk here: the date is what matters
        environment = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                       "commit": "?"}
    report.save_section("watch", vendor, {"database": version, "figures": figures,
                                          **environment}, render)
    return 1 if figures["missed"] else 0


def render(every: dict) -> str:
    lines = ["## Watching changes (SSE): delivery latency", "",
             f"Command: `make bench` (`python -m bench.watch`). {WATCHERS} watchers of "
             "`/api/demo/watch?models=Task` (a server key) on one gunicorn process with a "
             "uvicorn worker; one writer creates tasks over HTTP to the same server at a "
             "steady rate. Latency per event and watcher: from the write's request (an upper "
             "bound: includes the mutation) and from its response (about commit to delivery).",
             "", "| database | measured | writes | deliveries | missed | write p50 ms | "
             "from request p50 / p99 ms | from response p50 / p99 ms |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for kept in every.values():
        f = kept["figures"]
        lines.append(
            f"| {kept['database']} | {kept['date']}, {kept.get('commit', '?')} | "
            f"{f['writes']} at {f['rate_per_s']:g}/s | {f['deliveries']} | {f['missed']} | "
            f"{f['write_p50_ms']:.1f} | {f['from_request']['p50_ms']:.1f} / "
            f"{f['from_request']['p99_ms']:.1f} | {f['from_response']['p50_ms']:.1f} / "
            f"{f['from_response']['p99_ms']:.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
