"""Run a command against throwaway PostgreSQL and Redis servers, once per database.

Starts PostgreSQL (as the `postgres` user when run as root: PostgreSQL refuses to run as root)
and Redis on free loopback ports, then runs CMD once per database with DATABASE_URL, REDIS_URL
and MORTAR_TEST_DATABASE (postgres|sqlite) set. A postgres DATABASE_URL or a REDIS_URL already
in the environment is used instead of starting that server. With --side-by-side the runs go at
the same time, each with a Redis of its own (the first one's output shows as it runs, the
others' when they end). Servers and temp dirs are removed at the end, also on Ctrl-C and
SIGTERM. Exits 0 only if every run passed, else with the first failing run's status; 2 when
server binaries are missing and cannot be installed.
"""

import argparse
import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit

DATABASES = ("postgres", "sqlite")
APT_PACKAGES = {"postgres": "postgresql", "redis": "redis-server", "chromium": "chromium",
                "node": "nodejs npm"}


def find_pg_bin() -> str | None:
    """The newest PostgreSQL's bin dir in Debian's layout, else the one on PATH."""
    dirs = [d for d in glob.glob("/usr/lib/postgresql/*/bin") if os.path.exists(f"{d}/initdb")]
    dirs.sort(key=lambda d: [int(n) for n in d.split("/")[-2].split(".") if n.isdigit()])
    pg_ctl = shutil.which("pg_ctl")
    return dirs[-1] if dirs else (os.path.dirname(pg_ctl) if pg_ctl else None)


def missing_servers(needed: list[str]) -> list[str]:
    found = {"postgres": find_pg_bin, "redis": lambda: shutil.which("redis-server"),
             "chromium": lambda: shutil.which("chromium"),
             "node": lambda: shutil.which("node") and shutil.which("npm")}
    return [name for name in needed if not found[name]()]


def ensure_binaries(needed: list[str]) -> None:
    missing = missing_servers(needed)
    packages = " ".join(APT_PACKAGES[name] for name in missing)
    if missing and os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"test_services: installing {packages} with apt-get", flush=True)
        apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], env=apt_env)
        subprocess.run(["apt-get", "install", "-y", "-q", *packages.split()], env=apt_env)
        missing = missing_servers(needed)
    if missing:
        print(
            f"test_services: missing programs for: {', '.join(missing)}\n"
            f"  Debian/Ubuntu: sudo apt-get install {packages}\n"
            "  Elsewhere: install the PostgreSQL server (initdb, pg_ctl), redis-server,\n"
            "  chromium, Node and npm with your package manager, or point DATABASE_URL /\n"
            "  REDIS_URL at running servers.",
            file=sys.stderr,
        )
        sys.exit(2)


def free_port() -> int:
    # The OS picks a free port; there is a small window before the server binds it again.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_command(port: int, command: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
        sock.sendall(command + b"\r\n")
        return sock.recv(64)


def end_process(process: subprocess.Popen, timeout: float, sig=signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Services:
    """Throwaway servers; stop() undoes whatever the start_* methods managed to do."""

    def __init__(self) -> None:
        self.as_postgres_user = os.geteuid() == 0  # PostgreSQL refuses to run as root.
        self.pg_bin = self.pg_dir = None
        self.redises: list[subprocess.Popen] = []
        self.pg_version, self.pg_starting = "", False
        self.work_dir = tempfile.mkdtemp(prefix="mortar-tests-")

    def pg(self, tool: str, *args: str) -> subprocess.CompletedProcess:
        command = [f"{self.pg_bin}/{tool}", *args]
        if self.as_postgres_user:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True)

    def start_postgres(self) -> str:
        self.pg_bin = find_pg_bin()
        self.pg_version = self.pg("pg_ctl", "--version").stdout.split()[-1].split(".")[0]
        self.pg_dir = tempfile.mkdtemp(prefix="mortar-pg-")  # mode 700, as initdb wants
        if self.as_postgres_user:
            shutil.chown(self.pg_dir, "postgres", "postgres")
        port, data, log = free_port(), f"{self.pg_dir}/data", f"{self.pg_dir}/log"
        init_options = "-U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync".split()
        done = self.pg("initdb", "-D", data, *init_options)
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{done.stdout}{done.stderr}")
        # Durability off: the cluster is thrown away, and tests run faster.
        options = (
            f"-p {port} -k {self.pg_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self.pg_starting = True
        done = self.pg("pg_ctl", "-D", data, "-l", log, "-w", "-o", options, "start")
        if done.returncode != 0:
            log_text = open(log).read() if os.path.exists(log) else ""
            raise RuntimeError(f"PostgreSQL did not start:\n{done.stdout}{done.stderr}{log_text}")
        return f"postgres://postgres@127.0.0.1:{port}/postgres"

    def start_redis(self) -> str:
        port = free_port()
        log_path = f"{self.work_dir}/redis-{len(self.redises)}.log"
        with open(log_path, "wb") as log:
            # Own session: a terminal's Ctrl-C reaches the command under test, not Redis,
            # which we stop after the command has finished.
            redis = subprocess.Popen(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1"]
                + ["--save", "", "--appendonly", "no", "--daemonize", "no"],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.redises.append(redis)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and redis.poll() is None:
            try:
                if redis_command(port, b"PING").startswith(b"+PONG"):
                    return f"redis://127.0.0.1:{port}/0"
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"Redis did not answer PING on port {port}:\n{open(log_path).read()}")

    def stop(self) -> None:
        for redis in self.redises:
            end_process(redis, timeout=10)
        pid_file = f"{self.pg_dir}/data/postmaster.pid"
        # Interrupted inside `pg_ctl start`: the postmaster may be about to write its pid file.
        deadline = time.monotonic() + (2 if self.pg_starting else 0)
        while not os.path.exists(pid_file) and time.monotonic() < deadline:
            time.sleep(0.05)
        if os.path.exists(pid_file):
            self.pg("pg_ctl", "-D", f"{self.pg_dir}/data", "-w", "-m", "fast", "stop")
        for path in (self.pg_dir, self.work_dir):
            if path:
                shutil.rmtree(path, ignore_errors=True)


def run_command(command: list[str], env: dict[str, str]) -> int:
    child = start(command, env)
    return 127 if child is None else wait_for([child])[0]


def start(command: list[str], env: dict[str, str], output=None) -> subprocess.Popen | None:
    """The command, started (its output to `output`, a file, or to ours); None if missing."""
    try:
        return subprocess.Popen(command, env=env, stdout=output,
                                stderr=None if output is None else subprocess.STDOUT)
    except FileNotFoundError:
        print(f"test_services: command not found: {command[0]}", file=sys.stderr)
        return None


def wait_for(children: list[subprocess.Popen]) -> list[int]:
    """Each child's exit status, in order; on Ctrl-C or SIGTERM every child is ended first."""
    try:
        codes = [child.wait() for child in children]
    except BaseException as stop:
        ignore_signals()
        interrupted = isinstance(stop, KeyboardInterrupt)
        for child in children:
            if interrupted:
                # A terminal's Ctrl-C reached the child too: let it finish on its own first.
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(timeout=3)
            # Pass the signal on (SIGTERM, or SIGINT sent to us alone); kill if it hangs.
            end_process(child, timeout=15, sig=signal.SIGINT if interrupted else signal.SIGTERM)
        raise
    return [128 - code if code < 0 else code for code in codes]  # killed: the shell's way


def run_side_by_side(command: list[str], runs: list[tuple[str, str, dict[str, str]]],
                     work_dir: str) -> dict[str, int]:
    """(name, banner, environment) runs at the same time: the first one's output as it comes,
    each other's from its log once all have ended."""
    children, logs = [], []
    try:
        for index, (name, banner, env) in enumerate(runs):
            if index == 0:
                print(f"\n=== tests on {banner} ===", flush=True)
                output = None
            else:
                print(f"(beside it, tests on {banner}: their output follows)", flush=True)
                logs.append(output := open(f"{work_dir}/{name}.log", "w+b"))
            child = start(command, env, output)
            if child is None:
                return {name: 127}
            children.append(child)
        codes = wait_for(children)
        for (_, banner, _), log in zip(runs[1:], logs, strict=True):
            print(f"\n=== tests on {banner}, run beside ===", flush=True)
            log.seek(0)
            shutil.copyfileobj(log, sys.stdout.buffer)
            sys.stdout.flush()
        return {name: code for (name, _, _), code in zip(runs, codes, strict=True)}
    finally:
        for log in logs:
            log.close()


def raise_exit(signum, frame):
    raise SystemExit(128 + signum)


def ignore_signals() -> None:
    # A second Ctrl-C must not cut the cleanup short.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        usage="%(prog)s [-h] [--databases postgres,sqlite] -- CMD [ARGS...]",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--databases", default="postgres,sqlite", help="runs, in this order")
    parser.add_argument("--browser", action="store_true",
                        help="install Chromium too when missing (the browser tests drive it)")
    parser.add_argument("--node", action="store_true",
                        help="install Node and npm too when missing (the GraphQL-over-HTTP audit "
                             "runs on Node)")
    parser.add_argument("--side-by-side", action="store_true",
                        help="run the databases at the same time, each with a Redis of its own "
                             "(on 2 cores about 40%% less time); the first run's output shows as "
                             "it runs, the others' when they end. Not with a REDIS_URL given.")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command to run")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    databases = [name.strip() for name in args.databases.split(",") if name.strip()]
    if not command:
        parser.error("give the command to run after --")
    if not databases or any(name not in DATABASES for name in databases):
        parser.error(f"--databases takes a comma-separated list of {', '.join(DATABASES)}")

    given_db = os.environ.get("DATABASE_URL", "")
    given_db = given_db if urlsplit(given_db).scheme in ("postgres", "postgresql") else ""
    given_redis = os.environ.get("REDIS_URL", "")
    use_pg = "postgres" in databases and not given_db
    ensure_binaries(["postgres"] * use_pg + ["redis"] * (not given_redis)
                    + ["chromium"] * args.browser + ["node"] * args.node)

    signal.signal(signal.SIGINT, signal.default_int_handler)  # raises KeyboardInterrupt
    signal.signal(signal.SIGTERM, raise_exit)  # raises SystemExit, so `finally` cleans up
    services, results = Services(), {}
    side_by_side = args.side_by_side and len(databases) > 1 and not given_redis
    try:
        redis_url = given_redis or services.start_redis()
        pg_url = services.start_postgres() if use_pg else given_db
        runs = []
        for name in databases:
            if name == "postgres":
                where = urlsplit(pg_url)
                label = f"PostgreSQL {services.pg_version or 'from DATABASE_URL'}"
                banner, db_url = f"{label} ({where.hostname}:{where.port or 5432})", pg_url
            else:
                db_path = f"{services.work_dir}/mortar.sqlite3"
                banner, db_url = f"SQLite ({db_path})", f"sqlite:///{db_path}"
            if side_by_side and runs:
                redis_url = services.start_redis()  # one each: no keys or channels shared
            env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis_url,
                   "MORTAR_TEST_DATABASE": name}
            runs.append((name, banner, env))
        if side_by_side:
            results.update(run_side_by_side(command, runs, services.work_dir))
        else:
            for name, banner, env in runs:
                if services.redises:  # no state between runs
                    redis_command(urlsplit(env["REDIS_URL"]).port, b"FLUSHALL")
                print(f"\n=== tests on {banner} ===", flush=True)
                results[name] = run_command(command, env)
    except (KeyboardInterrupt, SystemExit) as stop:
        print("\ntest_services: interrupted", file=sys.stderr)
        results["interrupted"] = stop.code if isinstance(stop, SystemExit) else 130
    except RuntimeError as error:
        print(f"test_services: {error}", file=sys.stderr)
        results["setup"] = 1
    finally:
        ignore_signals()
        services.stop()

    print()
    for name, code in results.items():
        print(f"{name}: {'passed' if code == 0 else f'FAILED (exit {code})'}")
    return next((code for code in results.values() if code != 0), 0)


if __name__ == "__main__":
    sys.exit(main())
