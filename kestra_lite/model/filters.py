"""The filter language of the list pages (executions, flows, logs, dashboard, blueprints,
triggers).

A query is text, as typed in the filter bar and carried in the URL as `?q=<text>`:

    state:FAILED namespace:company label:env=prod since:24h free text

Tokens are separated by spaces. `key:value` is a criterion (one chip); a value may be
quoted (`label:"env=prod west"`, `\\"` and `\\\\` escape inside quotes). Everything else is free
text; put text that holds a colon in quotes (`"error: timeout"`). Keys are case-insensitive.

Keys (PAGE_KEYS says which page takes which):

    state:FAILED          repeatable, OR; also state:FAILED,WARNING; any State name
    namespace:company     the namespace itself or its children (company, company.team...)
    flow:hello            the flow id, exact
    label:env=prod        also label:env:prod; repeatable, all must match
    since:24h             15m, 24h, 7d, 2w (s/m/h/d/w) or ISO-8601 PT24H / P1D
    from:2026-11-01       ISO date or datetime (UTC unless an offset is given)
    to:2026-11-01T10:00   a date alone means the end of that day
    scope:USER            USER or SYSTEM (SYSTEM = namespace `system` and its children)
    child:MAIN            ALL, CHILD (started by another execution) or MAIN
    trigger:<id>          executions started by execution <id>
    level:WARN            logs: TRACE, DEBUG, INFO, WARN, ERROR (that level and above)
    execution:<id>        logs of one execution
    tag:<tag>             blueprints; repeatable, all must match
    type:Schedule         triggers: Schedule, Flow, Webhook or ScheduleOnDates; repeatable,
                          OR; also type:Schedule,Flow
    enabled:true          triggers: true (enabled) or false (disabled in the UI or the YAML)

Pure module: no Flask, no database.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable

from .durations import parse_duration
from .state import State, bounded_utc


class FilterError(ValueError):
    """A query that cannot be applied; `message` names the criterion and what is expected."""

    def __init__(self, message: str, criterion: str | None = None):
        super().__init__(message)
        self.message = message
        self.criterion = criterion


@dataclass(frozen=True)
class Criterion:
    key: str
    value: str

    def to_text(self) -> str:
        return f"{self.key}:{_quote(self.value)}"


_TIME_KEYS = ("since", "from", "to")
_UPPER_KEYS = ("state", "scope", "child", "level")
PAGE_KEYS: dict[str, tuple[str, ...]] = {
    "executions": ("state", "namespace", "flow", "label", "since", "from", "to", "scope",
                   "child", "trigger"),
    "dashboard": ("state", "namespace", "flow", "label", "since", "from", "to", "scope",
                  "child", "trigger"),
    "flows": ("namespace", "label", "scope"),
    "logs": ("level", "namespace", "flow", "execution", "since", "from", "to"),
    "blueprints": ("tag",),
    "triggers": ("namespace", "flow", "type", "enabled"),
}
ALL_KEYS = ("state", "namespace", "flow", "label", "since", "from", "to", "scope", "child",
            "trigger", "level", "execution", "tag", "type", "enabled")
REPEATABLE = frozenset({"state", "label", "tag", "type"})
ALIASES = {"flowid": "flow", "flow_id": "flow", "labels": "label", "status": "state",
           "minlevel": "level", "executionid": "execution", "execution_id": "execution",
           "tags": "tag", "ns": "namespace"}
KEY_HELP = {
    "state": "an execution state such as FAILED (repeatable)",
    "namespace": "a namespace and its children",
    "flow": "a flow id",
    "label": "a label key=value (repeatable)",
    "since": "a relative window: 15m, 24h, 7d, 2w",
    "from": "a start date: 2026-11-01 or 2026-11-01T10:00",
    "to": "an end date: 2026-11-01 or 2026-11-01T10:00",
    "scope": "USER or SYSTEM",
    "child": "ALL, CHILD or MAIN",
    "trigger": "the id of the execution that started them",
    "level": "the minimum log level",
    "execution": "an execution id",
    "tag": "a blueprint tag (repeatable)",
    "type": "a trigger type: Schedule, Flow, Webhook (repeatable)",
    "enabled": "true or false",
}
STATES = tuple(state.value for state in State)
LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")
SCOPES = ("USER", "SYSTEM")
CHILDREN = ("ALL", "CHILD", "MAIN")
TRIGGER_TYPES = ("Schedule", "Flow", "Webhook", "ScheduleOnDates")
BOOLEANS = ("true", "false")
SYSTEM_NAMESPACE = "system"

_KEY = re.compile(r"^([A-Za-z][A-Za-z_]*):(.*)$", re.S)
_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")
_ID = re.compile(r"^[A-Za-z0-9_.\-]+$")
_LABEL_KEY = re.compile(r"^[^\s=:]+$")
_SHORT_SPAN = re.compile(r"^(\d+)\s*(s|m|h|d|w)$", re.I)
_SPAN_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_NEEDS_QUOTES = re.compile(r'[\s"\\]')


@dataclass
class Filters:
    """The parsed criteria of one page."""
    page: str = "executions"
    criteria: list[Criterion] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    namespace: str | None = None
    flow_id: str | None = None
    labels: list[tuple[str, str]] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    since: timedelta | None = None
    scope: str | None = None
    child: str | None = None
    min_level: str | None = None
    execution_id: str | None = None
    trigger_execution_id: str | None = None
    tags: list[str] = field(default_factory=list)
    trigger_types: list[str] = field(default_factory=list)
    enabled: bool | None = None
    text: str | None = None
    words: list[str] = field(default_factory=list)   # free words; quoted phrases stay whole

    def to_query(self) -> str:
        """The canonical query text: chips in the order typed, then the free text."""
        parts = [criterion.to_text() for criterion in self.criteria]
        parts.extend(_quote_word(word) for word in self.words)
        return " ".join(parts)

    def query_without(self, index: int) -> str:
        """The query text without chip `index`."""
        parts = [c.to_text() for i, c in enumerate(self.criteria) if i != index]
        parts.extend(_quote_word(word) for word in self.words)
        return " ".join(parts)

    def names_system_label(self) -> bool:
        """A label criterion names a `system.*` key (then system labels are shown)."""
        return any(key.startswith("system.") for key, _ in self.labels)

    @property
    def is_empty(self) -> bool:
        return not self.criteria and not self.words


# -- tokenizing ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Token:
    key: str | None     # lower-cased key as typed (None: free text)
    raw_key: str | None
    value: str


@lru_cache(maxsize=256)
def _tokenize(query: str) -> tuple[_Token, ...]:
    """The query's tokens (cached: list pages build many links from one query)."""
    return tuple(_scan(query))


def _scan(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    text = query or ""
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        first_unquoted = None
        pieces: list[str] = []
        starts_quoted = text[i] == '"'
        while i < n and not text[i].isspace():
            if text[i] == '"':
                i += 1
                chunk = []
                while i < n and text[i] != '"':
                    if text[i] == "\\" and i + 1 < n:
                        i += 1
                    chunk.append(text[i])
                    i += 1
                i += 1          # the closing quote (lenient when missing)
                pieces.append("".join(chunk))
            else:
                start = i
                while i < n and not text[i].isspace() and text[i] != '"':
                    i += 1
                chunk = text[start:i]
                if first_unquoted is None and not pieces:
                    first_unquoted = chunk
                pieces.append(chunk)
        if not starts_quoted and first_unquoted is not None:
            match = _KEY.match(first_unquoted)
            if match:
                value = match.group(2) + "".join(pieces[1:])
                tokens.append(_Token(match.group(1).lower(), match.group(1), value))
                continue
        tokens.append(_Token(None, None, "".join(pieces)))
    return tokens


def _quote(value: str) -> str:
    if value and not _NEEDS_QUOTES.search(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _quote_word(word: str) -> str:
    if word and ":" not in word and not _NEEDS_QUOTES.search(word):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


def canonical_key(key: str) -> str:
    key = key.lower()
    return ALIASES.get(key, key)


# -- values -------------------------------------------------------------------------------
def _fail(key: str, value: str, problem: str) -> FilterError:
    criterion = f"{key}:{value}"
    return FilterError(f"{criterion}: {problem}", criterion)


def _one_of(key: str, value: str, allowed: Iterable[str], what: str) -> str:
    upper = value.strip().upper()
    allowed = tuple(allowed)
    if upper not in allowed:
        raise _fail(key, value, f"unknown {what} {value}; expected one of {', '.join(allowed)}")
    return upper


def parse_span(value: str) -> timedelta:
    """`15m`, `24h`, `7d`, `2w`, `30s` or an ISO-8601 duration (`PT24H`, `P1D`)."""
    text = value.strip()
    match = _SHORT_SPAN.match(text)
    if match:
        span = timedelta(**{_SPAN_UNITS[match.group(2).lower()]: int(match.group(1))})
    else:
        try:
            span = parse_duration(text.upper())
        except ValueError:
            raise ValueError("expected a duration such as 15m, 24h, 7d, 2w or PT24H") from None
    if span <= timedelta(0):
        raise ValueError("expected a duration longer than zero")
    return span


def format_span(span: timedelta) -> str:
    """The shortest of `2w`, `7d`, `24h`, `15m`, `30s` for the span."""
    seconds = int(span.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_date(value: str, *, end_of_day: bool = False) -> datetime:
    """ISO date or datetime; naive = UTC; a date alone is its start (or end) of day."""
    text = value.strip()
    if not text:
        raise ValueError("expected a date such as 2026-11-01 or 2026-11-01T10:00")
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time.max if end_of_day else time.min)
        else:
            moment = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("expected a date such as 2026-11-01 or 2026-11-01T10:00") from None
    return bounded_utc(moment)


def _apply(filters: Filters, key: str, value: str, now: datetime) -> str:
    """Validate `key:value`, set it on `filters`, return the canonical value."""
    if key == "state":
        names = [part for part in value.replace(" ", "").split(",") if part]
        if not names:
            raise _fail(key, value, "expected a state such as FAILED")
        canonical = [_one_of(key, name, STATES, "state") for name in names]
        for name in canonical:
            if name not in filters.states:
                filters.states.append(name)
        return ",".join(canonical)
    if key == "namespace":
        text = value.strip().rstrip(".")
        if not text or not _NAME.match(text):
            raise _fail(key, value, "expected a namespace such as company.team "
                        "(letters, digits, '.', '_', '-')")
        filters.namespace = text
        return text
    if key == "flow":
        text = value.strip()
        if not text or not _NAME.match(text):
            raise _fail(key, value, "expected a flow id (letters, digits, '.', '_', '-')")
        filters.flow_id = text
        return text
    if key == "label":
        cut = min((i for i in (value.find("="), value.find(":")) if i >= 0), default=-1)
        label_key, label_value = (value[:cut].strip(), value[cut + 1:]) if cut > 0 else ("", "")
        if cut <= 0 or not _LABEL_KEY.match(label_key):
            raise _fail(key, value, "expected a label as key=value, such as env=prod")
        if (label_key, label_value) not in filters.labels:
            filters.labels.append((label_key, label_value))
        return f"{label_key}={label_value}"
    if key == "since":
        try:
            span = parse_span(value)
        except ValueError as error:
            raise _fail(key, value, str(error)) from None
        try:
            filters.start = bounded_utc(now - span)
        except (OverflowError, ValueError):
            raise _fail(key, value, "too far back (years 1900 to 9999)") from None
        filters.since = span
        filters.end = None
        text = value.strip()
        return text.replace(" ", "").lower() if _SHORT_SPAN.match(text) else text.upper()
    if key in ("from", "to"):
        try:
            moment = parse_date(value, end_of_day=(key == "to"))
        except ValueError as error:
            raise _fail(key, value, str(error)) from None
        if key == "from":
            filters.start = moment
        else:
            filters.end = moment
        return value.strip()
    if key == "scope":
        filters.scope = _one_of(key, value, SCOPES, "scope")
        return filters.scope
    if key == "child":
        child = _one_of(key, value, CHILDREN, "child filter")
        filters.child = None if child == "ALL" else child
        return child
    if key == "level":
        text = value.strip().upper()
        if text == "WARNING":
            text = "WARN"
        filters.min_level = _one_of(key, text, LEVELS, "level")
        return filters.min_level
    if key in ("trigger", "execution"):
        text = value.strip()
        if not text or not _ID.match(text):
            raise _fail(key, value, "expected an execution id")
        if key == "trigger":
            filters.trigger_execution_id = text
        else:
            filters.execution_id = text
        return text
    if key == "tag":
        text = value.strip()
        if not text:
            raise _fail(key, value, "expected a tag")
        if text not in filters.tags:
            filters.tags.append(text)
        return text
    if key == "type":
        return _apply_trigger_types(filters, value)
    if key == "enabled":
        text = value.strip().lower()
        if text not in BOOLEANS:
            raise _fail(key, value, "expected true or false")
        filters.enabled = text == "true"
        return text
    raise _fail(key, value, "unknown filter")     # unreachable: keys are checked first


def _apply_trigger_types(filters: Filters, value: str) -> str:
    """`type:Schedule` or `type:schedule,flow` (any case): the canonical type names."""
    by_lower = {name.lower(): name for name in TRIGGER_TYPES}
    names = [part for part in value.replace(" ", "").split(",") if part]
    if not names:
        raise _fail("type", value, f"expected a trigger type: {', '.join(TRIGGER_TYPES)}")
    canonical = []
    for name in names:
        found = by_lower.get(name.lower())
        if found is None:
            raise _fail("type", value, f"unknown trigger type {name}; expected one of "
                        f"{', '.join(TRIGGER_TYPES)}")
        canonical.append(found)
        if found not in filters.trigger_types:
            filters.trigger_types.append(found)
    return ",".join(canonical)


def _keys_hint(page: str) -> str:
    return ", ".join(f"{key}:" for key in PAGE_KEYS[page])


def _check_page(page: str) -> None:
    if page not in PAGE_KEYS:
        raise ValueError(f"unknown filter page {page!r}; expected one of {', '.join(PAGE_KEYS)}")


def _finish(filters: Filters, seen: dict[str, str]) -> Filters:
    if "since" in seen and ("from" in seen or "to" in seen):
        other = seen.get("from") or seen.get("to")
        raise FilterError(f"{seen['since']}: since cannot be combined with {other}; use "
                          "either a relative window (since) or dates (from/to)", seen["since"])
    if filters.start and filters.end and filters.start > filters.end:
        raise FilterError(f"{seen['from']}: from is after {seen['to']}; the start must come "
                          "before the end", seen["from"])
    filters.text = " ".join(filters.words) or None
    return filters


def parse_filters(query: str, page: str, *, now: datetime | None = None) -> Filters:
    """Parse the query text of `page`. Raises FilterError (naming the criterion)."""
    _check_page(page)
    now = now or datetime.now(timezone.utc)
    allowed = PAGE_KEYS[page]
    filters = Filters(page=page)
    seen: dict[str, str] = {}
    for token in _tokenize(query):
        if token.key is None:
            if token.value:
                filters.words.append(token.value)
            continue
        key = canonical_key(token.key)
        typed = f"{token.raw_key}:{token.value}"
        if key not in allowed:
            where = "on this page" if key in ALL_KEYS else "known"
            raise FilterError(f"{typed}: unknown filter {token.raw_key}; filters {where}: "
                              f"{_keys_hint(page)} (put text holding a colon in quotes)",
                              typed)
        if key in seen and key not in REPEATABLE:
            raise FilterError(f"{typed}: {key} is given twice ({seen[key]} and {typed}); "
                              "keep one", typed)
        seen.setdefault(key, typed)
        value = _apply(filters, key, token.value, now)
        criterion = Criterion(key, value)
        if criterion not in filters.criteria:
            filters.criteria.append(criterion)
    return _finish(filters, seen)


@lru_cache(maxsize=1024)
def add_criterion(query: str, key: str, value: str) -> str:
    """The query text with one more chip: an identical chip is not repeated; a
    single-valued key (namespace, flow, since...) and a label of the same key are replaced;
    since replaces from/to and the other way round."""
    key = canonical_key(key)
    value = value.strip()
    if key in _UPPER_KEYS:
        value = value.upper()
    new = Criterion(key, value)
    label_key = _label_key(value) if key == "label" else None
    criteria: list[Criterion] = []
    words: list[str] = []
    present = False
    for token in _tokenize(query):
        if token.key is None:
            if token.value:
                words.append(token.value)
            continue
        existing = Criterion(canonical_key(token.key), token.value)
        if key == "state" and existing.key == "state" and set(value.split(",")) <= {
                part.strip().upper() for part in existing.value.split(",")}:
            present = True  # already filtered on (maybe among others): nothing to add
        elif _same(existing, new, label_key):
            continue
        criteria.append(existing)
    if not present:
        criteria.append(new)
    parts = [criterion.to_text() for criterion in criteria]
    parts.extend(_quote_word(word) for word in words)
    return " ".join(parts)


def _label_key(value: str) -> str | None:
    cut = min((i for i in (value.find("="), value.find(":")) if i >= 0), default=-1)
    return value[:cut].strip() if cut > 0 else None


def _same(existing: Criterion, new: Criterion, label_key: str | None) -> bool:
    """Does `new` replace (or duplicate) `existing`?"""
    if existing.key in _TIME_KEYS and new.key in _TIME_KEYS:
        return existing.key == new.key or "since" in (existing.key, new.key)
    if existing.key != new.key:
        return False
    if existing.key == "label":
        return label_key is not None and _label_key(existing.value) == label_key
    if existing.key in REPEATABLE:
        return existing.value.strip().upper() == new.value.strip().upper()
    return True


# -- Kestra's legacy query parameters ------------------------------------------------------
def _getlist(args: Any, name: str) -> list[str]:
    if hasattr(args, "getlist"):
        values = args.getlist(name)
    else:
        value = args.get(name) if hasattr(args, "get") else None
        values = [] if value is None else (list(value) if isinstance(value, (list, tuple))
                                           else [value])
    return [str(v) for v in values if v is not None and str(v) != ""]


def filters_from_api(args: Any, page: str, *, now: datetime | None = None) -> Filters:
    """Filters from Kestra's REST query parameters: namespace, flowId, state (repeat),
    labels (repeat k:v), q, startDate, endDate, timeRange (ISO-8601 duration), scope
    (repeat; both = none), childFilter, minLevel, triggerExecutionId, executionId, tags;
    and `filter`: the filter bar's typed query (`state:FAILED namespace:company since:24h`)."""
    _check_page(page)
    now = now or datetime.now(timezone.utc)
    filters = Filters(page=page)
    seen: dict[str, str] = {}

    def add(key: str, value: str, name: str) -> None:
        canonical = _apply(filters, key, value, now)
        seen.setdefault(key, f"{name}={value}")
        criterion = Criterion(key, canonical)
        if criterion not in filters.criteria:
            filters.criteria.append(criterion)

    def first(name: str) -> str | None:
        values = _getlist(args, name)
        return values[0] if values else None

    if (value := first("namespace")) is not None:
        add("namespace", value, "namespace")
    if (value := first("flowId")) is not None:
        add("flow", value, "flowId")
    for value in _getlist(args, "state"):
        add("state", value, "state")
    for value in _getlist(args, "labels"):
        add("label", value, "labels")
    scopes = {s.strip().upper() for v in _getlist(args, "scope") for s in v.split(",") if s.strip()}
    if len(scopes) == 1:
        add("scope", scopes.pop(), "scope")
    elif scopes - set(SCOPES):
        raise _fail("scope", ",".join(sorted(scopes)), "expected USER or SYSTEM")
    if (value := first("childFilter")) is not None:
        add("child", value, "childFilter")
    if (value := first("minLevel")) is not None:
        add("level", value, "minLevel")
    if (value := first("triggerExecutionId")) is not None:
        add("trigger", value, "triggerExecutionId")
    if (value := first("executionId")) is not None:
        add("execution", value, "executionId")
    for value in _getlist(args, "tags"):
        add("tag", value, "tags")
    time_range = first("timeRange")
    start, end = first("startDate"), first("endDate")
    if time_range is not None and start is not None:
        raise FilterError(f"timeRange={time_range}: cannot be combined with "
                          f"startDate={start}", f"timeRange={time_range}")
    if time_range is not None:
        add("since", time_range, "timeRange")
    if start is not None:
        add("from", start, "startDate")
    if end is not None:
        try:
            filters.end = parse_date(end, end_of_day=True)
        except ValueError as error:
            raise _fail("endDate", end, str(error)) from None
        seen["to"] = f"endDate={end}"
        filters.criteria.append(Criterion("to", end.strip()))
    if filters.start and filters.end and filters.start > filters.end:
        raise FilterError(f"startDate={start}: after endDate={end}; the start must come "
                          "before the end", f"startDate={start}")
    q = first("q")
    if q:
        for token in _tokenize(q):
            if token.value:
                word = token.value if token.key is None else f"{token.raw_key}:{token.value}"
                filters.words.append(word)
    filters.text = " ".join(filters.words) or None
    typed = first("filter")
    if typed and typed.strip():
        # the UI's typed criteria (`filter=state:FAILED label:env=prod since:24h`), on top of
        # the legacy parameters
        return parse_filters(f"{filters.to_query()} {typed}".strip(), page, now=now)
    return filters
