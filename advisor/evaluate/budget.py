"""Server-wide budgets: temporary disk for unpacked uploads and memory for decoded images.

Why: limits per upload did not bound the server; three sessions each uploading a small zip of a 2 GiB
file put 6 GB in the temp folder in 10 s. Every session of a Streamlit server runs in one process, so a
process-wide counter is a server-wide budget: space is reserved before anything is written or decoded,
and given back when the upload is discarded or the decoded shard is done. The limits are read from the
environment at each reservation (VISION_ADVISOR_UPLOAD_BUDGET_MB, VISION_ADVISOR_DECODE_BUDGET_MB).
"""

from __future__ import annotations

import os
import threading

from advisor.errors import AdvisorError

UPLOAD_ENV = "VISION_ADVISOR_UPLOAD_BUDGET_MB"
DECODE_ENV = "VISION_ADVISOR_DECODE_BUDGET_MB"


class BudgetExceededError(AdvisorError):
    """The server's budget for this kind of resource is used up by work in progress."""


class Reservation:
    """Bytes held from a budget until `release()` (idempotent; also a context manager)."""

    def __init__(self, budget: Budget, n: int) -> None:
        self.budget, self.n = budget, n

    def release(self) -> None:
        n, self.n = self.n, 0
        if n:
            self.budget._give_back(n)

    def __enter__(self) -> Reservation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class Budget:
    """A byte budget shared by every session of this process."""

    def __init__(self, env: str, default_mb: int, what: str) -> None:
        self.env, self.default_mb, self.what = env, default_mb, what
        self._lock = threading.Lock()
        self.used = 0

    @property
    def limit(self) -> int:
        raw = os.environ.get(self.env, "").strip()
        try:
            mb = float(raw) if raw else self.default_mb
        except ValueError:
            mb = self.default_mb
        return int(max(mb, 0) * 2**20)

    def reserve(self, n: int, for_what: str = "") -> Reservation:
        """Hold `n` bytes or raise BudgetExceededError (nothing held) saying what is in use."""
        n = max(int(n), 0)
        with self._lock:
            limit = self.limit
            if self.used + n > limit:
                need = f" for {for_what}" if for_what else ""
                raise BudgetExceededError(
                    f"the server's {self.what} is used up: {n / 2**20:,.0f} MiB needed{need}, "
                    f"{max(limit - self.used, 0) / 2**20:,.0f} of {limit / 2**20:,.0f} MiB free "
                    f"(set by {self.env}); try again when other work has finished")
            self.used += n
        return Reservation(self, n)

    def _give_back(self, n: int) -> None:
        with self._lock:
            self.used = max(self.used - n, 0)


UPLOADS = Budget(UPLOAD_ENV, 8192, "temporary space for unpacked uploads")
DECODED = Budget(DECODE_ENV, 4096, "memory for decoded images")
