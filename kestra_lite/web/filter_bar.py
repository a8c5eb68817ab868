"""The filter bar: autocomplete for the filter language (model.filters) and the Jinja
globals the list pages use.

The bar (templates/macros/filter_bar.html) is a GET form holding the chips (a hidden input
`q` with their text) and a search input `q` for what is typed. Submitting sends `q` twice;
a request hook joins them into one `?q=<text>` and redirects (page reset to 1), so a
filtered page's URL always carries the whole query in a single `q`.

Autocomplete: the input asks `suggest` (htmx, on input and focus). The last word typed
decides what is suggested:
  `sta`         keys of the page (`state:`)             -> fills the input
  `state:F`     states (FAILED)                         -> applies the filter
  `namespace:c` namespaces from the store (on the triggers page: namespaces holding a
                trigger), `flow:` flow ids, `label:` label keys (fills `label:env=`),
                then `label:env=` the values of env, `since:` windows, `level:`,
                `scope:`, `child:`, `type:` (trigger types), `enabled:` their values,
                `tag:` blueprint tags.
A value link navigates to the page with the completed query; a key "link" swaps the input
(htmx) for one holding `key:` with focus, which asks for the values.

Globals: `add_filter_url(key, value)` = the current URL with `q` extended by
`add_criterion` (page reset to 1); `filter_chips(filters)` = the chips with their removal
URL; `filter_query_url(query)` = the current URL with `q` replaced.
"""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from flask import Blueprint, abort, redirect, render_template, request

from ..model import filters as language
from ..model.filters import PAGE_KEYS, add_criterion
from ..model.state import utcnow
from ..store import search as search_store
from .query_args import is_local_path

bp = Blueprint("filter_bar", __name__)

LIMIT = 15
SPANS = ("15m", "1h", "6h", "24h", "7d", "30d")
KEEP = ("size", "sort", "tail")   # query parameters a new search keeps (page restarts at 1)


# -- URLs ----------------------------------------------------------------------------------
def _url_with(path: str, args, q: str) -> str:
    params = [(key, value) for key, value in (args.items(multi=True) if args else ())
              if key not in ("q", "page")]
    if q:
        params.insert(0, ("q", q))
    return path + ("?" + urlencode(params) if params else "")


def add_filter_url(key: str, value: str) -> str:
    """The current page with one more criterion (page reset to 1)."""
    query = add_criterion(request.args.get("q", ""), key, str(value))
    return _url_with(request.path, request.args, query)


def filter_query_url(query: str, path: str | None = None) -> str:
    """The current page (or `path`) with `q` replaced (page reset to 1)."""
    if path is None:
        return _url_with(request.path, request.args, query)
    kept = {key: value for key, value in request.args.items() if key in KEEP}
    return _url_with(path, None, query) + (("&" if query else "?") + urlencode(kept)
                                           if kept else "")


def filter_chips(filters, path: str | None = None) -> list[dict]:
    """The chips of `filters`: key, value, text, help and the URL without the chip (on the
    current page, or `path`)."""
    if not filters:
        return []
    return [{"key": criterion.key, "value": criterion.value, "text": criterion.to_text(),
             "help": language.KEY_HELP.get(criterion.key, ""),
             "remove_url": filter_query_url(filters.query_without(index), path)}
            for index, criterion in enumerate(filters.criteria)]


def _chips_text(filters) -> str:
    return " ".join(criterion.to_text() for criterion in filters.criteria) if filters else ""


def _free_text(filters) -> str:
    if not filters:
        return ""
    words = language.Filters(words=list(filters.words))
    return words.to_query()


@bp.record_once
def _register(state) -> None:
    app = state.app
    app.jinja_env.globals.update(add_filter_url=add_filter_url, filter_chips=filter_chips,
                                 filter_query_url=filter_query_url,
                                 filter_bar_chips_text=_chips_text,
                                 filter_bar_free_text=_free_text)

    @app.before_request
    def _join_query_parts():
        """A submitted bar sends `q` twice (chips, typed text): one `q`, page 1."""
        if request.method != "GET" or not request.path.startswith("/ui/"):
            return None
        parts = request.args.getlist("q")
        if len(parts) < 2:
            return None
        joined = " ".join(part.strip() for part in parts if part.strip())
        return redirect(_url_with(request.path, request.args, joined), code=303)


# -- autocomplete --------------------------------------------------------------------------
def _last_word(text: str) -> tuple[str, str]:
    """(everything before the word being typed, the word), quotes respected."""
    quoted = False
    cut = 0
    for index, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif char.isspace() and not quoted:
            cut = index + 1
    return text[:cut], text[cut:]


def _value_items(page: str, key: str, partial: str, tenant: str, chips: str) -> list[dict]:
    """Suggestions for the value of `key` (each: label, value, fill=True to keep typing)."""
    bare = partial.strip('"')
    upper = bare.upper()
    if key == "state":
        done, _, last = upper.rpartition(",")
        prefix = done + "," if done else ""
        return [{"value": prefix + s} for s in language.STATES if s.startswith(last)]
    if key == "level":
        return [{"value": level} for level in language.LEVELS if level.startswith(upper)]
    if key == "scope":
        return [{"value": scope} for scope in language.SCOPES if scope.startswith(upper)]
    if key == "child":
        return [{"value": child} for child in language.CHILDREN if child.startswith(upper)]
    if key == "since":
        return [{"value": span} for span in SPANS if span.startswith(bare.lower())]
    if key in ("from", "to"):
        today = utcnow().date()
        days = [today - timedelta(days=n) for n in (0, 1, 7, 30)]
        return [{"value": day.isoformat()} for day in days if day.isoformat().startswith(bare)]
    if key == "type":
        done, _, last = bare.rpartition(",")
        prefix = done + "," if done else ""
        return [{"value": prefix + name} for name in language.TRIGGER_TYPES
                if name.lower().startswith(last.lower())]
    if key == "enabled":
        return [{"value": value} for value in language.BOOLEANS
                if value.startswith(bare.lower())]
    if key == "namespace":
        tables = ("triggers",) if page == "triggers" else ("flows", "execution_flows")
        return [{"value": ns} for ns in search_store.distinct_namespaces(
            tenant, bare, limit=LIMIT, tables=tables)]
    if key == "flow":
        namespace = None
        try:
            namespace = language.parse_filters(chips, page).namespace
        except language.FilterError:
            pass
        return [{"value": flow_id}
                for flow_id in search_store.flow_ids(tenant, bare, namespace=namespace,
                                                     limit=LIMIT)]
    if key == "label":
        if page == "flows":
            return []
        cut = min((i for i in (bare.find("="), bare.find(":")) if i >= 0), default=-1)
        if cut <= 0:
            return [{"value": f"{label_key}=", "fill": True}
                    for label_key in search_store.label_keys(tenant, bare, limit=LIMIT)]
        label_key, value_prefix = bare[:cut], bare[cut + 1:]
        return [{"value": f"{label_key}={value}"}
                for value in search_store.label_values(tenant, label_key, value_prefix,
                                                       limit=LIMIT)]
    if key == "tag":
        from ..blueprints import all_tags
        return [{"value": tag} for tag in all_tags() if tag.lower().startswith(bare.lower())]
    return []


def suggestions(page: str, text: str, tenant: str, chips: str = "") -> list[dict]:
    """What to offer for the text being typed: dicts with `text` (the whole new input text),
    `label`, `hint` and `fill` (True: keep typing; False: a complete criterion)."""
    before, word = _last_word(text)
    keys = PAGE_KEYS[page]
    head, colon, partial = word.partition(":")
    if not colon:
        lowered = word.lower()
        return [{"text": f"{before}{key}:", "label": f"{key}:", "hint": language.KEY_HELP[key],
                 "fill": True}
                for key in keys if key.startswith(lowered)]
    key = language.canonical_key(head)
    if key not in keys:
        return []
    items = []
    for item in _value_items(page, key, partial, tenant, chips)[:LIMIT]:
        value = item["value"]
        quoted = language.Criterion(key, value).to_text() if not item.get("fill") \
            else f"{key}:{value}"
        items.append({"text": before + quoted, "label": quoted, "hint": "",
                      "fill": bool(item.get("fill"))})
    return items


def _safe_action(action: str) -> str:
    if not is_local_path(action):
        abort(400)
    return action


@bp.get("/filter-bar/<page>/suggest")
def suggest(tenant: str, page: str):
    """The suggestion list for the filter bar of `page` (an htmx fragment)."""
    if page not in PAGE_KEYS:
        abort(404)
    text = request.args.get("q", "")
    chips = request.args.get("chips", "")
    action = _safe_action(request.args.get("action", "/"))
    items = suggestions(page, text, tenant, chips)
    for item in items:
        query = " ".join(part for part in (chips.strip(), item["text"].strip()) if part)
        item["href"] = _url_with(action, None, query)
    if request.args.get("fill") is not None:
        # a key was picked: a new input holding it (focus asks for its values)
        return render_template("macros/filter_bar.html", _fragment="input", page=page,
                               tenant=tenant, chips=chips, action=action, text=text)
    return render_template("macros/filter_bar.html", _fragment="suggestions", page=page,
                           tenant=tenant, chips=chips, action=action, items=items)
