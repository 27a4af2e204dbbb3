"""Exceptions the CLI and UI turn into clear messages (never tracebacks)."""

from __future__ import annotations


class AdvisorError(Exception):
    """Base class: anything the user can fix or should be told about."""

    exit_code = 1


class SourceFileError(AdvisorError):
    """A curated source file is missing or malformed; names the file and line."""

    def __init__(self, path: object, message: str, line: int | None = None) -> None:
        where = f"{path}" + (f", line {line}" if line is not None else "")
        super().__init__(f"{where}: {message}")
        self.path = str(path)
        self.line = line


class StoreError(AdvisorError):
    """The DuckDB store is missing, corrupt or could not be built."""


class UnknownNameError(AdvisorError):
    """An unknown model id, need, preset or family; carries suggestions."""

    exit_code = 2

    def __init__(self, kind: str, name: str, suggestions: list[str] | tuple[str, ...] = ()) -> None:
        self.kind = kind
        self.name = name
        self.suggestions = list(suggestions)
        hint = f" Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"Unknown {kind} '{name}'.{hint}")


class InvalidRequestError(AdvisorError):
    """Impossible settings (e.g. limits that exclude every model, all-zero weights)."""

    exit_code = 2


class ImageIntakeError(AdvisorError):
    """An uploaded image was rejected; the message names the file."""


class WeightsUnavailableError(AdvisorError):
    """Real pretrained weights are not present offline; says how to get them."""
