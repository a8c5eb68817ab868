"""Encryption at rest of SECRET inputs and outputs (AES-256-GCM, key from the configuration)."""
from __future__ import annotations

import base64
import hashlib
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class EncryptionUnavailable(Exception):
    pass


class Encryption:
    def __init__(self, key: str | None):
        self._aead = AESGCM(hashlib.sha256(key.encode()).digest()) if key else None

    def encrypt(self, plaintext: str) -> str:
        if self._aead is None:
            raise EncryptionUnavailable(
                "SECRET inputs need an encryption key: set KESTRA_LITE_ENCRYPTION_KEY")
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), None)
        return base64.b64encode(nonce + sealed).decode()

    def decrypt(self, token: str) -> str:
        if self._aead is None:
            raise EncryptionUnavailable(
                "SECRET inputs need an encryption key: set KESTRA_LITE_ENCRYPTION_KEY")
        raw = base64.b64decode(token)
        return self._aead.decrypt(raw[:12], raw[12:], None).decode()
