"""The words for every metric a chart, table or report shows: one table, read by the app and the report."""

from __future__ import annotations

# Live-probe metrics (ProbeResult columns) -> axis / tab label.
PROBE_METRIC_LABELS = {"top1_agreement": "Top-1 agreement", "prob_kept": "Probability kept",
                       "kl": "KL divergence from the original", "cosine": "Embedding cosine similarity"}

PCT, PLAIN = 100.0, 1.0
# Evaluation metrics (EvaluationResult.metrics keys) -> (column label, display scale).
CLASSIFICATION_METRICS = {"top1": ("top-1 %", PCT), "top5": ("top-5 %", PCT), "ece": ("ECE", PLAIN),
                          "nll": ("NLL", PLAIN), "brier": ("Brier", PLAIN), "aurc": ("AURC", PLAIN)}
TRANSFER_METRICS = {"knn_top1": ("k-NN top-1 %", PCT), "linear_probe_top1": ("linear probe top-1 %", PCT),
                    "logme": ("LogME", PLAIN)}
# What each evaluation figure means, shown only next to a table that has that figure.
EVALUATION_HELP = {
    "ECE": "ECE: expected calibration error, 15 equal-width bins on the top probability (0 = confidence "
           "matches accuracy).",
    "NLL": "NLL: mean negative log-likelihood of the true class.",
    "Brier": "Brier: mean squared error of the probabilities.",
    "AURC": "AURC: area under the risk-coverage curve (lower = the model knows when it is wrong).",
    "LogME": "LogME: evidence that a linear model on the frozen features fits your labels (higher is better).",
}

