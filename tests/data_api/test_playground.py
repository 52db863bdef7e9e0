"""The playground: GraphiQL from Mortar's own static files (with their SRI hashes), and what a
browser gets when an application's playground is off. The browser itself: tests/browser/."""

import base64
import hashlib
import html
import importlib.util
import io
import json
import os
import re
import sys
import tarfile
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.templatetags.static import static
from django.test import RequestFactory
from whitenoise.middleware import WhiteNoiseMiddleware

from apps.data_api.playground import ASSETS
from models_registry.models import Application, DataModel

from .conftest import Api

VENDOR_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "vendor_graphiql.py"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # Chromium's


def sha256_sri(data: bytes) -> str:
    return f"sha256-{base64.b64encode(hashlib.sha256(data).digest()).decode()}"


def visit(slug: str = "demo", **params):
    return Api(slug).client.get(f"/api/{slug}/graphql", params, HTTP_ACCEPT=BROWSER)


def test_the_playground_loads_every_file_from_this_server_with_its_integrity(demo):
    Application.objects.filter(pk=demo.pk).update(playground_enabled=True)
    response = visit()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "Accept" in response["Vary"]
    page = response.content.decode()
    loaded = re.findall(r'<(?:script src|link href)="([^"]+)"(?: integrity="([^"]*)")?', page)
    assert loaded == [
        *((static(a.static_path), a.integrity) for a in ASSETS if a.is_style),
        *((static(a.static_path), a.integrity) for a in ASSETS if not a.is_style),
        (static("graphene_django/graphiql.js"), ""),
    ]
    assert "https://" not in page


@pytest.mark.parametrize("asset", ASSETS, ids=lambda asset: asset.static_path)
def test_the_vendored_files_are_the_ones_the_integrity_attributes_allow(asset):
    found = finders.find(asset.static_path)
    assert found, (f"{asset.static_path} is missing: run scripts/vendor_graphiql.py "
                   "(graphene-django's page may have moved to other versions)")
    with open(found, "rb") as file:
        assert sha256_sri(file.read()) == asset.integrity


def test_collectstatic_and_whitenoise_serve_them_as_in_production(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    settings.DEBUG = False
    call_command("collectstatic", "--noinput", stdout=io.StringIO())
    whitenoise = WhiteNoiseMiddleware(lambda request: pytest.fail("not a static file"))
    for asset in ASSETS:
        response = whitenoise(RequestFactory().get(static(asset.static_path)))
        assert response.status_code == 200, asset.static_path
        assert sha256_sri(b"".join(response.streaming_content)) == asset.integrity
        response.close()


def test_with_the_playground_off_a_browser_learns_how_to_switch_it_on(demo):
    response = visit()
    # the same verdict a JSON client gets for a GET without a query, in HTML
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "Accept" in response["Vary"]
    page = response.content.decode()
    assert f'href="/admin/models_registry/application/{demo.pk}/change/"' in page
    text = html.unescape(page)
    assert "The playground is off for Demo" in text
    assert "<strong>Playground enabled</strong>" in text
    assert '<code>"playground": true</code>' in text
    # the first model by name, its first property, at this server's URL
    assert ("curl -s http://localhost/api/demo/graphql -H 'Content-Type: application/json' \\\n"
            """  -d '{"query": "{ allArtist(limit: 1) { totalCount results { id name } } }"}'"""
            ) in text
    assert "Introspection is off" not in page


def test_the_example_query_answers_as_shown(demo):
    example = "{ allArtist(limit: 1) { totalCount results { id name } } }"
    assert example in html.unescape(visit().content.decode())
    body = Api()(example)
    assert body["data"]["allArtist"]["totalCount"] > 0, body


def test_with_introspection_off_the_page_names_no_model(demo):
    Application.objects.filter(pk=demo.pk).update(introspection_enabled=False)
    page = visit().content.decode()
    assert "Introspection is off for this application too" in page
    assert "{ __typename }" in page
    names = {m.name for m in DataModel.objects.filter(application=demo)}
    assert names and not any(name in page for name in names)
    assert not re.search(r"\ball(?!&lt;Model&gt;)\w", page)
    assert Api()("{ __typename }") == {"data": {"__typename": "Query"}}  # the example works


def test_other_clients_keep_the_json_answer(demo):
    api = Api()
    response = api.client.get(api.url, HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # a link to a query's answer, opened in a browser, still gets the answer
    response = visit(query="{ allTask(limit: 1) { totalCount } }")
    assert response.status_code == 200
    assert response.json() == {"data": {"allTask": {"totalCount": 20}}}


FAKE_NPM = """#!{python}
import json, os, pathlib, shutil, sys
# `npm view SPEC dist.integrity --json` and `npm pack SPEC --json --pack-destination DIR`,
# answered from the tarballs and integrities the test prepared
registry = json.loads(pathlib.Path(os.environ["FAKE_REGISTRY"]).read_text())
command, spec = sys.argv[1], sys.argv[2]
if command == "view":
    print(json.dumps(registry[spec]["integrity"]))
else:
    shutil.copy(registry[spec]["tarball"], sys.argv[-1])
    print(json.dumps([{{"filename": pathlib.Path(registry[spec]["tarball"]).name}}]))
"""


@pytest.fixture
def registry(tmp_path, monkeypatch):
    """A fake `npm` on PATH serving tarballs of the vendored files; change(spec, file, data)
    alters a file in a package before it is packed; registry["spec"]["integrity"] is editable."""
    contents: dict[str, dict[str, bytes]] = {}
    for asset in ASSETS:
        with open(finders.find(asset.static_path), "rb") as file:
            contents.setdefault(f"{asset.package}@{asset.version}", {})[asset.file] = file.read()
    answers: dict[str, dict[str, str]] = {}

    def pack() -> None:
        for index, (spec, files) in enumerate(contents.items()):
            tarball = tmp_path / f"package-{index}.tgz"
            with tarfile.open(tarball, "w:gz") as archive:
                for name, data in files.items():
                    info = tarfile.TarInfo(f"package/{name}")
                    info.size = len(data)
                    archive.addfile(info, io.BytesIO(data))
            digest = base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
            answers.setdefault(spec, {}).update(tarball=str(tarball))
            answers[spec].setdefault("integrity", f"sha512-{digest}")
        (tmp_path / "registry.json").write_text(json.dumps(answers))

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "npm").write_text(FAKE_NPM.format(python=sys.executable))
    (bin_dir / "npm").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_REGISTRY", str(tmp_path / "registry.json"))
    return contents, answers, pack


def vendor_script():
    spec = importlib.util.spec_from_file_location("vendor_graphiql", VENDOR_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_vendor_script_writes_the_checked_files(registry, tmp_path):
    _, _, pack = registry
    pack()
    written = vendor_script().vendor(tmp_path / "out")
    assert len(written) == len(ASSETS)
    for asset in ASSETS:
        assert sha256_sri((tmp_path / "out" / asset.static_path).read_bytes()) == asset.integrity


def test_the_vendor_script_writes_nothing_when_a_file_is_not_what_the_page_checks(
        registry, tmp_path):
    contents, _, pack = registry
    contents["react@17.0.2"]["umd/react.production.min.js"] += b"\n// changed"
    pack()
    with pytest.raises(SystemExit) as refused:
        vendor_script().vendor(tmp_path / "out")
    assert str(refused.value).startswith("react@17.0.2/umd/react.production.min.js is sha256-")
    assert "the browser would refuse it. Nothing was written." in str(refused.value)
    assert not (tmp_path / "out").exists()


def test_the_vendor_script_writes_nothing_when_a_tarball_is_not_the_registry_s(
        registry, tmp_path):
    _, answers, pack = registry
    answers["graphql-ws@5.13.1"] = {"integrity": "sha512-AAAA"}
    pack()
    with pytest.raises(SystemExit) as refused:
        vendor_script().vendor(tmp_path / "out")
    assert "graphql-ws@5.13.1: the tarball's integrity is sha512-" in str(refused.value)
    assert "the registry says sha512-AAAA; nothing was written." in str(refused.value)
    assert not (tmp_path / "out").exists()
