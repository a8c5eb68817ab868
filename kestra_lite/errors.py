"""Domain errors shared by every layer (no web/store imports)."""
from __future__ import annotations

from dataclasses import dataclass


class KestraLiteError(Exception):
    """Base class of every domain error."""


@dataclass(frozen=True, order=True)
class Problem:
    """One validation problem of a flow source, 1-based position in the file."""
    line: int
    column: int
    message: str
    path: str = ""

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.message}"

    def to_dict(self) -> dict:
        return {"line": self.line, "column": self.column, "message": self.message,
                "path": self.path}


class InvalidFlow(KestraLiteError):
    """A flow source that cannot be accepted; carries every problem found, sorted by line."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.line, p.column))
        super().__init__("\n".join(str(p) for p in self.problems))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class InvalidInput(KestraLiteError):
    """An execution/resume input (or a flow output) that does not match its declaration."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class NotFound(KestraLiteError):
    pass


class Conflict(KestraLiteError):
    pass


class Forbidden(KestraLiteError):
    pass


class IllegalTransition(KestraLiteError):
    pass
