"""The environment secret backend: `SECRET_<NAME>` variables.

Kestra's form is base64 (`SECRET_DB_PASSWORD=cGFzc3dvcmQ=`), which stops users from
reusing one Kubernetes secret as is. With `KESTRA_LITE_SECRET_ENCODING=plain`, values are
taken as written (`envFrom: [{prefix: SECRET_, secretRef: {name: db}}]` then just works).
In base64 mode, a value that is not base64 of UTF-8 text is taken as written too.
Names are case-insensitive (`secret('db_password')` reads SECRET_DB_PASSWORD).
"""
from __future__ import annotations

import base64
import binascii
from typing import Mapping


class EnvironmentSecrets:
    def __init__(self, values: Mapping[str, str], encoding: str = "base64"):
        self._values = {key.upper(): value for key, value in values.items()}
        self._plain = encoding == "plain"

    def names(self) -> list[str]:
        """The secret names (never their values), for the UI."""
        return sorted(self._values)

    def get(self, key: str) -> str | None:
        raw = self._values.get(key.upper())
        if raw is None or self._plain:
            return raw
        try:
            return base64.b64decode(raw, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return raw
