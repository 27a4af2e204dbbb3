"""The figures an evaluation reports, each with a 95 % bootstrap interval and its image count.

Classification: top-1, top-5, NLL, Brier, ECE (15 equal-width bins on the max probability, computed
by torchmetrics as in the study), AURC and selective accuracy, reliability bins, per-class accuracy
and the most common confusions. Transfer of frozen features: k-NN and logistic-regression linear
probes under stratified k-fold cross-validation (scikit-learn), and LogME (You et al. 2021).
Intervals are percentile bootstraps over images with a fixed seed, so reruns give the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

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


def out_of_fold_correct(features: np.ndarray, labels: np.ndarray, make_model, folds: int) -> np.ndarray:
    """1/0 per image: was it classified right by a model trained on the other folds."""
    from sklearn.model_selection import StratifiedKFold

    correct = np.zeros(len(labels))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=SEED).split(features, labels):
        model = make_model(len(train)).fit(features[train], labels[train])
        correct[test] = model.predict(features[test]) == labels[test]
    return correct


def _knn(n_train: int):
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(n_neighbors=min(10, n_train), metric="cosine")


def _linear(n_train: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))


def logme(features: np.ndarray, labels: np.ndarray) -> float:
    """LogME: the mean over classes of the log maximum evidence of a Bayesian linear model on the
    features, per sample (You, Liu, Wang, Long, "LogME: Practical Assessment of Pre-trained Models for
    Transfer Learning", ICML 2021, Algorithm 1). Higher means the features fit the labels better.

    The prior precision alpha and noise precision beta are found by the paper's fixed-point iteration
    on the eigen-decomposition of F^T F, one one-vs-rest target per class.
    """
    f = np.asarray(features, dtype=np.float64)
    n, d = f.shape
    u, sv, _ = np.linalg.svd(f, full_matrices=False)  # F = U S V^T; F^T F has eigenvalues S^2 (+ zeros)
    sigma = sv**2
    r = len(sigma)
    evidences = []
    for c in np.unique(labels):
        y = (labels == c).astype(np.float64)
        uy = sv * (u.T @ y)  # V^T F^T y
        y_out = float(y @ y - (u.T @ y) @ (u.T @ y))  # part of y outside F's column space
        alpha, beta = 1.0, 1.0
        for _ in range(100):
            z = beta * uy / (alpha + beta * sigma)  # posterior mean m = V z
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


def logme_figure(f: np.ndarray, y: np.ndarray, b: int = 100) -> Figure:
    """LogME with an interval. A resample with repeated images inflates LogME (duplicates fit
    perfectly) and LogME depends on n, so the interval is the spread of LogME over the distinct images
    of each bootstrap resample (about 63 %), centred on the full-data value."""
    value = logme(f, y)
    boots = np.array([logme(f[u], y[u]) for u in (np.unique(i) for i in _resamples(len(y), b))])
    lo, hi = np.percentile(boots - boots.mean(), [2.5, 97.5])
    return Figure(value, float(value + lo), float(value + hi), len(y))


def transfer(features: np.ndarray, labels: Sequence[str] | np.ndarray, b: int = BOOTSTRAP,
             b_logme: int = 100) -> tuple[dict[str, Figure], str]:
    """k-NN and linear-probe accuracy (out-of-fold) and LogME, or an explanation why not."""
    y = np.asarray(labels)
    folds = n_folds(y)
    if not folds:
        return {}, "transfer needs at least 2 classes and 2 images in every class"
    f = np.asarray(features, dtype=np.float64)
    out = {"knn_top1": mean_figure(out_of_fold_correct(f, y, _knn, folds), b),
           "linear_probe_top1": mean_figure(out_of_fold_correct(f, y, _linear, folds), b),
           "logme": logme_figure(f, y, b_logme)}
    return out, f"{folds}-fold stratified cross-validation"
