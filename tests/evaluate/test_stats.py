"""The evaluation's statistics against hand-computed values and a plain reference implementation."""

from __future__ import annotations

import numpy as np
import pytest

from advisor.evaluate import stats
from advisor.evaluate.progress import CancelToken, EvaluationCancelled, Phases


def _logme_reference(features: np.ndarray, labels: np.ndarray) -> float:
    """LogME as Algorithm 1 of You et al. (2021) writes it: an SVD, one class at a time (at most 11
    fixed-point steps, as the authors' code)."""
    f = np.asarray(features, dtype=np.float64)
    n, d = f.shape
    u, sv, _ = np.linalg.svd(f, full_matrices=False)
    sigma = sv**2
    r = len(sigma)
    evidences = []
    for c in np.unique(labels):
        y = (labels == c).astype(np.float64)
        uy = sv * (u.T @ y)
        y_out = float(y @ y - (u.T @ y) @ (u.T @ y))
        alpha, beta = 1.0, 1.0
        for _ in range(stats.LOGME_MAX_STEPS):
            z = beta * uy / (alpha + beta * sigma)
            gamma = float((beta * sigma / (alpha + beta * sigma)).sum())
            m2, res2 = float(z @ z), float(((sv * z - u.T @ y) ** 2).sum()) + y_out
            new_alpha, new_beta = gamma / (m2 + 1e-12), (n - gamma) / (res2 + 1e-12)
            done = abs(new_alpha / new_beta - alpha / beta) / (alpha / beta) < 1e-3
            alpha, beta = new_alpha, new_beta
            if done:
                break
        z = beta * uy / (alpha + beta * sigma)
        m2, res2 = float(z @ z), float(((sv * z - u.T @ y) ** 2).sum()) + y_out
        logdet = np.log(alpha + beta * sigma).sum() + (d - r) * np.log(alpha)
        ev = (d / 2 * np.log(alpha) + n / 2 * np.log(beta) - 0.5 * logdet
              - beta / 2 * res2 - alpha / 2 * m2 - n / 2 * np.log(2 * np.pi))
        evidences.append(ev / n)
    return float(np.mean(evidences))


@pytest.mark.parametrize("n,d,c", [(60, 8, 3), (40, 100, 5), (200, 50, 40)])
def test_vectorised_logme_equals_the_per_class_reference(n, d, c):
    rng = np.random.default_rng(n + d)
    y = np.arange(n) % c
    f = rng.standard_normal((n, d)) + 2.0 * np.eye(c)[y] @ rng.standard_normal((c, d))
    assert stats.logme(f, y) == pytest.approx(_logme_reference(f, y), rel=1e-6, abs=1e-9)


def test_logme_draws_shrink_with_the_problem_but_not_below_the_floor():
    assert stats.logme_draws(100, 64, 5) == stats.LOGME_DRAWS
    big = stats.logme_draws(2000, 1280, 1000)
    assert stats.LOGME_MIN_DRAWS <= big < stats.LOGME_DRAWS
    assert stats.logme_draws(10**6, 4096, 1000) == stats.LOGME_MIN_DRAWS


def test_transfer_reports_each_phase_and_stops_when_cancelled():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(6), 5).astype(str)
    f = rng.standard_normal((30, 8))
    seen: list[tuple[str, float]] = []
    stats.transfer(f, y, b=50, b_logme=5, report=Phases(lambda p, x, t: seen.append((p, x))))
    phases = [p for p, _ in seen]
    assert phases[0] == "cross-validation" and "bootstrap" in phases
    assert max(x for p, x in seen if p == "cross-validation") == 1.0
    assert [x for p, x in seen if p == "bootstrap"][-1] == 1.0
    token = CancelToken()
    calls = []

    def stop_after_three(p, x, t):
        calls.append(p)
        if len(calls) == 3:
            token.cancel()

    with pytest.raises(EvaluationCancelled):
        stats.transfer(f, y, b=50, b_logme=50, report=Phases(stop_after_three, token))
    assert len(calls) == 3  # nothing ran past the step after the cancel


# ---- selective prediction and probability scores, computed by hand ----------------------------------

CONF = np.array([0.9, 0.8, 0.7, 0.6])
CORRECT = np.array([1.0, 0.0, 1.0, 0.0])


def test_aurc_by_hand():
    """Most confident first: errors 0,1,0,1; risk at coverage 1..4 = 0, 1/2, 1/3, 2/4; mean = 4/3/4 = 1/3.
    Catches the mutant that orders least confident first (risks 1, 1/2, 2/3, 2/4: 0.6667)."""
    idx = np.arange(4)[None, :]
    assert stats.aurc_resampled(CONF, CORRECT, idx)[0] == pytest.approx((0 + 1 / 2 + 1 / 3 + 2 / 4) / 4)


def test_selective_accuracy_by_hand():
    """Top 50 % by confidence: images 0 (right) and 1 (wrong): 0.5; top 25 %: image 0 only: 1.0.
    Catches the mutant that keeps the least confident share (top 50 % of it = images 3, 2: 0.5; 25 %: 0.0)."""
    idx = np.arange(4)[None, :]
    assert stats.selective_resampled(CONF, CORRECT, idx, 0.5)[0] == pytest.approx(0.5)
    assert stats.selective_resampled(CONF, CORRECT, idx, 0.25)[0] == pytest.approx(1.0)
    assert stats.selective_resampled(CONF, CORRECT, idx, 1.0)[0] == pytest.approx(0.5)


def test_brier_and_nll_by_hand():
    """Two images, three classes. Image 0: p = (0.7, 0.2, 0.1), true 0: Brier 0.09 + 0.04 + 0.01 = 0.14.
    Image 1: p = (0.5, 0.25, 0.25), true 2: Brier 0.25 + 0.0625 + 0.5625 = 0.875. Mean 0.5075.
    NLL: (-ln 0.7 - ln 0.25) / 2. Catches the mutant that leaves out the one-hot target (Brier of p alone)."""
    probs = np.array([[0.7, 0.2, 0.1], [0.5, 0.25, 0.25]])
    out = stats.classification(np.log(probs), np.array([0, 2]), ["a", "b", "c"], b=20)["metrics"]
    assert out["brier"].value == pytest.approx(0.5075)
    assert out["nll"].value == pytest.approx((-np.log(0.7) - np.log(0.25)) / 2)
    assert out["top1"].value == pytest.approx(0.5)
    assert out["aurc"].value == pytest.approx((0 + 1 / 2) / 2)  # right at 0.7 first, then wrong at 0.5
