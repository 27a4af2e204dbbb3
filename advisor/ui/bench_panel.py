"""'Measure speed here': the Model card's and Compare's button for `advisor.evaluate.latency.bench`.

Only wiring: the settings widgets, a progress bar, the result table. The result stays in the session
(state.BENCH_RESULT, merged over runs in one setting) so the ranking and the report use it as efficiency
measured here, exactly as `advisor rank --measured bench.json` does.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from advisor.evaluate.bench_result import DEFAULT_REPEATS, BenchResult, merge_results
from advisor.ui import components, state

PRECISIONS = ("fp32", "bf16", "auto")


def speed_panel(model_ids: Sequence[str], key: str) -> None:
    """Settings, the button, and this session's speed figures for `model_ids`; `key` keeps widgets apart."""
    ids = list(dict.fromkeys(model_ids))
    s = st.session_state
    with st.expander("Speed on this machine", icon=":material/speed:", expanded=_has(s.get(state.BENCH_RESULT), ids)):
        st.caption("Batch-1 latency, throughput at a batch size and peak memory, measured here as timm's benchmark "
                   "script does (warm-up, then the median of repeated passes). The figures compare models with "
                   "each other on this machine only; they join the ranking's efficiency need as measured here.")
        c1, c2, c3 = st.columns(3)
        batch = c1.number_input("Batch size (throughput)", 1, 512, 32, key=f"{key}_bench_batch")
        repeats = c2.number_input("Timed passes (at least)", 3, 500, DEFAULT_REPEATS, key=f"{key}_bench_repeats",
                                  help="More run until each figure has been timed for a few seconds.")
        precision = c3.selectbox("Precision", PRECISIONS, key=f"{key}_bench_precision",
                                 help="fp32 by default; bf16 (or auto: bf16 where this CPU runs it faster) on request.")
        label = "Measure speed here" if len(ids) == 1 else f"Measure speed of these {len(ids)} models here"
        if st.button(label, key=f"{key}_bench_run", icon=":material/timer:"):
            with components.user_errors():
                _run(ids, int(batch), int(repeats), str(precision))
        result = s.get(state.BENCH_RESULT)
        if _has(result, ids):
            shown = result.table()
            st.dataframe(shown[shown["model"].isin(ids)], hide_index=True, width="stretch",
                         column_config={c: st.column_config.NumberColumn(format="%.4g") for c in shown.columns[3:]})
            st.caption(f"Measured on {result.setting()}, torch {result.torch_version}; latency at batch 1, "
                       f"throughput at batch {result.batch_size}; each the median of at least {result.repeats} "
                       f"passes timed over at least {result.min_time_s:g} s. "
                       f"Peak memory: {result.memory_method}.")
            for note in result.notes:
                st.caption(f"Note: {note}.")


def _has(result: BenchResult | None, ids: list[str]) -> bool:
    return result is not None and any(m.model_id in ids for m in result.models)


def _run(ids: list[str], batch: int, repeats: int, precision: str) -> None:
    from advisor.evaluate import latency  # torch: loaded on the first click, not with the page

    bar = st.progress(0.0, text="Loading…")
    result = latency.bench(ids, batch_size=batch, repeats=repeats, precision=precision,
                           progress=lambda f, msg: bar.progress(min(max(f, 0.0), 1.0), text=msg))
    bar.empty()
    for msg in result.errors:
        st.warning(msg, icon=":material/warning:")
    if result.models:
        st.session_state[state.BENCH_RESULT] = merge_results(st.session_state.get(state.BENCH_RESULT), result)
