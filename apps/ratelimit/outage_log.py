"""Warnings that a backend (Redis) cannot be reached, at most once a minute per process and
place: an outage must not flood the log. Two threads racing may both log; that is harmless."""

from __future__ import annotations

import logging
import math
import time


class OutageLog:
    def __init__(self, logger: logging.Logger, every_seconds: float = 60.0):
        self.logger = logger
        self.every_seconds = every_seconds
        self.last = -math.inf  # monotonic time of the last warning

    def warning(self, message: str, *args) -> None:
        now = time.monotonic()
        if now - self.last >= self.every_seconds:
            self.last = now
            self.logger.warning(message, *args)
