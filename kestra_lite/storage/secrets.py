"""The environment secret backend: SECRET_<KEY> variables (base64, Kestra's form)."""
from __future__ import annotations

import base64
import binascii
from typing import Mapping


class EnvironmentSecrets:
    def __init__(self, values: Mapping[str, str]):
        self._values = {key.upper(): value for key, value in values.items()}

    def get(self, key: str) -> str | None:
        raw = self._values.get(key.upper())
        if raw is None:
            return None
        try:
            return base64.b64decode(raw, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return raw
