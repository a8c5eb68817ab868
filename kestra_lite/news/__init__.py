"""News items bundled with the app (placeholder)."""


def unread_count(last_seen) -> int:
    return 0
