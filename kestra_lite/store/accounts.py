"""Users, their personal API tokens and bookmarks, and the instance's announcements.

Users are instance-wide (not per tenant); a bookmark remembers the tenant of its URL.
Passwords and API tokens are stored as hashes only (the services layer hashes them).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import peewee

from .db import BaseModel, UTCDateTimeField


class UserRow(BaseModel):
    id = peewee.AutoField()
    email = peewee.CharField(max_length=255, unique=True)
    password_hash = peewee.CharField(max_length=255)
    superadmin = peewee.BooleanField(default=False)
    created = UTCDateTimeField()
    news_seen = UTCDateTimeField(null=True)   # when the user last opened the News sidebar

    class Meta:
        table_name = "users"


class ApiTokenRow(BaseModel):
    id = peewee.AutoField()
    user = peewee.ForeignKeyField(UserRow, column_name="user_id", on_delete="CASCADE")
    name = peewee.CharField(max_length=100)
    token_hash = peewee.CharField(max_length=64, unique=True)   # sha256 hex of the token
    hint = peewee.CharField(max_length=16)                      # first characters, to recognise it
    created = UTCDateTimeField()
    last_used = UTCDateTimeField(null=True)

    class Meta:
        table_name = "api_tokens"


class BookmarkRow(BaseModel):
    id = peewee.AutoField()
    user = peewee.ForeignKeyField(UserRow, column_name="user_id", on_delete="CASCADE")
    name = peewee.CharField(max_length=100)
    url = peewee.CharField(max_length=2000)
    created = UTCDateTimeField()

    class Meta:
        table_name = "bookmarks"
        indexes = ((("user", "tenant", "name"), False),)


class AnnouncementRow(BaseModel):
    id = peewee.AutoField()
    message = peewee.TextField()
    type = peewee.CharField(max_length=8)          # INFO | WARNING | ERROR
    start_date = UTCDateTimeField()
    end_date = UTCDateTimeField()

    class Meta:
        table_name = "announcements"
        indexes = ((("start_date", "end_date"), False),)


MODELS = [UserRow, ApiTokenRow, BookmarkRow, AnnouncementRow]


@dataclass(frozen=True)
class User:
    id: int
    email: str
    password_hash: str
    superadmin: bool
    news_seen: datetime | None = None


def _user(row: UserRow) -> User:
    return User(row.id, row.email, row.password_hash, row.superadmin, row.news_seen)


# -- users -------------------------------------------------------------------------------
def count_users() -> int:
    return UserRow.select().count()


def create_user(email: str, password_hash: str, *, superadmin: bool, now: datetime) -> User:
    """Raises peewee.IntegrityError when the email is taken."""
    row = UserRow.create(email=email, password_hash=password_hash, superadmin=superadmin,
                         created=now)
    return _user(row)


def get_user(user_id: int) -> User | None:
    row = UserRow.get_or_none(UserRow.id == user_id)
    return _user(row) if row else None


def find_user(email: str) -> User | None:
    row = UserRow.get_or_none(UserRow.email == email)
    return _user(row) if row else None


def list_users() -> list[User]:
    return [_user(row) for row in UserRow.select().order_by(UserRow.email)]


def set_password_hash(user_id: int, password_hash: str) -> None:
    UserRow.update(password_hash=password_hash).where(UserRow.id == user_id).execute()


def set_news_seen(user_id: int, when: datetime) -> None:
    UserRow.update(news_seen=when).where(UserRow.id == user_id).execute()


# -- API tokens --------------------------------------------------------------------------
@dataclass(frozen=True)
class ApiToken:
    id: int
    user_id: int
    name: str
    hint: str
    created: datetime
    last_used: datetime | None


def _token(row: ApiTokenRow) -> ApiToken:
    return ApiToken(row.id, row.user_id, row.name, row.hint, row.created, row.last_used)


def add_token(user_id: int, name: str, token_hash: str, hint: str, now: datetime) -> ApiToken:
    return _token(ApiTokenRow.create(user=user_id, name=name, token_hash=token_hash,
                                     hint=hint, created=now))


def user_tokens(user_id: int) -> list[ApiToken]:
    query = ApiTokenRow.select().where(ApiTokenRow.user == user_id).order_by(ApiTokenRow.id)
    return [_token(row) for row in query]


def user_of_token(token_hash: str, now: datetime) -> User | None:
    row = ApiTokenRow.get_or_none(ApiTokenRow.token_hash == token_hash)
    if row is None:
        return None
    ApiTokenRow.update(last_used=now).where(ApiTokenRow.id == row.id).execute()
    return get_user(row.user_id)


def delete_token(user_id: int, token_id: int) -> bool:
    return bool(ApiTokenRow.delete().where(ApiTokenRow.id == token_id,
                                           ApiTokenRow.user == user_id).execute())


# -- bookmarks ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Bookmark:
    id: int
    name: str
    url: str


def user_bookmarks(user_id: int, tenant: str) -> list[Bookmark]:
    query = (BookmarkRow.select()
             .where(BookmarkRow.user == user_id, BookmarkRow.tenant == tenant)
             .order_by(BookmarkRow.name, BookmarkRow.id))
    return [Bookmark(row.id, row.name, row.url) for row in query]


def add_bookmark(user_id: int, tenant: str, name: str, url: str, now: datetime) -> Bookmark:
    row = BookmarkRow.create(user=user_id, tenant=tenant, name=name, url=url, created=now)
    return Bookmark(row.id, row.name, row.url)


def rename_bookmark(user_id: int, bookmark_id: int, name: str) -> bool:
    return bool(BookmarkRow.update(name=name)
                .where(BookmarkRow.id == bookmark_id, BookmarkRow.user == user_id).execute())


def delete_bookmark(user_id: int, bookmark_id: int) -> bool:
    return bool(BookmarkRow.delete()
                .where(BookmarkRow.id == bookmark_id, BookmarkRow.user == user_id).execute())


# -- announcements -----------------------------------------------------------------------
@dataclass(frozen=True)
class Announcement:
    id: int
    message: str
    type: str
    start_date: datetime
    end_date: datetime


def _announcement(row: AnnouncementRow) -> Announcement:
    return Announcement(row.id, row.message, row.type, row.start_date, row.end_date)


def list_announcements() -> list[Announcement]:
    query = AnnouncementRow.select().order_by(AnnouncementRow.start_date.desc())
    return [_announcement(row) for row in query]


def active_announcements(now: datetime) -> list[Announcement]:
    query = (AnnouncementRow.select()
             .where(AnnouncementRow.start_date <= now, AnnouncementRow.end_date >= now)
             .order_by(AnnouncementRow.start_date))
    return [_announcement(row) for row in query]


def get_announcement(announcement_id: int) -> Announcement | None:
    row = AnnouncementRow.get_or_none(AnnouncementRow.id == announcement_id)
    return _announcement(row) if row else None


def save_announcement(announcement_id: int | None, *, message: str, type: str,
                      start_date: datetime, end_date: datetime) -> int:
    values = dict(message=message, type=type, start_date=start_date, end_date=end_date)
    if announcement_id is None:
        return AnnouncementRow.create(**values).id
    AnnouncementRow.update(**values).where(AnnouncementRow.id == announcement_id).execute()
    return announcement_id


def delete_announcement(announcement_id: int) -> bool:
    return bool(AnnouncementRow.delete()
                .where(AnnouncementRow.id == announcement_id).execute())
