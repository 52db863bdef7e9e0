"""Files for file and image properties: uploaded with multipart/form-data, attached by
reference in a mutation, read at the signed URL the API answers with.
(tests/security/test_files.py has the probes of who may upload and what is served how.)"""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.identity import server_keys
from models_registry.models import Application

PNG = Path(settings.BASE_DIR) / "fixtures" / "files" / "blue-monday.png"
SET_ART = ("mutation($input: SongInput!) { updateSong(id: 1, input: $input) "
           "{ art { name url size contentType } } }")


def upload(api, name: str, content: bytes, content_type: str, slug: str = "demo", **extra):
    return api.client.post(f"/api/{slug}/files",
                           {"file": SimpleUploadedFile(name, content, content_type)}, **extra)


def test_upload_then_attach_by_reference(api):
    response = upload(api, "cover.png", PNG.read_bytes(), "image/png")
    assert response.status_code == 201
    uploaded = response.json()
    assert uploaded["name"] == "cover.png" and uploaded["size"] == PNG.stat().st_size
    assert uploaded["contentType"] == "image/png"
    art = api.data(SET_ART, {"input": {"art": uploaded["reference"]}})["updateSong"]["art"]
    assert art["name"] == "cover.png" and art["contentType"] == "image/png"
    served = api.client.get(art["url"])
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == PNG.read_bytes()


def test_the_request_is_real_multipart(api):
    response = upload(api, "cover.png", PNG.read_bytes(), "image/png")
    assert response.request["CONTENT_TYPE"].startswith("multipart/form-data; boundary=")
    assert response.status_code == 201


@pytest.mark.parametrize("reference, message", [
    ("files/blue-monday.png", "not a file reference"),
    ("", "not a file reference"),
])
def test_anything_but_a_reference_is_refused(api, reference, message):
    error = api.error(SET_ART, {"input": {"art": reference}})
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert message in error["extensions"]["fields"]["art"][0]


def test_a_tampered_reference_is_refused(api):
    reference = upload(api, "a.png", PNG.read_bytes(), "image/png").json()["reference"]
    error = api.error(SET_ART, {"input": {"art": reference[:-2] + "xx"}})
    assert "not a file reference" in error["extensions"]["fields"]["art"][0]


def test_an_image_property_takes_images_only(api, demo):
    _, key = server_keys.create(demo, "uploads")  # may upload any file
    reference = upload(api, "notes.txt", b"hello", "text/plain",
                       HTTP_AUTHORIZATION=f"Bearer {key}").json()["reference"]
    error = api.error(SET_ART, {"input": {"art": reference}})
    assert error["extensions"]["fields"] == {"art": [
        "Not a valid image: the file is application/octet-stream, not a PNG, JPEG, GIF or "
        "WebP image; upload one of those."]}


def test_a_reference_is_good_for_its_own_application_only(api, demo):
    Application.objects.create(slug="other", name="Other")
    _, key = server_keys.create(Application.objects.get(slug="other"), "uploads")
    reference = upload(api, "a.png", PNG.read_bytes(), "image/png", slug="other",
                       HTTP_AUTHORIZATION=f"Bearer {key}").json()
    error = api.error(SET_ART, {"input": {"art": reference["reference"]}})
    assert "another application" in error["extensions"]["fields"]["art"][0]


def test_upload_errors(api, settings):
    assert api.client.get("/api/demo/files").status_code == 405
    assert api.client.post("/api/nope/files", {}).status_code == 404
    missing = api.client.post("/api/demo/files", {})
    assert missing.status_code == 400 and "field named file" in missing.json()["errors"][0][
        "message"]
    settings.MORTAR_MAX_UPLOAD_BYTES = 10
    too_big = upload(api, "a.png", PNG.read_bytes(), "image/png")
    assert too_big.status_code == 413
