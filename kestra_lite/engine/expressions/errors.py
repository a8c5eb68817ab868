"""The single exception type of the expression language."""


class ExpressionError(Exception):
    """A user-facing rendering error; ``str(e)`` is a one-line message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:  # never a traceback
        return self.message
