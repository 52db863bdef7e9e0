"""gunicorn hooks for several workers: with PROMETHEUS_MULTIPROC_DIR set, every worker writes
its counters there and /metrics adds them up (prometheus-client's multiprocess mode).

Use: gunicorn mortar.wsgi -c python:mortar.gunicorn_config
"""

import os
import shutil

from prometheus_client import multiprocess


def on_starting(server):
    """Counters of an earlier run would be added in: start from an empty directory."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
