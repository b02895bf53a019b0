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
    """A shipped reference table is malformed (a bug in data/, not in user input)."""


class FactorNotFound(InputError):
    """An energy carrier, TOC or HOC key is unknown."""
