"""Where a webhook may send (SSRF): only public addresses, unless the application allows
private ones. The host is resolved at delivery time and every address it resolves to is
checked; the request then goes to the checked address itself (never resolved again), so a DNS
answer that changes between the check and the connection cannot point it elsewhere."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

SCHEMES = {"http": 80, "https": 443}
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(Exception):
    """A URL a webhook may not call; the message says why, for the builder."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written (for the Host header and TLS), without brackets
    port: int
    path: str  # path and query, at least "/"
    address: str  # the checked IP address to connect to

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == SCHEMES[self.scheme] else f"{host}:{self.port}"


def private_reason(address: Address) -> str | None:
    """Why an address is not a public one (None: it is)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return private_reason(address.ipv4_mapped)
    for test, what in ((address.is_loopback, "loopback"), (address.is_private, "private"),
                       (address.is_link_local, "link-local"),
                       (address.is_multicast, "multicast"), (address.is_reserved, "reserved"),
                       (address.is_unspecified, "unspecified")):
        if test:
            return what
    if not address.is_global:  # e.g. 100.64.0.0/10, shared by carriers' NAT
        return "not public"
    return None


def parse(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path); TargetRefused for a URL that is not http(s) with a host."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise TargetRefused(f"Not a valid URL: {error}.") from error
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise TargetRefused("A webhook URL starts with http:// or https://.")
    if not parts.hostname:
        raise TargetRefused("A webhook URL names a host.")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("A webhook URL carries no user name or password: check the "
                            "webhook-signature header instead.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, parts.hostname, port or SCHEMES[scheme], path


def literal_problem(url: str, allow_private: bool) -> str | None:
    """What is wrong with a URL as written (at save time; no DNS lookup): not http(s), or a
    private host named literally (an IP address, localhost) when those are not allowed."""
    try:
        _, host, _, _ = parse(url)
    except TargetRefused as refused:
        return str(refused)
    if allow_private:
        return None
    if host == "localhost" or host.endswith(".localhost"):
        return f"{host} is a loopback address, this server: {ALLOW_HINT}"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None  # a name: checked when it is resolved, at delivery
    reason = private_reason(address)
    return f"{host} is a {reason} address: {ALLOW_HINT}" if reason else None


ALLOW_HINT = ("webhooks may call only public addresses, unless the application allows "
              "private targets (its webhook private targets setting).")


def resolve(url: str, allow_private: bool) -> Target:
    """The target to connect to; TargetRefused when the URL is malformed, its host does not
    resolve, or (unless allowed) any address it resolves to is not public."""
    scheme, host, port, path = parse(url)
    if not allow_private and (problem := literal_problem(url, allow_private)) is not None:
        raise TargetRefused(problem)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise TargetRefused(f"{host} does not resolve ({error}).") from error
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses:
        raise TargetRefused(f"{host} does not resolve.")
    if not allow_private:
        for address in addresses:
            reason = private_reason(address)
            if reason:
                raise TargetRefused(f"{host} resolves to {address}, a {reason} address: "
                                    f"{ALLOW_HINT}")
    return Target(scheme, host, port, path, str(addresses[0]))
