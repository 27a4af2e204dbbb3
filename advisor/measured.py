"""Read result files of this tool's own measurements (live probes, evaluations, speed) as score rows for the ranking.

One reader for the CLI (`--measured FILE`) and the app, so both rank the same measurements the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from advisor.errors import AdvisorError, InvalidRequestError
from advisor.jsonio import loads_bounded, read_capped
from advisor.store.measured import empty_measured

MAX_RESULT_BYTES = 64 * 1024 * 1024
EVALUATION_KIND = "vision-advisor-evaluation"
BENCH_KIND = "vision-advisor-bench"


def measured_from_text(text: str | bytes, name: str = "result") -> pd.DataFrame:
    """Score rows from a probe result, an evaluation result or a speed benchmark (`advisor bench`) document."""
    doc = loads_bounded(text, what=name, max_bytes=MAX_RESULT_BYTES)
    if not isinstance(doc, dict):
        raise InvalidRequestError(f"{name}: not a probe, evaluation or bench result (expected a JSON object)")
    try:
        if doc.get("kind") == EVALUATION_KIND:
            from advisor.evaluate.result import EvaluationResult

            return EvaluationResult.from_json(text).measured_scores()
        if doc.get("kind") == BENCH_KIND:
            from advisor.evaluate.bench_result import BenchResult

            return BenchResult.from_json(text).measured_scores()
        if "rows" in doc and "models" in doc:
            from advisor.probes.results import ProbeResult

            return ProbeResult.from_json(text).measured_scores()
    except AdvisorError as exc:
        raise InvalidRequestError(f"{name}: {exc}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidRequestError(f"{name}: malformed result file ({type(exc).__name__}: {exc})") from None
    raise InvalidRequestError(f"{name}: not a probe, evaluation or bench result of this tool")


def load_measured_files(paths: Iterable[Path]) -> pd.DataFrame:
    """Every file's score rows, concatenated (a later file's rows do not replace an earlier one's)."""
    frames = [measured_from_text(read_capped(Path(p), MAX_RESULT_BYTES, what="measured result"), str(p)) for p in paths]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else empty_measured()
