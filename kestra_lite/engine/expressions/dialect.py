"""Pebble (Kestra flavour) -> Jinja2 source translation.

The translation works on tags only; text between tags is copied unchanged so line numbers
are preserved.  Expressions are tokenized (string literals respected) and rewritten:

* ``a ?? b`` / ``a ??? b``  -> lazy helpers (left side may be undefined, right side is only
  evaluated when needed)
* ``c ? a : b``             -> ``(a if c else b)``
* ``a contains b``          -> ``__kcontains(a, b)``
* ``a .. b``                -> ``__krange(a, b)`` (inclusive)
* ``equals`` -> ``==``, ``null`` -> ``none``, ``"#{x}"`` interpolation -> ``~``
* ``{% elseif %}`` -> ``{% elif %}``, ``{% verbatim %}`` -> ``{% raw %}``,
  ``{% for x in y %}`` iterates maps as entries and null as empty.
* ``{% raw %}...{% endraw %}`` blocks are cut out before translation (like Kestra) and put
  back by the renderer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import ExpressionError

REMOVED_TAGS = frozenset(("extends", "include", "import", "from", "embed", "autoescape",
                          "cache", "flush", "parallel"))
RAW_BLOCK = re.compile(r"\{%-*\s*raw\s*-*%\}(.*?)\{%-*\s*endraw\s*-*%\}", re.S)
_VERBATIM_END = re.compile(r"\{%-?\s*endverbatim\s*-?%\}")
_KEYWORDS = frozenset(("and", "or", "not", "in", "is", "if", "else", "contains", "equals"))
_OPS3 = ("???",)
_OPS2 = ("??", "..", "==", "!=", "<=", ">=", "//", "**")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"\d+(?:\.\d+(?![.\d]))?(?:[eE][+-]?\d+)?")
PLACEHOLDER = "\x00KRAW{}\x00"


@dataclass
class Translation:
    source: str                      # Jinja source
    raws: list = field(default_factory=list)   # full raw blocks, by placeholder index
    typed_expr: str | None = None    # Jinja expression when the template is one {{ expr }}


class _Syntax(Exception):
    def __init__(self, message, line):
        super().__init__(message)
        self.message = message
        self.line = line


# ---------------------------------------------------------------- tokenizer

def _read_string(src, i, line):
    quote = src[i]
    j = i + 1
    buf = []
    n = len(src)
    while j < n:
        c = src[j]
        if c == "\\" and j + 1 < n:
            nxt = src[j + 1]
            buf.append({"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}
                       .get(nxt, "\\" + nxt))
            j += 2
            continue
        if c == quote:
            return "".join(buf), j + 1
        buf.append(c)
        j += 1
    raise _Syntax("Unclosed string literal", line)


def tokenize(src, i, closer, line):
    """Tokenize from ``i`` until ``closer`` ('}}' or '%}') at brace depth 0.

    Returns (tokens, end_index_after_closer, strip_right, newline_count)."""
    tokens = []
    depth = 0
    n = len(src)
    newlines = 0
    while i < n:
        c = src[i]
        if c in " \t\r\n":
            if c == "\n":
                newlines += 1
            i += 1
            continue
        if depth == 0:
            if src.startswith(closer, i):
                return tokens, i + 2, False, newlines
            if c == "-" and src.startswith(closer, i + 1):
                return tokens, i + 3, True, newlines
        if c in "'\"":
            value, i = _read_string(src, i, line + newlines)
            tokens.append(("str", value, c))
            continue
        if c.isdigit():
            m = _NUMBER.match(src, i)
            tokens.append(("num", m.group(0)))
            i = m.end()
            continue
        m = _NAME.match(src, i)
        if m:
            tokens.append(("name", m.group(0)))
            i = m.end()
            continue
        if src.startswith("???", i):
            tokens.append(("op", "???"))
            i += 3
            continue
        two = src[i:i + 2]
        if two in _OPS2:
            tokens.append(("op", two))
            i += 2
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        tokens.append(("op", c))
        i += 1
    raise _Syntax(f"Unclosed tag, expected '{closer}'", line)


def _group(tokens, line):
    """Nest brackets: returns a list of items; groups are ('group', open, items)."""
    stack = [[]]
    opens = []
    pairs = {"(": ")", "[": "]", "{": "}"}
    for tok in tokens:
        if tok[0] == "op" and tok[1] in pairs:
            stack.append([])
            opens.append(tok[1])
        elif tok[0] == "op" and tok[1] in ")]}":
            if not opens or pairs[opens[-1]] != tok[1]:
                raise _Syntax(f"Unexpected '{tok[1]}'", line)
            items = stack.pop()
            stack[-1].append(("group", opens.pop(), items))
        else:
            stack[-1].append(tok)
    if opens:
        raise _Syntax(f"Unclosed '{opens[-1]}'", line)
    return stack[0]


# ---------------------------------------------------------------- expression rewriting

def _is_op(item, value):
    return item[0] == "op" and item[1] == value


def _is_kw(item, value):
    return item[0] == "name" and item[1] == value


def _split(items, sep):
    parts, cur = [], []
    for it in items:
        if _is_op(it, sep):
            parts.append(cur)
            cur = []
        else:
            cur.append(it)
    parts.append(cur)
    return parts


def _jinja_string(value: str) -> str:
    return '"' + (value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
                  .replace("\r", "\\r").replace("\t", "\\t")) + '"'


class _Translator:
    def __init__(self, line):
        self.line = line

    # -- groups
    def group(self, item):
        _, opener, items = item
        if not items:
            return {"(": "()", "[": "[]", "{": "{}"}[opener]
        parts = _split(items, ",")
        out = []
        for part in parts:
            if not part:
                out.append("")
                continue
            if opener == "{":
                idx = next((k for k, it in enumerate(part) if _is_op(it, ":")), None)
                if idx is None:
                    raise _Syntax("Invalid map literal", self.line)
                out.append(self.expr(part[:idx]) + ": " + self.expr(part[idx + 1:]))
            elif opener == "[" and not any(_is_op(it, "?") for it in part) \
                    and any(_is_op(it, ":") for it in part):
                out.append(":".join(self.expr(p) if p else "" for p in _split(part, ":")))
            elif opener == "(" and len(part) > 2 and part[0][0] == "name" and _is_op(part[1], "="):
                out.append(part[0][1] + "=" + self.expr(part[2:]))
            else:
                out.append(self.expr(part))
        close = {"(": ")", "[": "]", "{": "}"}[opener]
        body = ", ".join(out)
        if opener == "(" and len(parts) == 1 and items and _is_op(items[-1], ","):
            body += ","
        return opener + body + close

    # -- full expression (ternary level)
    def expr(self, items):
        if not items:
            raise _Syntax("Missing expression", self.line)
        q = next((k for k, it in enumerate(items) if _is_op(it, "?")), None)
        if q is None:
            return self.ops(items)
        depth = 0
        for k in range(q + 1, len(items)):
            it = items[k]
            if _is_op(it, "?"):
                depth += 1
            elif _is_op(it, ":"):
                if depth == 0:
                    cond, a, b = items[:q], items[q + 1:k], items[k + 1:]
                    return f"({self.expr(a)} if {self.expr(cond)} else {self.expr(b)})"
                depth -= 1
        raise _Syntax("Missing ':' in ternary expression", self.line)

    # -- operators below ternary
    def ops(self, items):
        units = self.units(items)
        # ?? and ??? (left associative, tighter than everything but filters)
        k = 1
        while k < len(units) - 1:
            kind, text = units[k]
            if kind == "op" and text in ("??", "???"):
                left = units[k - 1]
                right_end = k + 1
                prefix = ""
                while right_end < len(units) and units[right_end][0] == "op" \
                        and units[right_end][1] in ("-", "+"):
                    prefix += units[right_end][1]
                    right_end += 1
                if left[0] != "primary" or right_end >= len(units) \
                        or units[right_end][0] != "primary":
                    raise _Syntax(f"Invalid use of '{text}'", self.line)
                fn = "__knn" if text == "??" else "__knu"
                merged = ("primary",
                          f"(__kval() if {fn}({left[1]}) else ({prefix}{units[right_end][1]}))")
                units[k - 1:right_end + 1] = [merged]
            else:
                k += 1
        # .. range
        k = 1
        while k < len(units) - 1:
            if units[k] == ("op", ".."):
                units[k - 1:k + 2] = [("primary", f"__krange({units[k - 1][1]}, {units[k + 1][1]})")]
            else:
                k += 1
        # contains (low precedence, bounded by and/or/not)
        while True:
            k = next((j for j, u in enumerate(units) if u == ("kw", "contains")), None)
            if k is None:
                break
            start = k
            while start > 0 and units[start - 1] not in (("kw", "and"), ("kw", "or"), ("kw", "not")):
                start -= 1
            end = k + 1
            while end < len(units) and units[end] not in (("kw", "and"), ("kw", "or"), ("kw", "contains")):
                end += 1
            if start == k or end == k + 1:
                raise _Syntax("Invalid use of 'contains'", self.line)
            left = " ".join(u[1] for u in units[start:k])
            right = " ".join(u[1] for u in units[k + 1:end])
            units[start:end] = [("primary", f"__kcontains({left}, {right})")]
        return " ".join(u[1] for u in units)

    def units(self, items):
        units = []
        k = 0
        n = len(items)
        prev_is = False
        while k < n:
            it = items[k]
            kind = it[0]
            if kind == "name" and it[1] in _KEYWORDS:
                word = it[1]
                units.append(("kw", "==" if word == "equals" else word))
                prev_is = word == "is" or (word == "not" and units[-2:-1] == [("kw", "is")])
                k += 1
                continue
            if kind == "op" and it[1] not in ():
                units.append(("op", it[1]))
                prev_is = False
                k += 1
                continue
            # primary
            if kind == "name":
                name = it[1]
                if name == "null" and not prev_is:
                    text = "none"
                elif name in ("true", "True"):
                    text = "true"
                elif name in ("false", "False"):
                    text = "false"
                else:
                    text = name
            elif kind == "num":
                text = it[1]
            elif kind == "str":
                text = self.string(it)
            else:  # group
                text = self.group(it)
            prev_is = False
            k += 1
            # postfix: .name  [..]  (..)  | filter(..)
            while k < n:
                nxt = items[k]
                if _is_op(nxt, ".") and k + 1 < n and items[k + 1][0] in ("name", "num"):
                    attr = items[k + 1][1]
                    text += f".{attr}" if items[k + 1][0] == "name" else f"[{attr}]"
                    k += 2
                elif nxt[0] == "group" and nxt[1] in "([":
                    text += self.group(nxt)
                    k += 1
                elif _is_op(nxt, "|") and k + 1 < n and items[k + 1][0] == "name":
                    text += " | " + items[k + 1][1]
                    k += 2
                    if k < n and items[k][0] == "group" and items[k][1] == "(":
                        text += self.group(items[k])
                        k += 1
                else:
                    break
            units.append(("primary", text))
        return units

    def string(self, tok):
        value, quote = tok[1], tok[2]
        if quote != '"' or "#{" not in value:
            return _jinja_string(value)
        parts = []
        i = 0
        while True:
            j = value.find("#{", i)
            if j < 0:
                if i < len(value):
                    parts.append(_jinja_string(value[i:]))
                break
            if j > i:
                parts.append(_jinja_string(value[i:j]))
            depth, m = 1, j + 2
            while m < len(value) and depth:
                if value[m] == "{":
                    depth += 1
                elif value[m] == "}":
                    depth -= 1
                m += 1
            inner = value[j + 2:m - 1]
            toks, _, _, _ = tokenize(inner + " }}", 0, "}}", self.line)
            parts.append("(" + self.expr(_group(toks, self.line)) + ")")
            i = m
        return "(" + " ~ ".join(parts or ['""']) + ")"


def translate_expression(tokens, line) -> str:
    return _Translator(line).expr(_group(tokens, line))


# ---------------------------------------------------------------- tags

def _translate_tag(tokens, line, state):
    if not tokens or tokens[0][0] != "name":
        raise _Syntax("Missing tag name", line)
    name = tokens[0][1]
    rest = tokens[1:]
    tr = _Translator(line)
    if name in REMOVED_TAGS:
        raise _Syntax(f"Unexpected tag name \"{name}\" (tag not allowed in Kestra)", line)
    if name in ("if", "elseif", "elif"):
        return ("elif " if name != "if" else "if ") + tr.expr(_group(rest, line))
    if name == "for":
        items = _group(rest, line)
        idx = next((k for k, it in enumerate(items) if _is_kw(it, "in")), None)
        if idx is None or idx == 0:
            raise _Syntax("Invalid for tag, expected 'for x in items'", line)
        targets = [it[1] for it in items[:idx] if it[0] == "name"]
        body = tr.expr(items[idx + 1:])
        helper = "__kiter" if len(targets) == 1 else "__kitems"
        return f"for {', '.join(targets)} in {helper}({body})"
    if name == "set":
        items = _group(rest, line)
        if len(items) >= 3 and items[0][0] == "name" and _is_op(items[1], "="):
            return f"set {items[0][1]} = {tr.expr(items[2:])}"
        raise _Syntax("Invalid set tag, expected 'set name = value'", line)
    if name in ("macro", "filter", "block"):
        if not rest:
            raise _Syntax(f"Missing argument for tag '{name}'", line)
        return name + " " + " ".join(u[1] for u in tr.units(_group(rest, line)))
    if name in ("else", "endif", "endfor", "endmacro", "endfilter", "endblock"):
        return name
    raise _Syntax(f"Unexpected tag name \"{name}\"", line)


def translate(template: str) -> Translation:
    """Translate a Pebble template into Jinja source (raises ExpressionError on syntax errors)."""
    try:
        return _translate(template)
    except _Syntax as e:
        raise ExpressionError(
            f"{e.message} in the expression `{template}` at line {e.line}") from None


def _protect_cr(text: str) -> str:
    """Jinja normalizes newlines in template text; Pebble keeps carriage returns."""
    return text.replace("\r", '{{ "\\r" }}') if "\r" in text else text


def _translate(template: str) -> Translation:
    raws = []

    def cut(m):
        raws.append(m.group(0))
        return PLACEHOLDER.format(len(raws) - 1)

    src = RAW_BLOCK.sub(cut, template) if "raw" in template else template
    out = []
    i = 0
    n = len(src)
    line = 1
    expr_count = 0
    last_expr = None
    other_content = False
    state = {}
    while i < n:
        j = src.find("{", i)
        while j >= 0 and j + 1 < n and src[j + 1] not in "{%#":
            j = src.find("{", j + 1)
        if j < 0 or j + 1 >= n:
            chunk = src[i:]
            out.append(_protect_cr(chunk))
            if chunk.strip():
                other_content = True
            break
        chunk = src[i:j]
        out.append(_protect_cr(chunk))
        if chunk.strip():
            other_content = True
        line += chunk.count("\n")
        kind = src[j + 1]
        if kind == "#":
            end = src.find("#}", j + 2)
            if end < 0:
                raise _Syntax("Unclosed comment", line)
            comment = src[j:end + 2]
            out.append(comment)
            line += comment.count("\n")
            other_content = True
            i = end + 2
            continue
        start = j + 2
        strip_left = start < n and src[start] == "-"
        if strip_left:
            start += 1
        closer = "}}" if kind == "{" else "%}"
        tokens, end, strip_right, newlines = tokenize(src, start, closer, line)
        open_ = "{" + kind + ("-" if strip_left else "")
        close = ("-" if strip_right else "") + closer
        if kind == "{":
            if not tokens:
                raise _Syntax("Missing expression", line)
            text = translate_expression(tokens, line)
            expr_count += 1
            last_expr = text
            out.append(f"{open_} {text} {chr(10) * newlines}{close}")
        else:
            other_content = True
            if tokens and tokens[0] == ("name", "verbatim"):
                m = _VERBATIM_END.search(src, end)
                if not m:
                    raise _Syntax("Unclosed verbatim tag", line)
                body = src[end:m.start()]
                out.append(f"{open_} raw {close}{body}{{% endraw {'-' if m.group(0)[-3] == '-' else ''}%}}")
                line += src[j:m.end()].count("\n")
                i = m.end()
                continue
            text = _translate_tag(tokens, line, state)
            out.append(f"{open_} {text} {chr(10) * newlines}{close}")
        line += newlines
        i = end
    typed = last_expr if expr_count == 1 and not other_content else None
    return Translation("".join(out), raws, typed)
