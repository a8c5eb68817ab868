"""Account use cases: users (first-run setup, shell creation, login), personal API tokens,
bookmarks and announcements. Passwords are hashed with scrypt (werkzeug); API tokens are
random and stored as SHA-256 hashes, shown once at creation."""
from __future__ import annotations

import hashlib
import re
import secrets
from functools import lru_cache
from datetime import datetime

import peewee
from werkzeug.security import check_password_hash, generate_password_hash

from kestra_lite.errors import Conflict, InvalidInput, NotFound
from kestra_lite.model.state import utcnow
from kestra_lite.store import accounts as store
from kestra_lite.store.db import write_transaction

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
MIN_PASSWORD = 8
ANNOUNCEMENT_TYPES = ("INFO", "WARNING", "ERROR")
TOKEN_PREFIX = "kl_"


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to check when the email is unknown, so both cases take as long (made on first
    use, not at import: scrypt is slow on purpose)."""
    return generate_password_hash("not a password", method="scrypt")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def _check_credentials(email: str, password: str) -> str:
    email = (email or "").strip().lower()
    if not EMAIL.match(email):
        raise InvalidInput(f"'{email}' is not a valid email address")
    if len(password or "") < MIN_PASSWORD:
        raise InvalidInput(f"the password must have at least {MIN_PASSWORD} characters")
    return email


def create_user(email: str, password: str, *, superadmin: bool = False) -> store.User:
    """Raises InvalidInput on a bad email/password, Conflict when the email is taken."""
    email = _check_credentials(email, password)
    try:
        with write_transaction():
            return store.create_user(email, hash_password(password), superadmin=superadmin,
                                     now=utcnow())
    except peewee.IntegrityError:
        raise Conflict(f"a user with the email '{email}' already exists")


def create_first_user(email: str, password: str) -> store.User:
    """The first-run setup: a super admin, only while no user exists."""
    email = _check_credentials(email, password)
    with write_transaction():
        if store.count_users():
            raise Conflict("the instance is already set up; log in instead")
        return store.create_user(email, hash_password(password), superadmin=True, now=utcnow())


def needs_setup() -> bool:
    return store.count_users() == 0


def authenticate(email: str, password: str) -> store.User | None:
    user = store.find_user((email or "").strip().lower())
    if user is None:
        check_password_hash(_dummy_hash(), password or "")
        return None
    return user if check_password_hash(user.password_hash, password or "") else None


# -- API tokens --------------------------------------------------------------------------
def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user_id: int, name: str) -> tuple[store.ApiToken, str]:
    """A new personal API token: (its record, the token itself, shown only now)."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("the token name is required (at most 100 characters)")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with write_transaction():
        record = store.add_token(user_id, name, _token_hash(token), token[:8], utcnow())
    return record, token


def user_of_token(token: str) -> store.User | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    return store.user_of_token(_token_hash(token), utcnow())


def delete_token(user_id: int, token_id: int) -> None:
    if not store.delete_token(user_id, token_id):
        raise NotFound("no such API token")


# -- bookmarks ---------------------------------------------------------------------------
def _bookmark_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("the bookmark name is required (at most 100 characters)")
    return name


def add_bookmark(user_id: int, tenant: str, name: str, url: str) -> store.Bookmark:
    """Only URLs of this instance's UI (a path starting with /ui/) are kept."""
    url = (url or "").strip()
    if not url.startswith("/ui/") or len(url) > 2000:
        raise InvalidInput("a bookmark must point at a page of this UI (/ui/...)")
    with write_transaction():
        return store.add_bookmark(user_id, tenant, _bookmark_name(name), url, utcnow())


def rename_bookmark(user_id: int, bookmark_id: int, name: str) -> None:
    with write_transaction():
        if not store.rename_bookmark(user_id, bookmark_id, _bookmark_name(name)):
            raise NotFound("no such bookmark")


def delete_bookmark(user_id: int, bookmark_id: int) -> None:
    with write_transaction():
        if not store.delete_bookmark(user_id, bookmark_id):
            raise NotFound("no such bookmark")


# -- announcements -----------------------------------------------------------------------
def save_announcement(announcement_id: int | None, *, message: str, type: str,
                      start_date: datetime | None, end_date: datetime | None) -> int:
    message = (message or "").strip()
    if not message:
        raise InvalidInput("message: an announcement needs a message")
    if len(message) > 2000:
        raise InvalidInput("message: at most 2000 characters")
    if type not in ANNOUNCEMENT_TYPES:
        raise InvalidInput(f"type: expected one of {', '.join(ANNOUNCEMENT_TYPES)}")
    if start_date is None or end_date is None:
        raise InvalidInput("startDate and endDate are required")
    if end_date <= start_date:
        raise InvalidInput("endDate: must be after startDate")
    with write_transaction():
        if announcement_id is not None and store.get_announcement(announcement_id) is None:
            raise NotFound("no such announcement")
        return store.save_announcement(announcement_id, message=message, type=type,
                                       start_date=start_date, end_date=end_date)


def delete_announcement(announcement_id: int) -> None:
    with write_transaction():
        if not store.delete_announcement(announcement_id):
            raise NotFound("no such announcement")


# -- the user's own account --------------------------------------------------------------
def change_password(user_id: int, current: str, new: str) -> None:
    """Raises InvalidInput ("current: ..." / "new: ...") when the current password is wrong
    or the new one too short; nothing changes then."""
    user = store.get_user(user_id)
    if user is None:
        raise NotFound("no such user")
    if not check_password_hash(user.password_hash, current or ""):
        raise InvalidInput("current: the current password is wrong")
    if len(new or "") < MIN_PASSWORD:
        raise InvalidInput(f"new: the password must have at least {MIN_PASSWORD} characters")
    with write_transaction():
        store.set_password_hash(user_id, hash_password(new))


def mark_news_seen(user_id: int) -> None:
    """The user opened the News panel: every item published so far counts as read."""
    with write_transaction():
        store.set_news_seen(user_id, utcnow())
