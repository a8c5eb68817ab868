"""The instance: GET /configs (Kestra's config shape, what clients and the UI read first)
and GET /me (who the credentials belong to)."""
from __future__ import annotations

import hashlib
import uuid

from flask_login import current_user

from ..runtime import runtime
from . import bp
from .serialize import respond

VERSION = "0.20.0"


@bp.get("/configs")
def configs(tenant: str):
    settings = runtime().settings
    digest = hashlib.sha256(("kestra-lite-instance:" + settings.secret_key).encode()).digest()
    return respond({
        "uuid": str(uuid.UUID(bytes=digest[:16])),
        "version": VERSION,
        "commitId": None,
        "isTaskRunEnabled": False,
        "isAnonymousUsageEnabled": False,
        "isTemplateEnabled": False,
        "isBasicAuthEnabled": True,
        "isOauthEnabled": False,
        "url": settings.public_url,
        "environment": None,
        "preview": {"initial": 100, "max": 5000},
        "systemNamespace": "system",
        "hiddenLabelsPrefixes": ["system."],
        "tenants": {"storage": False, "secret": False},
    })


@bp.get("/me")
def me(tenant: str):
    user = current_user.user
    return respond({"id": user.id, "username": user.email, "email": user.email,
                    "superAdmin": bool(user.superadmin)})
