"""The project error types: bad input names the field at fault."""

from __future__ import annotations


class GreenlaneError(ValueError):
    """Base error of greenlane; ``field`` is the dotted path of the input at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)

    def to_dict(self) -> dict[str, str | None]:
        """Serialise as ``{"field": ..., "message": ...}`` for APIs and CLIs."""
        return {"field": self.field, "message": self.message}


class InputError(GreenlaneError):
    """A user-supplied document is malformed or out of range."""


class DataError(GreenlaneError):
    """A shipped reference table is malformed (a bug in data/, not in user input).

    A cell error names its place: ``file``, ``line`` (1 = the header) and ``column``; ``field``
    is then ``<file>[line <line>].<column>``.
    """

    def __init__(
        self,
        message: str,
        field: str | None = None,
        *,
        file: str | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file, self.line, self.column = file, line, column
        if field is None and file is not None:
            field = file
            if line is not None:
                field += f"[line {line}]"
            if column is not None:
                field += f".{column}"
        super().__init__(message, field)


class FactorNotFound(InputError):
    """An energy carrier, TOC or HOC key is unknown."""
