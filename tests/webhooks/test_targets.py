"""Which URLs a webhook may call (SSRF): http(s) only; loopback, private, link-local,
multicast, reserved and unspecified addresses refused unless the application allows private
targets, whether written literally or reached through a name; and the signing scheme."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook as StandardWebhook

from apps.webhooks import signing
from apps.webhooks.targets import TargetRefused, literal_problem, resolve

PRIVATE = ["http://127.0.0.1/x", "http://127.8.9.10:8080/x", "http://10.0.0.5/x",
           "http://172.16.3.4/x", "http://192.168.1.1/x", "http://169.254.169.254/latest",
           "http://100.64.0.1/x", "http://0.0.0.0/x", "http://224.0.0.1/x", "http://[::1]/x",
           "http://[::ffff:127.0.0.1]/x", "http://[::ffff:10.0.0.1]/x", "http://[fe80::1]/x",
           "http://[fc00::1]/x", "http://[::]/x", "https://localhost/x",
           "http://api.localhost:9/x"]


@pytest.mark.parametrize("url", PRIVATE)
def test_private_hosts_written_in_the_url_are_refused_at_save(url):
    problem = literal_problem(url, allow_private=False)
    assert problem is not None and "private targets" in problem
    assert literal_problem(url, allow_private=True) is None


@pytest.mark.parametrize("url", PRIVATE)
def test_private_addresses_are_refused_at_delivery(url):
    with pytest.raises(TargetRefused, match="address"):
        resolve(url, allow_private=False)


@pytest.fixture
def dns(monkeypatch):
    """Names under .test answer what the test says (the machine has no DNS of its own)."""
    answers: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port)) for a in answers[host]]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


def test_a_name_that_resolves_to_loopback_is_refused_and_allowed_when_the_app_says_so(dns):
    dns["hooks.example.test"] = ["127.0.0.1"]
    assert literal_problem("http://hooks.example.test/", allow_private=False) is None
    with pytest.raises(TargetRefused, match=r"resolves to 127.0.0.1, a loopback address"):
        resolve("http://hooks.example.test:8080/hook", allow_private=False)
    target = resolve("http://hooks.example.test:8080/hook?a=1", allow_private=True)
    assert (target.address, target.port, target.path, target.host_header) == (
        "127.0.0.1", 8080, "/hook?a=1", "hooks.example.test:8080")


def test_a_name_with_any_private_address_among_public_ones_is_refused(dns):
    dns["mixed.example.test"] = ["93.184.215.14", "::ffff:10.0.0.1"]
    with pytest.raises(TargetRefused, match=r"::ffff:a00:1, a private address"):
        resolve("https://mixed.example.test/", allow_private=False)
    dns["public.example.test"] = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    # the address connected to is the one checked: not looked up again
    assert resolve("https://public.example.test/", allow_private=False).address == \
        "93.184.215.14"


def test_the_localhost_name_is_refused_without_asking_dns():
    with pytest.raises(TargetRefused, match="loopback"):
        resolve("http://localhost:8080/hook", allow_private=False)


def test_public_addresses_pass():
    target = resolve("https://93.184.215.14/x", allow_private=False)
    assert (target.address, target.port, target.host_header) == ("93.184.215.14", 443,
                                                                 "93.184.215.14")
    assert literal_problem("https://hooks.example.com/in", allow_private=False) is None


@pytest.mark.parametrize("url, message", [
    ("ftp://example.com/x", "http:// or https://"), ("file:///etc/passwd", "http:// or https://"),
    ("javascript:alert(1)", "http:// or https://"), ("http:///x", "names a host"),
    ("https://user:pw@example.com/", "no user name or password"),
    ("http://example.com:99999/", "Not a valid URL")])
def test_urls_that_are_not_http_are_refused(url, message):
    assert message in literal_problem(url, allow_private=True)
    with pytest.raises(TargetRefused, match=message):
        resolve(url, allow_private=True)


def test_signatures_follow_standard_webhooks():
    secret = signing.new_secret()
    assert secret.startswith("whsec_") and len(signing.secret_key(secret)) == 32
    body = b'{"type":"record.created"}'
    now = int(datetime.now(UTC).timestamp())
    headers = signing.headers(secret, "evt_1_7", now, body)
    assert StandardWebhook(secret).verify(body, headers) == {"type": "record.created"}
    with pytest.raises(Exception, match="No matching signature"):
        StandardWebhook(signing.new_secret()).verify(body, headers)


@pytest.mark.parametrize("secret", ["abc", "whsec_%%%", "whsec_c2hvcnQ="])
def test_malformed_secrets_are_refused(secret):
    with pytest.raises(ValueError):
        signing.secret_key(secret)
