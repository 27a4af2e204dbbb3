"""The figures an evaluation reports, each with a 95 % bootstrap interval and its image count.

Classification: top-1, top-5, NLL, Brier, ECE (15 equal-width bins on the max probability, computed
by torchmetrics as in the study), AURC and selective accuracy, reliability bins, per-class accuracy
and the most common confusions. Transfer of frozen features: k-NN and logistic-regression linear
probes under stratified k-fold cross-validation (scikit-learn), and LogME (You et al. 2021).
Intervals are percentile bootstraps over images with a fixed seed, so reruns give the same numbers
(LogME's uses fewer draws on large problems, see `logme_draws`). Long steps report their progress to a
phase callback, which may stop the work between steps (advisor.evaluate.progress).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from advisor.evaluate.progress import PhaseCallback, quiet

BOOTSTRAP = 1000
ECE_BINS = 15
SEED = 0


@dataclass(frozen=True)
class Figure:
    """One measured number with its 95 % bootstrap interval and the images behind it."""

    value: float
    ci_low: float
    ci_high: float
    n: int

    def to_dict(self) -> dict:
        return asdict(self)


def _resamples(n: int, b: int) -> np.ndarray:
    return np.random.default_rng(SEED).integers(0, n, size=(b, n))


def mean_figure(values: np.ndarray, b: int = BOOTSTRAP) -> Figure:
    """Mean of per-image values with a percentile bootstrap interval (vectorised)."""
    v = np.asarray(values, dtype=np.float64)
    if len(v) == 0:
        return Figure(float("nan"), float("nan"), float("nan"), 0)
    means = v[_resamples(len(v), b)].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return Figure(float(v.mean()), float(lo), float(hi), len(v))


def share_figure(hits: np.ndarray) -> Figure:
    """Share of 1s among 0/1 values with the Wilson score 95 % interval: on a small sample where every value
    is 1 (32 of 32 predictions agree), a bootstrap interval collapses to [1, 1]; Wilson's does not (0.89-1)."""
    from scipy.stats import binomtest

    v = np.asarray(hits, dtype=np.float64)
    if len(v) == 0:
        return Figure(float("nan"), float("nan"), float("nan"), 0)
    ci = binomtest(int(v.sum()), len(v)).proportion_ci(confidence_level=0.95, method="wilson")
    return Figure(float(v.mean()), float(ci.low), float(ci.high), len(v))


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def ece(conf: np.ndarray, correct: np.ndarray) -> float:
    """15-bin ECE on the max probability, by torchmetrics (its binary form on (confidence, correct) is
    the multiclass definition: bins over the top-1 confidence, |accuracy - confidence| weighted)."""
    import torch
    from torchmetrics.functional.classification import binary_calibration_error

    return float(binary_calibration_error(torch.as_tensor(conf, dtype=torch.float64),
                                          torch.as_tensor(correct, dtype=torch.long), n_bins=ECE_BINS, norm="l1"))


def _bins(conf: np.ndarray, bins: int = ECE_BINS) -> np.ndarray:
    """Bin of each confidence, (lo, hi] intervals as torchmetrics bucketizes them."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    return np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, bins - 1)


def ece_resampled(conf: np.ndarray, correct: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """ECE of every bootstrap resample at once (rows of idx), with torchmetrics' binning."""
    b, n = idx.shape
    which = _bins(conf)[idx] + ECE_BINS * np.arange(b)[:, None]
    gap = np.bincount(which.ravel(), (conf[idx] - correct[idx]).ravel(), minlength=b * ECE_BINS)
    return np.abs(gap.reshape(b, ECE_BINS)).sum(axis=1) / n


def _risk_resampled(conf: np.ndarray, correct: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Errors of each resample ordered most confident first (stable), shape (b, n)."""
    c = conf[idx]
    order = np.argsort(-c, axis=1, kind="stable")
    return 1.0 - np.take_along_axis(correct[idx].astype(np.float64), order, axis=1)


def aurc_resampled(conf: np.ndarray, correct: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Area under the risk-coverage curve (mean error over every coverage) per resample."""
    err = _risk_resampled(conf, correct, idx)
    return (np.cumsum(err, axis=1) / np.arange(1, err.shape[1] + 1)).mean(axis=1)


def selective_resampled(conf: np.ndarray, correct: np.ndarray, idx: np.ndarray, coverage: float) -> np.ndarray:
    """Accuracy on the `coverage` share of images the model is most confident about, per resample."""
    err = _risk_resampled(conf, correct, idx)
    k = max(1, round(coverage * err.shape[1]))
    return 1.0 - err[:, :k].mean(axis=1)


def vector_figure(stat: Callable[[np.ndarray], np.ndarray], n: int, b: int = BOOTSTRAP,
                  point: float | None = None) -> Figure:
    """A statistic computed for all resamples at once (stat maps (b, n) indices -> (b,) values)."""
    if n == 0:
        return Figure(float("nan"), float("nan"), float("nan"), 0)
    lo, hi = np.percentile(stat(_resamples(n, b)), [2.5, 97.5])
    value = float(stat(np.arange(n)[None, :])[0]) if point is None else point
    return Figure(value, float(lo), float(hi), n)


def reliability(conf: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS) -> list[dict]:
    """The reliability diagram: per equal-width confidence bin, count, mean confidence, accuracy."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = _bins(conf, bins)
    out = []
    for i in range(bins):
        m = which == i
        out.append({"bin_low": float(edges[i]), "bin_high": float(edges[i + 1]), "count": int(m.sum()),
                    "confidence": float(conf[m].mean()) if m.any() else None,
                    "accuracy": float(correct[m].mean()) if m.any() else None})
    return out


def classification(logits: np.ndarray, targets: np.ndarray, class_names: Sequence[str],
                   b: int = BOOTSTRAP) -> dict:
    """Every classification figure for one model; `targets` index the logits' classes."""
    probs = softmax(logits)
    t = np.asarray(targets, dtype=np.int64)
    n = len(t)
    pred = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    correct = (pred == t).astype(np.float64)
    k = min(5, probs.shape[1])
    top5 = (np.argsort(-probs, axis=1, kind="stable")[:, :k] == t[:, None]).any(axis=1).astype(np.float64)
    p_true = probs[np.arange(n), t]
    nll = -np.log(np.clip(p_true, 1e-300, None))
    onehot = np.zeros_like(probs)
    onehot[np.arange(n), t] = 1.0
    brier = ((probs - onehot) ** 2).sum(axis=1)
    metrics = {
        "top1": mean_figure(correct, b), "top5": mean_figure(top5, b), "nll": mean_figure(nll, b),
        "brier": mean_figure(brier, b),
        "ece": vector_figure(lambda i: ece_resampled(conf, correct, i), n, b, point=ece(conf, correct)),
        "aurc": vector_figure(lambda i: aurc_resampled(conf, correct, i), n, b),
        "selective_top1_80": vector_figure(lambda i: selective_resampled(conf, correct, i, 0.8), n, b),
        "selective_top1_50": vector_figure(lambda i: selective_resampled(conf, correct, i, 0.5), n, b),
    }
    per_class = []
    for c in np.unique(t):
        m = t == c
        per_class.append({"class": class_names[c], "index": int(c), "n": int(m.sum()),
                          "correct": int(correct[m].sum()), "accuracy": float(correct[m].mean())})
    pairs: dict[tuple[int, int], int] = {}
    for a, p in zip(t[pred != t], pred[pred != t], strict=True):
        pairs[(int(a), int(p))] = pairs.get((int(a), int(p)), 0) + 1
    confusions = [{"true": class_names[a], "predicted": class_names[p], "count": c}
                  for (a, p), c in sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[:20]]
    return {"metrics": metrics, "reliability": reliability(conf, correct), "per_class": per_class,
            "confusions": confusions, "correct": int(correct.sum()), "pred": pred}


# ---- transfer of frozen features --------------------------------------------------------------------

def n_folds(labels: np.ndarray, max_folds: int = 5) -> int:
    """Folds for stratified CV: at most 5, at most the smallest class count (0 if a class has 1 image)."""
    _, counts = np.unique(labels, return_counts=True)
    k = min(max_folds, int(counts.min())) if len(counts) > 1 else 0
    return k if k >= 2 else 0


def out_of_fold_correct(features: np.ndarray, labels: np.ndarray, make_model, folds: int,
                        fold_done: Callable[[], None] | None = None) -> np.ndarray:
    """1/0 per image: was it classified right by a model trained on the other folds."""
    from sklearn.model_selection import StratifiedKFold

    correct = np.zeros(len(labels))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=SEED).split(features, labels):
        model = make_model(len(train)).fit(features[train], labels[train])
        correct[test] = model.predict(features[test]) == labels[test]
        if fold_done:
            fold_done()
    return correct


def _knn(n_train: int):
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(n_neighbors=min(10, n_train), metric="cosine")


def _linear(n_train: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))


def _spectrum(f: np.ndarray, gram: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(U, s) of F = U S V^T for the nonzero singular values, from the smaller of F F^T (`gram`, when
    given, is F F^T already) and F^T F: eigh is several times faster than an SVD, LogME needs only U, s."""
    n, d = f.shape
    if n <= d:
        w, u = np.linalg.eigh(f @ f.T if gram is None else gram)
    else:
        w, v = np.linalg.eigh(f.T @ f)
        u = None
    keep = w > max(float(w.max(initial=0.0)), 1e-300) * 1e-10
    sv = np.sqrt(w[keep])
    u = u[:, keep] if u is not None else (f @ v[:, keep]) / sv
    return u, sv


LOGME_MAX_STEPS = 11  # fixed-point steps, as the authors' code (thuml/LogME: "converges after at most 10")


def _evidence(u: np.ndarray, sv: np.ndarray, y: np.ndarray, d: int) -> float:
    """Mean per-sample log evidence over the one-vs-rest targets `y` (n x C), every class iterated at once
    (only those not yet settled), each stopping when its own alpha/beta settles (1e-3) or after
    LOGME_MAX_STEPS steps (features that do not fit a class, e.g. noise, never settle).

    Every quantity of the fixed point depends on alpha and beta only through t = alpha/beta, with the
    weights w = (U^T y)^2: gamma = sum s2/(t+s2), |m|^2 = sum s2 w/(t+s2)^2, |residual|^2 = t^2 sum
    w/(t+s2)^2 + |y outside F's columns|^2, so one step is two passes over (r x classes) and matrix-vector
    products (the textbook form took 12 passes and most of LogME's time for 1,000 classes)."""
    n = len(y)
    sigma = sv**2
    w = (u.T @ y) ** 2  # r x C
    y_out = y.sum(axis=0) - w.sum(axis=0)  # part of y outside F's column space (y is 0/1)
    c = y.shape[1]
    alpha, beta = np.ones(c), np.ones(c)

    def fit(t: np.ndarray, cols) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        q = 1.0 / (t + sigma[:, None])  # r x k
        wq2 = w[:, cols] * q * q
        return sigma @ wq2, t**2 * wq2.sum(axis=0) + y_out[cols], sigma @ q

    active = np.arange(c)
    for _ in range(LOGME_MAX_STEPS):
        a, b = alpha[active], beta[active]
        m2, res2, gamma = fit(a / b, active)
        new_alpha, new_beta = gamma / (m2 + 1e-12), (n - gamma) / (res2 + 1e-12)
        done = np.abs(new_alpha / new_beta - a / b) / (a / b) < 1e-3
        alpha[active], beta[active] = new_alpha, new_beta
        active = active[~done]
        if not len(active):
            break
    t = alpha / beta
    m2, res2, _ = fit(t, slice(None))
    logdet = len(sv) * np.log(beta) + np.log(t + sigma[:, None]).sum(axis=0) + (d - len(sv)) * np.log(alpha)
    ev = (d / 2 * np.log(alpha) + n / 2 * np.log(beta) - 0.5 * logdet
          - beta / 2 * res2 - alpha / 2 * m2 - n / 2 * np.log(2 * np.pi))
    return float(np.mean(ev / n))


def _one_vs_rest(labels: np.ndarray) -> np.ndarray:
    labels = np.asarray(labels)
    return (labels[:, None] == np.unique(labels)[None, :]).astype(np.float64)


def logme(features: np.ndarray, labels: np.ndarray) -> float:
    """LogME: the mean over classes of the log maximum evidence of a Bayesian linear model on the
    features, per sample (You, Liu, Wang, Long, "LogME: Practical Assessment of Pre-trained Models for
    Transfer Learning", ICML 2021, Algorithm 1). Higher means the features fit the labels better.

    The prior precision alpha and noise precision beta are found by the paper's fixed-point iteration
    on the eigen-decomposition of F^T F, one one-vs-rest target per class.
    """
    f = np.asarray(features, dtype=np.float64)
    u, sv = _spectrum(f)
    return _evidence(u, sv, _one_vs_rest(labels), f.shape[1])


LOGME_DRAWS = 100  # bootstrap draws for LogME's interval on small problems
LOGME_MIN_DRAWS = 10
LOGME_PERCENTILE_DRAWS = 40  # from this many draws the interval is their percentiles, below a normal one
LOGME_BUDGET = 2e11  # floating-point operations for all draws together; larger problems get fewer draws


def logme_draws(n: int, d: int, n_classes: int, most: int = LOGME_DRAWS) -> int:
    """Bootstrap draws for LogME's interval: `most` when cheap, fewer (not under LOGME_MIN_DRAWS) as one
    draw's cost (its eigendecomposition and the per-class iteration) grows with the problem."""
    m = max(1, int(0.632 * n))  # distinct images in a resample
    k = min(m, d)
    cost = 10 * k**3 + 20 * k * n_classes * 30
    return int(min(most, max(LOGME_MIN_DRAWS, LOGME_BUDGET // max(cost, 1))))


def logme_figure(f: np.ndarray, y: np.ndarray, b: int | None = None, report: PhaseCallback = quiet) -> Figure:
    """LogME with an interval. A resample with repeated images inflates LogME (duplicates fit
    perfectly) and LogME depends on n, so the interval is the spread of LogME over the distinct images
    of each bootstrap resample (about 63 %), centred on the full-data value: the 2.5-97.5 percentiles of
    the draws, or with fewer than 40 draws (large problems, see `logme_draws`) +-1.96 standard deviations.
    F F^T is computed once and each draw takes its submatrix. `report` hears each draw (and may stop)."""
    f = np.asarray(f, dtype=np.float64)
    y = np.asarray(y)
    n, d = f.shape
    report("bootstrap", 0.0, "LogME on every image")
    gram = f @ f.T if int(0.632 * n) <= d and n <= 8192 else None  # the draws' Gram matrices are its blocks
    onehot = _one_vs_rest(y)
    value = _evidence(*_spectrum(f, gram), onehot, d)
    b = logme_draws(n, d, onehot.shape[1]) if b is None else b
    boots = []
    for j, i in enumerate(_resamples(n, b)):
        u = np.unique(i)
        sub = onehot[u][:, onehot[u].any(axis=0)]
        g = gram[np.ix_(u, u)] if gram is not None and len(u) <= d else None
        boots.append(_evidence(*_spectrum(f[u], g), sub, d))
        report("bootstrap", (j + 1) / b, f"LogME interval: draw {j + 1}/{b}")
    spread = np.array(boots) - np.mean(boots)
    if b >= LOGME_PERCENTILE_DRAWS:
        lo, hi = np.percentile(spread, [2.5, 97.5])
    else:
        hi = 1.96 * float(np.std(boots, ddof=1)) if b > 1 else 0.0
        lo = -hi
    return Figure(value, float(value + lo), float(value + hi), n)


def transfer(features: np.ndarray, labels: Sequence[str] | np.ndarray, b: int = BOOTSTRAP,
             b_logme: int | None = None, report: PhaseCallback = quiet) -> tuple[dict[str, Figure], str]:
    """k-NN and linear-probe accuracy (out-of-fold) and LogME, or an explanation why not. `report`
    hears each fold (cross-validation) and each LogME draw (bootstrap), and may stop the work."""
    y = np.asarray(labels)
    folds = n_folds(y)
    if not folds:
        return {}, "transfer needs at least 2 classes and 2 images in every class"
    f = np.asarray(features, dtype=np.float64)
    steps = [0, 2 * folds]

    def fold_done(what: str) -> None:
        steps[0] += 1
        report("cross-validation", steps[0] / steps[1], f"{what}: fold {(steps[0] - 1) % folds + 1}/{folds}")

    report("cross-validation", 0.0, f"{folds}-fold cross-validation")
    f32 = f.astype(np.float32)  # the features' own precision (models give fp32): the probes run 1.7x faster
    knn = out_of_fold_correct(f32, y, _knn, folds, lambda: fold_done("k-NN"))
    linear = out_of_fold_correct(f32, y, _linear, folds, lambda: fold_done("linear probe"))
    out = {"knn_top1": mean_figure(knn, b), "linear_probe_top1": mean_figure(linear, b),
           "logme": logme_figure(f, y, b_logme, report)}
    return out, f"{folds}-fold stratified cross-validation"
