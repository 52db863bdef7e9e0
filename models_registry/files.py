"""Files of file and image properties: stored with Django's storage, described by a small dict,
reached through signed URLs that Mortar answers itself.

A stored file is `{"name", "key", "size", "contentType"}`: `name` is what the uploader called it,
`key` its path in the storage (under `files/<uuid>/`), so two uploads never overwrite each other;
`contentType` is read from the file's first bytes, never taken from whoever sent it.

Its URL is `/api/<app>/<key>?expires=<unix time>&signature=<hex>`: an HMAC-SHA256 of the key
under a key of the application and the expiry, so that it is computed where the data API builds
its JSON (inside the database, `UrlSigner.key` bound as a parameter) and here (the admin) alike.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
import uuid
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.utils.crypto import salted_hmac
from django.utils.text import get_valid_filename

# The images a browser only draws, never runs: served inline, taken by image properties.
# SVG is no such image (it can carry script).
IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}

# How the common files start; anything else is application/octet-stream.
SIGNATURES = [
    (re.compile(rb"\x89PNG\r\n\x1a\n"), "image/png"),
    (re.compile(rb"\xff\xd8\xff"), "image/jpeg"),
    (re.compile(rb"GIF8[79]a"), "image/gif"),
    (re.compile(rb"RIFF....WEBP", re.DOTALL), "image/webp"),
    (re.compile(rb"%PDF-"), "application/pdf"),
]
HEAD_BYTES = 16


def detect_content_type(head: bytes) -> str:
    """The content type of a file that starts with `head` (its first HEAD_BYTES bytes)."""
    for signature, content_type in SIGNATURES:
        if signature.match(head):
            return content_type
    return "application/octet-stream"


def read_content_type(content: IO[bytes]) -> str:
    """The content type of an open file, read from its first bytes (its position kept)."""
    position = content.tell()
    head = content.read(HEAD_BYTES)
    content.seek(position)
    return detect_content_type(head)


def store_file(name: str, content: IO[bytes]) -> dict:
    safe_name = get_valid_filename(name.rsplit("/", 1)[-1]) or "file"
    content_type = read_content_type(content)
    key = default_storage.save(f"files/{uuid.uuid4().hex}/{safe_name}", File(content))
    return {
        "name": name.rsplit("/", 1)[-1],
        "key": key,
        "size": default_storage.size(key),
        "contentType": content_type,
    }


# -- signed URLs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class UrlSigner:
    """Signs the file URLs of one application, good until `expires` (Unix time)."""

    slug: str
    expires: int

    @classmethod
    def now(cls, slug: str) -> UrlSigner:
        # Every URL made within one period is the same (browsers cache the file), and good for
        # one to two periods.
        period = settings.MORTAR_FILE_URL_SECONDS
        return cls(slug, (int(time.time()) // period + 2) * period)

    @property
    def key(self) -> bytes:
        """The HMAC key: known to whoever has it for URLs of this application that expire
        at this time only, and derived from SECRET_KEY, which never leaves the process."""
        return salted_hmac(f"mortar.files.url:{self.slug}", str(self.expires),
                           algorithm="sha256").digest()

    @property
    def prefix(self) -> str:
        return f"/api/{self.slug}/"  # the data API answers its files below (apps/data_api/urls)

    @property
    def query(self) -> str:
        return f"?expires={self.expires}&signature="

    def signature(self, key: str) -> str:
        return hmac.new(self.key, key.encode(), hashlib.sha256).hexdigest()

    def url(self, stored: dict) -> str:
        return self.prefix + stored["key"] + self.query + self.signature(stored["key"])


def file_url(slug: str, stored: dict | None) -> str | None:
    return UrlSigner.now(slug).url(stored) if stored else None


def signed_in_time(slug: str, key: str, expires: str, signature: str) -> bool:
    """Whether `expires` and `signature` are those of a URL of `slug` for the stored file
    `key` that has not expired."""
    if not (expires.isascii() and expires.isdigit() and len(expires) < 16) or (
            int(expires) <= time.time()):
        return False
    expected = UrlSigner(slug, int(expires)).signature(key)
    return hmac.compare_digest(expected.encode(), signature.encode())
