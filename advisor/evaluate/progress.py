"""Progress by phase and a way to stop: what long evaluation work reports and checks between steps.

Why: after feature extraction the app sat at "100 %" for minutes of cross-validation and bootstrap with
no sign of life, and Cancel could not stop the statistics. Every phase (extraction, cross-validation,
bootstrap, report) now reports its own fraction through one callback, and the callback (or a
`CancelToken`) can stop the work between steps by raising EvaluationCancelled.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from advisor.errors import AdvisorError

PHASES = ("extraction", "cross-validation", "bootstrap", "report")
PhaseCallback = Callable[[str, float, str], None]  # (phase, fraction of that phase, text)


class EvaluationCancelled(AdvisorError):
    """Raised by a `progress` callback (or a cancelled token) to stop an evaluation (the app's Stop button).
    Batches already finished stay in the on-disk cache, so running again resumes where it stopped."""

    exit_code = 130


class CancelToken:
    """Set from anywhere (another thread, a button); checked by the work between its steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise EvaluationCancelled("the evaluation was stopped")


class Phases:
    """Reports (phase, fraction, text) to a callback and checks a cancel token at each report."""

    def __init__(self, callback: PhaseCallback | None = None, cancel: CancelToken | None = None) -> None:
        self.callback, self.cancel = callback, cancel

    def __call__(self, phase: str, fraction: float, text: str = "") -> None:
        if self.cancel is not None:
            self.cancel.check()
        if self.callback is not None:
            self.callback(phase, min(max(float(fraction), 0.0), 1.0), text)


def quiet(phase: str, fraction: float, text: str = "") -> None:
    """A phase callback that reports nothing (the default)."""
