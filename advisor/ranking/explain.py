"""Plain-language reasons: why a model ranks where it does, and why A over B."""

from __future__ import annotations

import math

import pandas as pd

from advisor.ranking.engine import Ranking
from advisor.ranking.needs import need_label
from advisor.ranking.predict import interval80

STRONG, WEAK = 0.9, 0.3  # need percentile among candidates


def _label(need: str) -> str:
    label = need_label(need)
    return label if label[:2].isupper() or label.startswith("ImageNet") else label[0].lower() + label[1:]


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


SMALL_POOL = 30  # below this many models with data, say "3rd of 12", never a percentile


def _standing(r) -> str:
    """'calibrated confidences: best of the 4 candidates with data (source: study)' or 'top 3% of 1,203 ...'."""
    n = int(getattr(r, "n_with_data", 0) or 0)
    src = getattr(r, "source_id", "") or ""
    where = f" (source: {src})" if src else ""
    if n == 0:
        return _label(r.need)
    pos = max(1, round(n * (1 - r.need_percentile)) + 1)
    if n < SMALL_POOL:
        place = "best" if pos == 1 else _ordinal(pos)
        return f"{_label(r.need)}: {place} of the {n} candidates with data{where}, thin evidence"
    share = math.ceil(100 * (1 - r.need_percentile + 1 / n) - 1e-9)
    return f"{_label(r.need)}: top {share}% of the {n:,} candidates with data{where}"


def _interval(r) -> str:
    """' (0.41-0.77)': the 80 % interval the benchmark checks (predict.interval80), where the row has an sd."""
    sd = getattr(r, "sd", float("nan"))
    if not math.isfinite(sd):  # NaN or absent
        return ""
    lo, hi = interval80(r.need_score, sd)
    return f" ({float(lo):.2f}-{float(hi):.2f})"


def explain_model(ranking: Ranking, model_id: str) -> str:
    """One sentence: strengths among the needs weighted most, weaknesses, missing data, stability."""
    row = ranking.table.loc[ranking.table["model_id"] == model_id].iloc[0]
    c = ranking.contributions[ranking.contributions["model_id"] == model_id].sort_values("weight", ascending=False)
    top_w = c["weight"].max()
    strong = c[c["has_data"] & (c["need_percentile"] >= STRONG)]
    weak = c[c["has_data"] & (c["need_percentile"] <= WEAK)]
    status = c["status"] if "status" in c else pd.Series("", index=c.index)
    predicted = c[status.eq("predicted")]
    missing = c[~c["has_data"] & ~status.eq("predicted")]
    parts = [f"Ranked {_ordinal(int(row['rank']))} of {len(ranking.table)} (score {row['score']:.2f})"]
    if len(strong):
        heavy = strong[strong["weight"] >= 0.5 * top_w]
        chosen = heavy if len(heavy) else strong
        who = " (needs you weighted most)" if len(heavy) else ""
        parts.append(f" because of {_join([_standing(r) for r in chosen.itertuples(index=False)])}{who}")
    elif len(c[c["has_data"]]):
        best = c[c["has_data"]].sort_values("contribution", ascending=False).iloc[0]
        parts.append(f"; its largest contribution is {_label(best['need'])}")
    text = "".join(parts)
    if len(weak):
        text += f"; weak on {_join([_label(n) for n in weak['need']])}"
    if len(predicted):
        est = ", ".join(f"{_label(r.need)} {r.need_score:.2f}{_interval(r)}"
                        for r in predicted.itertuples(index=False))
        text += f"; predicted, not measured: {est} (80 % interval; from ImageNet top-1 and training paradigm)"
    if len(missing):
        text += f"; no data for {_join([_label(n) for n in missing['need']])} (counted as average)"
    text += f". Measurements cover {row['coverage']:.0%} of the weight you set"
    if ranking.request.draws > 0:
        close = "" if row["stable"] else ", a close call"
        text += f"; first in {row['top1_share']:.0%} of perturbed weightings{close}"
    return text + "."


def head_to_head(ranking: Ranking, a: str, b: str) -> tuple[str, pd.DataFrame]:
    """Why A over B: per-need contribution differences, largest first."""
    c = ranking.contributions
    ca = c[c["model_id"] == a].set_index("need")
    cb = c[c["model_id"] == b].set_index("need")
    diff = pd.DataFrame({"weight": ca["weight"], a: ca["contribution"], b: cb["contribution"],
                         "a_has_data": ca["has_data"], "b_has_data": cb["has_data"]})
    diff["difference"] = diff[a] - diff[b]
    diff = diff.sort_values("difference", ascending=False)
    ta = ranking.table.set_index("model_id")
    gap = ta.loc[a, "score"] - ta.loc[b, "score"]
    pro = [_label(n) for n, d in diff["difference"].items() if d > 1e-9][:3]
    con = [_label(n) for n, d in diff["difference"][::-1].items() if d < -1e-9][:3]
    text = f"{a} leads {b} by {gap:.3f}"
    if pro:
        text += f", mainly on {_join(pro)}"
    if con:
        text += f"; {b} is better on {_join(con)}"
    return text + ".", diff.reset_index()


def explain_top(ranking: Ranking, n: int = 3) -> dict[str, str]:
    return {m: explain_model(ranking, m) for m in ranking.table["model_id"].head(n)}
