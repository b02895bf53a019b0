"""Secrets greenlane must send to partners (their client secrets), encrypted at rest.

Fernet (AES-128-CBC + HMAC-SHA256) with a key derived from the app's ``SECRET_KEY``
(sha256); changing the SECRET_KEY makes stored partner secrets unreadable (register again).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from flask import Flask

from greenlane.emissions.errors import InputError


def _fernet(app: Flask) -> Fernet:
    digest = hashlib.sha256(b"greenlane-pact-remote:" + str(app.config["SECRET_KEY"]).encode())
    return Fernet(base64.urlsafe_b64encode(digest.digest()))


def encrypt(app: Flask, secret: str) -> str:
    """The secret encrypted for storage."""
    return _fernet(app).encrypt(secret.encode("utf-8")).decode("ascii")


def decrypt(app: Flask, stored: str) -> str:
    """The secret back; InputError if the SECRET_KEY changed since it was stored."""
    try:
        return _fernet(app).decrypt(stored.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise InputError(
            "stored partner secret unreadable (SECRET_KEY changed?): register it again",
            field="client_secret",
        ) from None
