"""Filters: Kestra's own plus the Pebble built-ins Kestra keeps."""
from __future__ import annotations

import base64
import datetime as _dt
import decimal
import functools
import hashlib
import json
import re
import urllib.parse
from collections.abc import Mapping

import jq as _jq
import yaml as _yaml
from jinja2 import Undefined
from slugify import slugify as _slugify

from . import dates
from .errors import ExpressionError
from .output import to_json, to_text
from .predicates import empty
from .undefined import fail


def _strict(value):
    if isinstance(value, Undefined):
        fail(value)
    return value


def _text(value) -> str:
    return to_text(_strict(value))


# ---------------------------------------------------------------- dates

def date(value, format="iso", timeZone=None, existingFormat=None, locale=None):
    value = _strict(value)
    if value is None:
        return None
    return dates.format_date(value, format, timeZone, existingFormat, locale)


def date_add(value, amount, unit, format="iso", timeZone=None, existingFormat=None, locale=None):
    value = _strict(value)
    if value is None:
        return None
    tz = dates.zone(timeZone)
    dt, nanos = dates.convert(value, tz, existingFormat)
    dt, nanos = dates.add(dt.astimezone(tz), nanos, amount, unit)
    return dates.format_date(dt.replace(microsecond=nanos // 1000), format, timeZone)


def _epoch(value, timeZone, existingFormat):
    value = _strict(value)
    if value is None:
        return None
    dt, nanos = dates.convert(value, dates.zone(timeZone), existingFormat)
    return int(dt.timestamp() // 1), nanos


def timestamp(value, timeZone=None, existingFormat=None):
    r = _epoch(value, timeZone, existingFormat)
    return None if r is None else r[0]


def timestamp_micro(value, timeZone=None, existingFormat=None):
    r = _epoch(value, timeZone, existingFormat)
    return None if r is None else r[0] * 1_000_000 + r[1] // 1000


def timestamp_nano(value, timeZone=None, existingFormat=None):
    r = _epoch(value, timeZone, existingFormat)
    return None if r is None else r[0] * 1_000_000_000 + r[1]


# ---------------------------------------------------------------- JSON / YAML / jq

@functools.lru_cache(maxsize=256)
def _jq_program(expression: str):
    return _jq.compile(expression)


def jq(value, expression):
    value = _strict(value)
    if isinstance(value, str):
        try:
            text = json.dumps(json.loads(value))
        except ValueError:
            text = to_json(value)
    else:
        text = to_json(value)
    try:
        program = _jq_program(str(expression))
    except ValueError as e:
        raise ExpressionError(f"Invalid jq expression '{expression}': {str(e).splitlines()[0]}") from None
    try:
        return program.input_text(text).all()
    except ValueError as e:
        raise ExpressionError(
            f"Failed to resolve JQ expression '{expression}' and value '{text}': "
            f"{str(e).splitlines()[0]}") from None


def to_json_filter(value):
    return to_json(_strict(value))


def yaml_filter(value):
    value = _strict(value)
    plain = json.loads(to_json(value))
    return _yaml.safe_dump(plain, default_flow_style=False, sort_keys=False, allow_unicode=True)


# ---------------------------------------------------------------- collections

def keys(value):
    value = _strict(value)
    if value is None:
        return None
    if isinstance(value, Mapping):
        return list(value.keys())
    if isinstance(value, (list, tuple)):
        return list(range(len(value)))
    raise ExpressionError(f"The 'keys' filter expects a map, got {class_name(value)}")


def values(value):
    value = _strict(value)
    if value is None:
        return None
    if isinstance(value, Mapping):
        return list(value.values())
    if isinstance(value, (list, tuple)):
        return list(value)
    raise ExpressionError(f"The 'values' filter expects a map, got {class_name(value)}")


def flatten(value):
    value = _strict(value)
    if value is None:
        return None
    out = []
    for item in value:
        if isinstance(item, (list, tuple)):
            out.extend(item)
        else:
            out.append(item)
    return out


def chunk(value, size):
    value = _strict(value)
    if value is None:
        return None
    size = int(size)
    if size <= 0:
        raise ExpressionError("The 'chunk' filter expects a positive size")
    value = list(value)
    return [value[i:i + size] for i in range(0, len(value), size)]


def first(value):
    value = _strict(value)
    if value is None:
        return None
    if isinstance(value, Mapping):
        value = list(value.values())
    if isinstance(value, str):
        return value[0] if value else None
    value = list(value)
    return value[0] if value else None


def last(value):
    value = _strict(value)
    if value is None:
        return None
    if isinstance(value, Mapping):
        value = list(value.values())
    if isinstance(value, str):
        return value[-1] if value else None
    value = list(value)
    return value[-1] if value else None


def join(value, separator=None):
    value = _strict(value)
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return ("" if separator is None else to_text(separator)).join(to_text(v) for v in value)


def length(value):
    value = _strict(value)
    if value is None:
        return 0
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return len(to_text(value))
    try:
        return len(value)
    except TypeError:
        return 0


def merge(value, other):
    value = _strict(value)
    other = _strict(other)
    if isinstance(value, Mapping) and isinstance(other, Mapping):
        merged = dict(value)
        merged.update(other)
        return merged
    if isinstance(value, (list, tuple)):
        if isinstance(other, Mapping):
            return list(value) + list(other.items())
        return list(value) + list(other)
    raise ExpressionError("The 'merge' filter can only merge a map with a map or a list with a list")


def reverse(value):
    value = _strict(value)
    if value is None:
        return None
    if isinstance(value, str):
        return value[::-1]
    return list(value)[::-1]


def _sort_key(v):
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return (0, v, "")
    return (1, 0, to_text(v))


def sort(value):
    value = _strict(value)
    return None if value is None else sorted(value, key=_sort_key)


def rsort(value):
    value = _strict(value)
    return None if value is None else sorted(value, key=_sort_key, reverse=True)


def slice_(value, fromIndex=0, toIndex=None):
    value = _strict(value)
    if value is None:
        return None
    size = len(value)
    end = size if toIndex is None else int(toIndex)
    start = int(fromIndex)
    if start < 0 or end > size or start > end:
        raise ExpressionError(f"Invalid slice [{start}, {end}] for a length of {size}")
    result = value[start:end]
    return list(result) if isinstance(result, tuple) else result


def default(value, default_value=None):
    if isinstance(value, Undefined) or empty(value):
        return default_value
    return value


# ---------------------------------------------------------------- strings

def abbreviate(value, length_):
    text = _text(value)
    n = int(length_)
    if len(text) <= n:
        return text
    if n < 3:
        return text[:n]
    return text[: n - 3] + "..."


def capitalize(value):
    text = _text(value)
    for i, c in enumerate(text):
        if not c.isspace():
            return text[:i] + c.upper() + text[i + 1:]
    return text


def title(value):
    text = _text(value)
    out = []
    upper_next = True
    for c in text:
        if c.isspace():
            upper_next = True
            out.append(c)
        elif upper_next:
            out.append(c.upper())
            upper_next = False
        else:
            out.append(c.lower())
    return "".join(out)


def lower(value):
    value = _strict(value)
    return None if value is None else to_text(value).lower()


def upper(value):
    value = _strict(value)
    return None if value is None else to_text(value).upper()


def trim(value):
    value = _strict(value)
    return None if value is None else to_text(value).strip()


def _java_split(text, regex, limit):
    parts = re.split(regex, text) if limit <= 0 else re.split(regex, text, maxsplit=limit - 1)
    if parts and parts[0] == "" and len(text) > 0:
        m = re.match(regex, text)
        if m and m.end() == 0:
            parts = parts[1:]
    if limit == 0:
        while parts and parts[-1] == "":
            parts.pop()
    return parts


def split(value, delimiter, limit=0):
    value = _strict(value)
    if value is None:
        return None
    text = to_text(value)
    try:
        return _java_split(text, str(delimiter), int(limit))
    except re.error:
        return text.split(str(delimiter))


def substring_before(value, separator):
    text = _text(value)
    idx = text.find(str(separator))
    return text if idx < 0 else text[:idx]


def substring_after(value, separator):
    text = _text(value)
    idx = text.find(str(separator))
    return "" if idx < 0 else text[idx + len(str(separator)):]


def substring_before_last(value, separator):
    text = _text(value)
    sep = str(separator)
    idx = text.rfind(sep) if sep else -1
    return text if idx < 0 else text[:idx]


def substring_after_last(value, separator):
    text = _text(value)
    sep = str(separator)
    idx = text.rfind(sep) if sep else -1
    return "" if idx < 0 or idx == len(text) - len(sep) else text[idx + len(sep):]


def starts_with(value, prefix):
    return _text(value).startswith(to_text(prefix))


def ends_with(value, suffix):
    return _text(value).endswith(to_text(suffix))


def indent(value, amount, prefix=" "):
    text = _text(value)
    pad = str(prefix) * int(amount)
    lines = text.splitlines(keepends=True)
    return "".join([lines[0]] + [pad + ln if ln.strip("\r\n") else ln for ln in lines[1:]]) \
        if lines else text


def nindent(value, amount, prefix=" "):
    text = _text(value)
    pad = str(prefix) * int(amount)
    lines = text.splitlines(keepends=True)
    return "\n" + "".join(pad + ln if ln.strip("\r\n") else ln for ln in lines)


def escape_char(value, type_):
    text = _text(value)
    kind = str(type_).lower()
    if kind == "single":
        return text.replace("\\", "\\\\").replace("'", "\\'")
    if kind == "double":
        return text.replace("\\", "\\\\").replace('"', '\\"')
    if kind == "shell":
        return text.replace("'", "'\\''")
    raise ExpressionError(f"Invalid escapeChar type '{type_}', must be one of single, double or shell")


def replace(value, replace_pairs, regexp=False):
    value = _strict(value)
    if value is None:
        return None
    text = to_text(value)
    if not isinstance(replace_pairs, Mapping):
        raise ExpressionError("The 'replace' filter expects a map of replacements, e.g. replace({'a': 'b'})")
    for old, new in replace_pairs.items():
        if regexp:
            repl = re.sub(r"\$(\d+)", r"\\\1", to_text(new))
            text = re.sub(str(old), repl, text)
        else:
            text = text.replace(to_text(old), to_text(new))
    return text


def slugify(value):
    return _slugify(_text(value))


def urlencode(value):
    return urllib.parse.quote_plus(_text(value), safe="*").replace("~", "%7E")


def urldecode(value):
    return urllib.parse.unquote_plus(_text(value))


def base64encode(value):
    value = _strict(value)
    data = value if isinstance(value, bytes) else to_text(value).encode("utf-8")
    return base64.b64encode(data).decode("ascii")


def base64decode(value):
    try:
        return base64.b64decode(_text(value).encode("ascii"), validate=False).decode("utf-8")
    except Exception:
        raise ExpressionError("The 'base64decode' filter received an invalid base64 string") from None


def _digest(name):
    def digest(value):
        return hashlib.new(name, _text(value).encode("utf-8")).hexdigest()
    digest.__name__ = name
    return digest


# ---------------------------------------------------------------- numbers / types

def abs_(value):
    value = _strict(value)
    return abs(number(value) if isinstance(value, str) else value)


_INT_RE = re.compile(r"[+-]?\d+\Z")


def number(value, type_=None):
    value = _strict(value)
    if value is None:
        return None
    kind = str(type_).upper() if type_ else None
    if isinstance(value, bool):
        raise ExpressionError(f"Unable to convert '{to_text(value)}' to a number")
    text = to_text(value).strip()
    try:
        if kind in ("INT", "LONG", "BIGINTEGER"):
            return int(text) if _INT_RE.match(text) else int(float(text))
        if kind in ("FLOAT", "DOUBLE"):
            return float(text)
        if kind == "BIGDECIMAL":
            return decimal.Decimal(text)
        if kind is not None:
            raise ExpressionError(f"Invalid number type '{type_}'")
        if isinstance(value, (int, float)):
            return value
        if _INT_RE.match(text):
            return int(text)
        if text.lower().startswith("0x"):
            return int(text, 16)
        return float(text.rstrip("dDfFlL") if text[-1:] in "dDfFlL" else text)
    except (ValueError, decimal.InvalidOperation):
        raise ExpressionError(f"Unable to convert '{text}' to a number") from None


def number_format(value, pattern):
    value = _strict(value)
    if value is None:
        return None
    if isinstance(value, str):
        value = number(value)
    return _decimal_format(value, str(pattern))


def _decimal_format(value, pattern):
    """A subset of Java's DecimalFormat: grouping, min/max integer & fraction digits,
    percent, literal prefix/suffix."""
    pattern = pattern.split(";")[0]
    m = re.match(r"([^#0,.]*)([#0,]*)(?:\.([#0]*))?(.*)\Z", pattern)
    if not m:
        return to_text(value)
    prefix, int_part, frac_part, suffix = m.group(1), m.group(2), m.group(3) or "", m.group(4)
    prefix = prefix.replace("'", "")
    suffix = suffix.replace("'", "")
    number_ = decimal.Decimal(str(value))
    if "%" in prefix + suffix:
        number_ *= 100
    grouping = 0
    if "," in int_part:
        grouping = len(int_part) - int_part.rfind(",") - 1
    min_int = int_part.replace(",", "").count("0")
    min_frac = frac_part.count("0")
    max_frac = len(frac_part)
    quant = decimal.Decimal(1).scaleb(-max_frac)
    number_ = number_.quantize(quant, rounding=decimal.ROUND_HALF_EVEN)
    negative = number_ < 0
    text = format(abs(number_), "f")
    ip, _, fp = text.partition(".")
    fp = fp.rstrip("0")
    if len(fp) < min_frac:
        fp = fp + "0" * (min_frac - len(fp))
    ip = ip.lstrip("0")
    if len(ip) < min_int:
        ip = "0" * (min_int - len(ip)) + ip
    if grouping and ip:
        groups = []
        while len(ip) > grouping:
            groups.insert(0, ip[-grouping:])
            ip = ip[:-grouping]
        groups.insert(0, ip)
        ip = ",".join(groups)
    body = ip + ("." + fp if fp else "")
    if not body:
        body = "0"
    return ("-" if negative and body.strip("0.,") else "") + prefix + body + suffix


_JAVA_CLASSES = [
    (bool, "java.lang.Boolean"),
    (int, None),
    (float, "java.lang.Double"),
    (str, "java.lang.String"),
    (decimal.Decimal, "java.math.BigDecimal"),
    (Mapping, "java.util.LinkedHashMap"),
    (list, "java.util.ArrayList"),
    (tuple, "java.util.ArrayList"),
    (_dt.datetime, "java.time.ZonedDateTime"),
    (_dt.date, "java.time.LocalDate"),
]


def class_name(value):
    value = _strict(value)
    if value is None:
        return None
    for typ, name in _JAVA_CLASSES:
        if isinstance(value, typ):
            if typ is int:
                return "java.lang.Integer" if -2**31 <= value < 2**31 else "java.lang.Long"
            return name
    return "java.lang.Object"


FILTERS = {
    # Kestra
    "date": date,
    "dateAdd": date_add,
    "timestamp": timestamp,
    "timestampMicro": timestamp_micro,
    "timestampNano": timestamp_nano,
    "jq": jq,
    "json": to_json_filter,
    "toJson": to_json_filter,
    "keys": keys,
    "values": values,
    "number": number,
    "numberFormat": number_format,
    "slugify": slugify,
    "substringBefore": substring_before,
    "substringAfter": substring_after,
    "substringBeforeLast": substring_before_last,
    "substringAfterLast": substring_after_last,
    "startsWith": starts_with,
    "endsWith": ends_with,
    "flatten": flatten,
    "chunk": chunk,
    "indent": indent,
    "nindent": nindent,
    "yaml": yaml_filter,
    "escapeChar": escape_char,
    "urldecode": urldecode,
    "md5": _digest("md5"),
    "sha1": _digest("sha1"),
    "sha256": _digest("sha256"),
    "sha512": _digest("sha512"),
    "className": class_name,
    "replace": replace,
    # Pebble built-ins
    "abbreviate": abbreviate,
    "abs": abs_,
    "base64encode": base64encode,
    "base64decode": base64decode,
    "capitalize": capitalize,
    "default": default,
    "first": first,
    "last": last,
    "join": join,
    "length": length,
    "lower": lower,
    "upper": upper,
    "merge": merge,
    "reverse": reverse,
    "rsort": rsort,
    "sort": sort,
    "slice": slice_,
    "split": split,
    "title": title,
    "trim": trim,
    "urlencode": urlencode,
}
