"""Failed logins counted per client IP and per username, in the cache (Redis in production).

A login takes its place in both counts before its password is checked and gives it back when
the password was right: a count read first and raised after the check would let parallel wrong
passwords all pass the check before any of them was counted.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

from models_registry.models import Application

_RATE = re.compile(r"(\d+)/(\d*)([smhd])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_MARGIN_SECONDS = 60  # a count outlives its window, so a give-back never finds it gone early


def allowed_failures() -> tuple[int, int]:
    """(failures, seconds) of MORTAR_LOGIN_FAILURES, such as "10/5m"."""
    found = _RATE.fullmatch(settings.MORTAR_LOGIN_FAILURES)
    if found is None:
        raise ImproperlyConfigured("MORTAR_LOGIN_FAILURES is failures/period, such as 10/5m "
                                   "(period in s, m, h or d).")
    count, multiple, unit = found.groups()
    return int(count), int(multiple or 1) * _SECONDS[unit]


def client_network(request: HttpRequest) -> str:
    """The client's IP address; for IPv6 its /64, which one client usually holds whole."""
    value = request.META.get(settings.MORTAR_CLIENT_IP_META_KEY, "")
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        raise ImproperlyConfigured(
            f"No client IP address in {settings.MORTAR_CLIENT_IP_META_KEY} ({value!r}); set "
            "MORTAR_CLIENT_IP_HEADER to where the proxy puts it (e.g. HTTP_X_REAL_IP).") from None
    prefix = 64 if address.version == 6 else 32
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


@dataclass
class Reservation:
    """The failure one login counted in advance."""

    keys: list[str]

    def give_back(self) -> None:
        """The password was right: this login is no failure."""
        for key in self.keys:
            try:
                cache.decr(key)
            except ValueError:  # gone with its window (or the cache was emptied)
                pass


def reserve_failure(request: HttpRequest, application: Application,
                    username: str) -> Reservation | None:
    """Count one failure against the client's IP and against the username, before the
    password is checked; None, counting nothing, when either has used up its failures."""
    limit, period = allowed_failures()
    window = int(time.time()) // period
    taken: list[str] = []
    for kind, value in (("ip", client_network(request)),
                        ("user", f"{application.pk}:{username.lower()}")):
        digest = hashlib.sha256(value.encode()).hexdigest()  # any text, as a safe cache key
        key = f"mortar:login-failures:{kind}:{period}:{window}:{digest}"
        cache.add(key, 0, period + _MARGIN_SECONDS)  # unless another login made it first
        taken.append(key)
        if cache.incr(key) > limit:  # INCR: atomic, so no two logins get the last place
            Reservation(taken).give_back()
            return None
    return Reservation(taken)
