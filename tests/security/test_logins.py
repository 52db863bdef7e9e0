"""Login probes: parallel wrong passwords get exactly the allowed number of checks (point 9 of
the security review: the count was read before the check and raised after it, so parallel
logins all passed the check), and no transaction is open while a password is hashed (point 13:
on SQLite that held the write lock, so logins ran one at a time and writes waited)."""

import threading

from django.contrib.auth.hashers import MD5PasswordHasher
from django.db import connection, connections

from ..conftest import in_parallel
from ..data_api.conftest import Api, demo, demo_open_to_anyone  # noqa: F401  (fixtures)
from ..identity.conftest import LOGIN, Caller, caller, profile  # noqa: F401  (the fixtures)

NOT_VALID = {"data": {"login": {"isValid": False, "jwtToken": None, "refreshToken": None}}}
RATE_LIMITED = {"errors": [{
    "message": "Too many failed logins from here or for this username; wait a few minutes and "
               "try again.", "locations": [{"line": 1, "column": 68}], "path": ["login"],
    "extensions": {"code": "RATE_LIMITED"}}], "data": None}  # login answers non-null


def login(profile, password: str, username: str = "betty@example.com",  # noqa: F811
          address: str = "203.0.113.7") -> dict:
    return Caller().post(LOGIN, {"uuid": str(profile.uuid), "username": username,
                                 "password": password}, REMOTE_ADDR=address).json()


def test_parallel_wrong_passwords_get_exactly_the_allowed_checks(profile, settings):  # noqa: F811
    settings.MORTAR_LOGIN_FAILURES = "10/5m"
    answers = in_parallel(30, lambda i: login(profile, f"wrong-{i}"))
    assert answers.count(NOT_VALID) == 10
    assert answers.count(RATE_LIMITED) == 20


def test_a_right_password_is_no_failure(profile, settings):  # noqa: F811
    settings.MORTAR_LOGIN_FAILURES = "2/5m"
    for password in ("wrong", "betty-demo-1", "betty-demo-1", "wrong"):
        assert login(profile, password).get("errors") is None
    assert login(profile, "betty-demo-1") == RATE_LIMITED


def test_failures_count_per_address_and_per_username(profile, settings):  # noqa: F811
    settings.MORTAR_LOGIN_FAILURES = "2/5m"
    assert login(profile, "wrong", address="2001:db8::1") == NOT_VALID
    assert login(profile, "wrong", "nobody@example.com", address="2001:db8::2") == NOT_VALID
    # the address's two failures are used up (an IPv6 client holds its whole /64) ...
    assert login(profile, "betty-demo-1", "eve@example.com", "2001:db8::3") == RATE_LIMITED
    assert login(profile, "wrong", "eve@example.com", address="198.51.100.1") == NOT_VALID
    assert login(profile, "wrong", "eve@example.com", address="198.51.100.2") == NOT_VALID
    # ... and so are the username's, from any address
    assert login(profile, "eve-demo-5", "eve@example.com", "198.51.100.3") == RATE_LIMITED


class WaitingHasher(MD5PasswordHasher):
    """Checks a password only once another connection has written meanwhile (or 5 s passed),
    noting whether that write got through and whether a transaction was open."""

    inside = threading.Event()
    written = threading.Event()
    seen: list[tuple[bool, bool]] = []

    def verify(self, password, encoded):
        self.inside.set()
        self.seen.append((self.written.wait(timeout=5), connection.in_atomic_block))
        return super().verify(password, encoded)


def test_a_write_gets_through_while_a_login_hashes(profile, demo_open_to_anyone,  # noqa: F811
                                                    settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.WaitingHasher"]
    WaitingHasher.inside.clear()
    WaitingHasher.written.clear()
    WaitingHasher.seen = []
    answer = {}

    def log_in() -> None:
        try:
            answer.update(login(profile, "betty-demo-1"))
        finally:
            connections.close_all()

    thread = threading.Thread(target=log_in)
    thread.start()
    assert WaitingHasher.inside.wait(timeout=10)
    body = Api()('mutation { createTask(input: { name: "written during a login" }) { name } }')
    WaitingHasher.written.set()
    thread.join()
    assert body == {"data": {"createTask": {"name": "written during a login"}}}
    assert WaitingHasher.seen == [(True, False)]  # written meanwhile, no transaction open
    assert answer["data"]["login"]["isValid"] is True
