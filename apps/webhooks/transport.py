"""One POST to a checked target (`targets.resolve`), with a hard deadline: a target gets
MORTAR_WEBHOOK_TIMEOUT seconds in all (connect, TLS, sending, waiting, reading), however it
trickles its answer. Redirects are not followed (a 3xx is a failed delivery), and no proxy
from the environment is used: either would send the request somewhere unchecked.

The standard library's http.client is used because it connects where it is told (the
checked address) while TLS still verifies the certificate for the host name written in the
URL; HTTP libraries resolve the name themselves."""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass

from .targets import Target

EXCERPT_CHARS = 500
READ_LIMIT = 8 * 1024  # what is read of a response body: enough for the excerpt


@dataclass
class Response:
    status: int
    excerpt: str


class DeliveryTimeout(Exception):
    pass


class _Connection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float, expired: threading.Event):
        super().__init__(target.address, target.port, timeout=timeout)
        self.target = target
        self.expired = expired

    def connect(self):
        self.sock = socket.create_connection((self.target.address, self.target.port),
                                             self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.target.scheme == "https":
            context = ssl.create_default_context()
            self.sock = context.wrap_socket(self.sock, server_hostname=self.target.host)
        if self.expired.is_set():  # the watchdog fired while connecting: nothing to cut then
            raise DeliveryTimeout("connecting took the whole time")


def post(target: Target, body: bytes, headers: dict[str, str], timeout: float) -> Response:
    """The target's answer; DeliveryTimeout past the deadline, OSError (incl. TLS errors)
    or http.client.HTTPException when it could not be had."""
    expired = threading.Event()
    connection = _Connection(target, timeout, expired)

    def cut() -> None:  # wakes a read blocked on a slow target
        expired.set()
        sock = connection.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    watchdog = threading.Timer(timeout, cut)
    watchdog.daemon = True
    watchdog.start()
    started = time.monotonic()
    try:
        connection.request("POST", target.path, body=body, headers={
            "Host": target.host_header, "Content-Type": "application/json",
            "User-Agent": "Mortar-Webhooks/1", "Connection": "close", **headers})
        answer = connection.getresponse()
        data = answer.read(READ_LIMIT)
        if expired.is_set() or time.monotonic() - started > timeout:
            raise DeliveryTimeout(f"no complete answer within {timeout:g} s")
        return Response(answer.status,
                        data.decode("utf-8", errors="replace")[:EXCERPT_CHARS])
    except (OSError, http.client.HTTPException) as error:
        # the watchdog's cut, or the socket's own timeout when it fires first
        late = expired.is_set() or isinstance(error, TimeoutError)
        if late and not isinstance(error, DeliveryTimeout):
            raise DeliveryTimeout(f"no complete answer within {timeout:g} s") from error
        raise
    finally:
        watchdog.cancel()
        connection.close()
