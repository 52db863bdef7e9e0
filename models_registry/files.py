"""Files of file and image properties: stored with Django's storage, described by a small dict.

A stored file is `{"name", "key", "size", "contentType"}`: `name` is what the uploader called it,
`key` its path in the storage (under `files/<uuid>/`), so two uploads never overwrite each other.
"""

import mimetypes
import uuid
from typing import IO

from django.core.files.base import File
from django.core.files.storage import default_storage
from django.utils.text import get_valid_filename


def store_file(name: str, content: IO[bytes], content_type: str | None = None) -> dict:
    safe_name = get_valid_filename(name.rsplit("/", 1)[-1]) or "file"
    key = default_storage.save(f"files/{uuid.uuid4().hex}/{safe_name}", File(content))
    return {
        "name": name.rsplit("/", 1)[-1],
        "key": key,
        "size": default_storage.size(key),
        "contentType": content_type
        or mimetypes.guess_type(safe_name)[0]
        or "application/octet-stream",
    }


def file_url(stored: dict | None) -> str | None:
    return default_storage.url(stored["key"]) if stored else None
