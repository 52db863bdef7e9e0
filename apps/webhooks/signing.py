"""Standard Webhooks signing (www.standardwebhooks.com): secrets `whsec_<base64 key>`, and
`webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

PREFIX = "whsec_"
KEY_BYTES = 32  # the spec asks for 24 to 64


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The key a secret stands for; ValueError when it is not whsec_ + base64 of 24-64 bytes."""
    if not secret.startswith(PREFIX):
        raise ValueError(f"A secret starts with {PREFIX}.")
    try:
        key = base64.b64decode(secret[len(PREFIX):], validate=True)
    except binascii.Error as error:
        raise ValueError(f"A secret is {PREFIX} followed by base64.") from error
    if not 24 <= len(key) <= 64:
        raise ValueError("A secret's key is 24 to 64 bytes long.")
    return key


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(secret, message_id, timestamp, body)}
