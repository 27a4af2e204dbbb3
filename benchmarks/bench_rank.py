"""Ranking speed (run by hand): `python benchmarks/bench_rank.py [--quick]`.

1. The whole store, with explanations for the top 3 and 1,000-draw stability: median of 15 runs.
   Target: median under 100 ms on the 2-core dev machine.
2. Synthetic stores of 1k, 10k and 100k models: the engine and a plain pandas implementation of the
   same maths (pivot tables, one DataFrame product per weight draw), side by side in one run; prints
   per-size times and the growth ratios (linear growth = ~10x per 10x models).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from advisor.ranking.data import RankingData
from advisor.ranking.engine import RankRequest, rank
from advisor.ranking.explain import explain_top

WEIGHTS = {"accuracy": 1.0, "natural_shift": 0.8, "calibration": 0.6, "invariance": 0.5, "transfer": 0.4,
           "mistakes": 0.3, "shape_bias": 0.2, "efficiency": 0.3}
PROPS = [("imagenet_top1", ""), ("shift_top1", "imagenet-a"), ("shift_top1", "imagenet-r"),
         ("imagenet_top1", "img384"), ("ece_15bin", "imagenet"), ("calibration_error", ""),
         ("invariance_scale_top1", "2"), ("vtab_linear_probe_top1", "dtd"), ("imagenet_x_error_ratio", "pose"),
         ("shape_bias", ""), ("params_m", ""), ("throughput_gpu", "x")]


def timeit(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def synthetic(n: int, seed: int = 0) -> RankingData:
    rng = np.random.default_rng(seed)
    ids = np.array([f"timm:m{i}" for i in range(n)])
    frames = []
    for j, (prop, item) in enumerate(PROPS):
        has = rng.random(n) < (0.9 if j == 0 else 0.4)
        src = np.where(rng.random(has.sum()) < 0.7, "s1", "s2")
        frames.append(pd.DataFrame({"model_id": ids[has], "property_id": prop, "item": item,
                                    "value": rng.normal(50, 10, has.sum()), "source_id": src}))
    scores = pd.concat(frames, ignore_index=True)
    scores["value"] = scores["value"].abs() + 1
    return RankingData.from_frames(pd.DataFrame({"model_id": ids}), scores)


def pandas_reference(data: RankingData, weights: dict[str, float], draws: int, seed: int = 0) -> pd.Series:
    """The same maths written plainly with pandas: one pivot, one DataFrame product per draw."""
    f = data.features[data.features["need"].isin(weights)].copy()
    f["cov"] = f.groupby(["need", "property_id", "item", "source_id"])["model_id"].transform("size")
    f = f.sort_values(["cov", "source_id"], ascending=[False, True]).drop_duplicates(
        ["model_id", "need", "property_id", "item"])
    f["signed"] = np.where(f["hib"], f["value"], -f["value"])
    g = f.groupby(["need", "property_id", "item", "source_id"])["signed"]
    f["norm"] = (g.rank() - 0.5) / g.transform("count")
    prop = f.pivot_table(index="model_id", columns=["need", "property_id"], values="norm", aggfunc="mean")
    need = prop.T.groupby(level="need").mean().T
    w = pd.Series(weights)[need.columns]
    rng = np.random.default_rng(seed)
    wins = pd.Series(0, index=need.index)
    for _ in range(draws):
        wd = pd.Series(rng.dirichlet(w / w.sum() * 50) * w.sum(), index=w.index)
        num = need.fillna(0).dot(wd)
        cov = need.notna().astype(float).dot(wd)
        total = (num + 0.5 * (wd.sum() - cov)) / wd.sum()
        wins[total.idxmax()] += 1
    return wins / draws


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    args = ap.parse_args()
    rep = 3 if args.quick else 15
    try:
        from advisor.store.store import PropertyStore

        data = RankingData.from_store(PropertyStore())
        req = RankRequest(WEIGHTS, draws=1000)

        def whole() -> None:
            explain_top(rank(data, req), 3)

        whole()
        med = timeit(whole, rep)
        print(f"whole store ({len(data.models)} models, {len(data.features)} feature rows): "
              f"median {med * 1000:.1f} ms with explanations + 1000-draw stability (target < 100 ms)")
    except Exception as exc:
        print(f"whole store: skipped ({exc})")

    print("\nsynthetic stores, 1000 draws each; engine vs plain pandas in the same run")
    prev = None
    for n in (1_000, 10_000, 100_000):
        data = synthetic(n)
        req = RankRequest(WEIGHTS, draws=1000)
        r = max(1, rep // (3 if n >= 100_000 else 1))
        te = timeit(lambda data=data, req=req: rank(data, req), r)
        tp = timeit(lambda data=data: pandas_reference(data, WEIGHTS, 1000), 1)
        growth = f"  growth x{te / prev:.1f} for x10 models" if prev else ""
        print(f"n={n:>7}: engine {te * 1000:8.1f} ms | pandas {tp * 1000:9.1f} ms | pandas/engine "
              f"{tp / te:5.1f}x{growth}")
        prev = te


if __name__ == "__main__":
    main()
