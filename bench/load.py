"""HTTP load with wrk (C, epoll, keep-alive): requests/s and latency percentiles.

wrk rather than a Python generator: on two shared cores, a Python client would take CPU from the
servers it measures. A generated Lua script sends the body and, where the body or the URL's path
holds RECORD_ID, puts a different record id there in each request.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
from dataclasses import asdict, dataclass

RECORD_ID = "__ID__"  # placeholder in a body for the id that changes per request

SCRIPT = """
wrk.method = "%(method)s"
wrk.headers["Content-Type"] = "application/json"
local prefix, suffix = [==[%(prefix)s]==], [==[%(suffix)s]==]
local path_prefix, path_suffix = [==[%(path_prefix)s]==], [==[%(path_suffix)s]==]
local in_body, in_path = %(in_body)s, %(in_path)s
local low, count, step = %(low)d, %(count)d, 7919
local started = 0
local sent = 0

function setup(thread)
  -- Each thread walks the ids from its own start, by a step coprime with most counts.
  thread:set("start", started)
  started = started + 50021
end

function request()
  if not (in_body or in_path) then
    return wrk.format(nil, path_prefix, nil, prefix)
  end
  sent = sent + 1
  local id = low + (start + sent * step) %% count
  local path, body = path_prefix, prefix
  if in_path then path = path_prefix .. id .. path_suffix end
  if in_body then body = prefix .. id .. suffix end
  return wrk.format(nil, path, nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK_RESULT %%d %%d %%d %%.0f %%.0f\\n", summary.requests,
    summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass
class Load:
    connections: int
    seconds: float  # as wrk measured it
    requests: int
    errors: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float

    def as_dict(self) -> dict:
        return asdict(self)


def in_turn(items: dict, number: int) -> list:
    """`items`' (key, value) pairs in order in even rounds and reversed in odd ones: each side
    goes first in turn, so that a slow spell of the machine does not fall on one side only."""
    pairs = list(items.items())
    return pairs if number % 2 == 0 else pairs[::-1]


def median_ratio(rounds: list[Load], floor_rounds: list[Load]) -> float:
    """The median of each round's requests/s over the floor's round of the same pass (this
    machine's drift moves it less than a ratio of two median rounds)."""
    return statistics.median(mine.requests_per_second / floor.requests_per_second
                             for mine, floor in zip(rounds, floor_rounds, strict=True))


def ensure_wrk() -> str:
    """wrk's path; installed from Debian with apt-get when missing and we are root."""
    found = shutil.which("wrk")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        print("bench: installing wrk with apt-get", flush=True)
        apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], env=apt_env,
                          capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=apt_env, capture_output=True)
            subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], env=apt_env,
                           capture_output=True)
        found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("the data API benchmark needs wrk: apt-get install wrk (Debian/Ubuntu) "
                           "or brew install wrk")
    return found


def run(url: str, body: str, connections: int, seconds: int,
        ids: tuple[int, int] = (1, 1), method: str = "POST") -> Load:
    """POST `body` (or GET, with an empty body) to `url` from `connections` keep-alive
    connections for `seconds`.

    A RECORD_ID in `body` or in `url`'s path becomes an id from the range `ids` (low, count),
    different per request.
    """
    base, _, path = url.partition("://")[2].partition("/")
    prefix, in_body, suffix = body.partition(RECORD_ID)
    path_prefix, in_path, path_suffix = ("/" + path).partition(RECORD_ID)
    script = SCRIPT % {"prefix": prefix, "suffix": suffix, "path_prefix": path_prefix,
                       "path_suffix": path_suffix, "in_body": str(bool(in_body)).lower(),
                       "in_path": str(bool(in_path)).lower(), "low": ids[0], "count": ids[1],
                       "method": method}
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        done = subprocess.run(
            [ensure_wrk(), "--threads", str(min(connections, 2)), "--connections",
             str(connections), "--duration", f"{seconds}s", "--timeout", "10s",
             "--script", lua.name, f"http://{base}"],
            capture_output=True, text=True, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("WRK_RESULT"))
    requests, duration_us, errors, p50_us, p99_us = (int(x) for x in line.split()[1:])
    return Load(connections, round(duration_us / 1e6, 2), requests, errors,
                round(requests / (duration_us / 1e6), 1), p50_us / 1000, p99_us / 1000)
