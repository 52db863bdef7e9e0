"""File probes, as an attacker sends them: an upload needs a permission that can use the file
(issue 20, point 15), its type is read from its bytes, and a stored file is served only at the
signed, expiring URL the API hands out, as a download unless it is an image a browser only
draws, never able to run script on Mortar's origin, in the development and the production
shape alike (point 16).

The demo is granted for them:

| model  | read   | update          | files                         |
| ------ | ------ | --------------- | ----------------------------- |
| Song   | anyone | logged in       | art (image)                   |
| Artist | anyone | role "admin"    | score (file, added here)      |

The member is Eve (WebUser 5: no roles): she may set images only.
"""

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
from html import unescape
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse

from apps.identity import server_keys
from apps.identity.models import Permission
from models_registry import changes
from models_registry.files import UrlSigner
from models_registry.models import DataModel

from ..data_api.conftest import demo, demo_open_to_anyone  # noqa: F401  (the fixtures)
from ..identity.conftest import caller, profile  # noqa: F401  (the fixtures)

PNG = (Path(settings.BASE_DIR) / "fixtures" / "files" / "blue-monday.png").read_bytes()
HTML = b"<html><script>fetch('/admin/', {credentials: 'include'})</script></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)"/>'
POLYGLOT = b"GIF89a<script>alert(document.cookie)</script>"  # a GIF header, then HTML

GRANTS = [
    ("Song", "read", "public", []),
    ("Song", "update", "authenticated", []),
    ("Artist", "read", "public", []),
    ("Artist", "update", "roles", ["admin"]),
]


@pytest.fixture
def tokens(profile, demo, caller):  # noqa: F811
    Permission.objects.filter(data_model__application=demo).delete()
    for model, operation, access, roles in GRANTS:
        Permission.objects.create(data_model=DataModel.objects.get(application=demo, name=model),
                                  operation=operation, access=access, roles=roles)
    changes.add_property(DataModel.objects.get(application=demo, name="Artist"), "score", "file")
    _, key = server_keys.create(demo, "probes")
    return {"anonymous": None, "server": key, "forged": "eyJhbGciOiJub25lIn0.e30.",
            "member": caller.login(profile, "eve@example.com", "eve-demo-5")["jwtToken"]}


def upload(caller, token, name: str, content: bytes, declared: str):  # noqa: F811
    extra = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return caller.client.post("/api/demo/files",
                              {"file": SimpleUploadedFile(name, content, declared)}, **extra)


def stored_files() -> list[Path]:
    return sorted(p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file())


def refusal(status: int, code: str, message: str) -> tuple:
    return status, {"errors": [{"message": message, "extensions": {"code": code}}]}


def stored(name: str, content: bytes, content_type: str) -> tuple:
    return 201, {"name": name, "size": len(content), "contentType": content_type}


LOG_IN = refusal(401, "UNAUTHENTICATED", "Anonymous callers may set no file or image property "
                 "of this application, so they may not upload files: send a server key "
                 "(Authorization: Bearer mk_…) from server-side code or the JWT of a login that "
                 "may set one, or grant create or update on a model with one in the admin under "
                 "Permissions.")
IMAGES_ONLY = refusal(403, "FORBIDDEN", "This file is application/octet-stream; the properties "
                      "you may set take PNG, JPEG, GIF or WebP images only. Nothing was stored.")

UPLOADS = [
    ("anonymous, an image", "anonymous", "cover.png", PNG, "image/png", LOG_IN),
    ("anonymous, HTML declared an image", "anonymous", "x.png", HTML, "image/png", LOG_IN),
    ("a forged token", "forged", "cover.png", PNG, "image/png",
     refusal(401, "UNAUTHENTICATED",
             "The token is invalid or expired; log in again or use refreshToken.")),
    ("member, HTML declared an image", "member", "x.png", HTML, "image/png", IMAGES_ONLY),
    ("member, SVG", "member", "logo.svg", SVG, "image/svg+xml", IMAGES_ONLY),
    # the bytes decide, not the declared type, either way
    ("member, an image declared HTML", "member", "cover.png", PNG, "text/html",
     stored("cover.png", PNG, "image/png")),
    ("server key, HTML declared an image", "server", "x.png", HTML, "image/png",
     stored("x.png", HTML, "application/octet-stream")),
    ("server key, a GIF header before HTML", "server", "x.gif", POLYGLOT, "text/html",
     stored("x.gif", POLYGLOT, "image/gif")),
]


@pytest.mark.parametrize("probe, who, name, content, declared, expected", UPLOADS,
                         ids=[u[0] for u in UPLOADS])
def test_upload(caller, tokens, probe, who, name, content, declared, expected):  # noqa: F811
    before = stored_files()
    response = upload(caller, tokens[who], name, content, declared)
    body = response.json()
    body.pop("reference", None)
    assert (response.status_code, body) == expected
    if response.status_code != 201:  # a refusal stores nothing
        assert stored_files() == before
    if response.status_code == 401:
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_user_who_may_set_no_file_property_may_not_upload(caller, tokens, demo):  # noqa: F811
    Permission.objects.filter(data_model__name="Song", operation="update").delete()
    before = stored_files()
    response = upload(caller, tokens["member"], "cover.png", PNG, "image/png")
    assert (response.status_code, response.json()) == refusal(
        403, "FORBIDDEN", "You may set no file or image property of this application, so you "
                          "may not upload files to it.")
    assert stored_files() == before


def test_a_non_image_is_refused_for_an_image_property(caller, tokens):  # noqa: F811
    reference = upload(caller, tokens["server"], "x.png", HTML, "image/png").json()["reference"]
    body = caller.post('mutation($art: String) { updateSong(id: 1, input: { art: $art }) '
                       "{ art { url } } }", {"art": reference}, token=tokens["server"]).json()
    assert body["data"] == {"updateSong": None}
    assert body["errors"][0]["extensions"] == {"code": "VALIDATION_ERROR", "fields": {"art": [
        "Not a valid image: the file is application/octet-stream, not a PNG, JPEG, GIF or WebP "
        "image; upload one of those."]}}


# -- serving ---------------------------------------------------------------------------------

SET_SCORE = ("mutation($file: String) { updateArtist(id: 1, input: { score: $file }) "
             "{ score { url contentType } } }")
SANDBOX = "sandbox; default-src 'none'"
SERVED = [
    # (name, bytes, declared at upload, Content-Type served, Content-Disposition)
    ("cover.png", PNG, "text/html", "image/png", 'inline; filename="cover.png"'),
    ("page.html", HTML, "image/png", "application/octet-stream",
     'attachment; filename="page.html"'),
    ("logo.svg", SVG, "image/svg+xml", "application/octet-stream",
     'attachment; filename="logo.svg"'),
    # drawn as an image (nosniff: never read as HTML), and the sandbox forbids script anyway
    ("x.gif", POLYGLOT, "text/html", "image/gif", 'inline; filename="x.gif"'),
]


def file_url(caller, tokens, name: str, content: bytes, declared: str) -> str:  # noqa: F811
    reference = upload(caller, tokens["server"], name, content, declared).json()["reference"]
    return caller.data(SET_SCORE, {"file": reference},
                       token=tokens["server"])["updateArtist"]["score"]["url"]


@pytest.mark.parametrize("name, content, declared, content_type, disposition", SERVED,
                         ids=[s[0] for s in SERVED])
def test_the_url_the_api_answers_with_serves_the_file_safely(
        caller, tokens, name, content, declared, content_type, disposition):  # noqa: F811
    url = file_url(caller, tokens, name, content, declared)
    assert re.fullmatch(r"/api/demo/files/[0-9a-f]{32}/" + re.escape(name)
                        + r"\?expires=\d+&signature=[0-9a-f]{64}", url), url
    response = caller.client.get(url)  # anonymous: the URL is the capability
    assert response.status_code == 200
    assert (response["Content-Type"], response["Content-Disposition"]) == (content_type,
                                                                           disposition)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == SANDBOX
    assert b"".join(response.streaming_content) == content


NO_FILE = refusal(404, "NOT_FOUND", "This file link is unknown or has expired; read the record "
                                    "again for a fresh url.")


def _key(url: str) -> str:
    return urlsplit(url).path.removeprefix("/api/demo/")


def changed_signature(url: str) -> str:
    return url[:-1] + ("0" if url[-1] != "0" else "1")


# (probe, the link asked for, made from a good link to the file and one to another file)
BAD_LINKS = [
    ("a changed signature", lambda url, other: changed_signature(url)),
    ("no signature", lambda url, other: url.split("&signature=")[0]),
    ("a later expiry", lambda url, other: re.sub(r"expires=(\d+)",
                                                 lambda m: f"expires={int(m[1]) + 3600}", url)),
    ("an expired link", lambda url, other: UrlSigner("demo", int(time.time()) - 1).url(
        {"key": _key(url)})),
    ("signed for another application", lambda url, other: "/api/demo/" + UrlSigner.now(
        "other").url({"key": _key(url)}).removeprefix("/api/other/")),
    ("another application's path", lambda url, other: url.replace("/api/demo/", "/api/other/")),
    ("the signature of another file", lambda url, other: url.replace(_key(url), _key(other))),
    # even a signed path out of the storage is not opened
    ("a signed path out of the storage", lambda url, other: UrlSigner.now("demo").url(
        {"key": "files/../../../../../../etc/passwd"})),
]


@pytest.mark.parametrize("probe, change", BAD_LINKS, ids=[b[0] for b in BAD_LINKS])
def test_a_bad_or_expired_link_is_404(caller, tokens, probe, change):  # noqa: F811
    url = file_url(caller, tokens, "page.html", HTML, "text/html")
    other = caller.data("{ oneSong(where: { id: { eq: 2 } }) { art { url } } }")["oneSong"][
        "art"]["url"]
    assert caller.client.get(other).status_code == 200
    response = caller.client.get(change(url, other))
    assert (response.status_code, response.json()) == NO_FILE


def test_files_are_not_served_from_media(caller, tokens):  # noqa: F811
    """make run served MEDIA_ROOT inline at /media/, from the admin's own origin."""
    url = file_url(caller, tokens, "page.html", HTML, "text/html")
    assert caller.client.get("/" + settings.MEDIA_URL.strip("/") + "/" + _key(url)
                             ).status_code == 404


def test_the_admin_links_to_the_signed_url(admin_client, caller, tokens):  # noqa: F811
    file_url(caller, tokens, "page.html", HTML, "text/html")
    artist = DataModel.objects.get(application__slug="demo", name="Artist")
    page = admin_client.get(reverse("admin:models_registry_datamodel_record_list",
                                    args=[artist.pk])).content.decode()
    links = re.findall(r'href="(/api/demo/files/[^"]+)">page\.html<', page)
    assert len(links) == 1
    response = admin_client.get(unescape(links[0]))
    assert response.status_code == 200 and response["Content-Disposition"].startswith(
        "attachment")


# -- the production shape ------------------------------------------------------------------


def database_url() -> str:
    """The URL of this test's database, for a server process of its own."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return (f"postgres://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}@"
            f"{quote(db['HOST'] or '')}:{db['PORT'] or 5432}/{db['NAME']}")


@pytest.fixture
def production_server(demo_open_to_anyone, settings):  # noqa: F811
    """gunicorn with the production settings (MORTAR_DEBUG unset, behind a proxy that ends TLS)
    on this test's database and media, the demo opened to anyone (anyone uploads). Its socket
    is made here and handed over, so requests wait in the backlog until a worker takes them:
    no polling for the boot."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    env = {name: value for name, value in os.environ.items() if name != "MORTAR_DEBUG"}
    env.update(DATABASE_URL=database_url(), MORTAR_MEDIA_ROOT=str(settings.MEDIA_ROOT),
               MORTAR_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO", ALLOWED_HOSTS="127.0.0.1",
               MORTAR_RATELIMIT_KEY_PREFIX=settings.MORTAR_RATELIMIT_KEY_PREFIX,
               MORTAR_SECRET_KEY=settings.SECRET_KEY)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "mortar.wsgi", "-c", "python:mortar.gunicorn_config",
         "--bind", f"fd://{listener.fileno()}", "--workers", "2", "--no-control-socket"],
        env=env, cwd=settings.BASE_DIR, pass_fds=[listener.fileno()])
    yield listener.getsockname()[1]
    server.terminate()
    server.wait(timeout=30)
    listener.close()


def fetch(port: int, method: str, path: str, body: bytes | None = None,
          content_type: str | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"X-Forwarded-Proto": "https"}  # as the TLS proxy in front of it says
    if content_type:
        headers["Content-Type"] = content_type
    client.request(method, path, body, headers)
    response = client.getresponse()
    answer = response.status, response.headers, response.read()
    client.close()
    return answer


def test_a_file_url_end_to_end_under_gunicorn_in_production(production_server, demo):  # noqa: F811
    port = production_server
    status, _, body = fetch(port, "POST", "/api/demo/files", encode_multipart(
        BOUNDARY, {"file": SimpleUploadedFile("cover.png", PNG, "image/png")}), MULTIPART_CONTENT)
    assert status == 201, body
    reference = json.loads(body)["reference"]
    query = {"query": "mutation($art: String) { updateSong(id: 1, input: { art: $art }) "
                      "{ art { name url contentType } } }", "variables": {"art": reference}}
    status, _, body = fetch(port, "POST", "/api/demo/graphql", json.dumps(query).encode(),
                            "application/json")
    assert status == 200, body
    art = json.loads(body)["data"]["updateSong"]["art"]
    assert art["name"] == "cover.png" and art["contentType"] == "image/png"

    status, headers, content = fetch(port, "GET", art["url"])
    assert status == 200
    assert headers["Content-Type"] == "image/png"
    assert headers["Content-Disposition"] == 'inline; filename="cover.png"'
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] == SANDBOX
    assert content == PNG

    status, _, body = fetch(port, "GET", changed_signature(art["url"]))
    assert (status, json.loads(body)) == NO_FILE
