"""Secret masking in log messages (semantics 12)."""
from __future__ import annotations


def mask(message: str, secrets: list[str]) -> str:
    """Each secret occurrence becomes stars; a run of 9+ stars starts with `**masked*`."""
    for secret in secrets:
        if secret and secret in message:
            stars = "*" * len(secret)
            if len(stars) >= 9:
                stars = "**masked*" + stars[9:]
            message = message.replace(secret, stars)
    return message
