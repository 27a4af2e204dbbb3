"""`evaluate`: measure models on the user's labelled images and turn the outputs into figures.

Work goes through an executor: "local" (default) runs one task per shard with every model, so each
image is decoded once for all of them; "ray" runs one task per (model, shard) on a Ray cluster
(RAY_ADDRESS, or a local instance when unset). The shards and batches are the same either way, and the
outputs are merged by image hash before any figure is computed, so both give the same result.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from advisor.errors import AdvisorError, InvalidRequestError
from advisor.evaluate import stats
from advisor.evaluate.data import LabelledData, imagenet_class_names, load_labelled
from advisor.evaluate.files import inside
from advisor.evaluate.labels_csv import capped
from advisor.evaluate.loader import agreement_sample, resolve_run, with_fp32_agreement
from advisor.evaluate.outputs import REF, SHARD_SIZE, CacheIndex, TaskOutput, TaskSpec, run_task
from advisor.evaluate.progress import CancelToken, EvaluationCancelled, PhaseCallback, Phases, quiet
from advisor.evaluate.ray_connect import call_with_deadline, check_reachable
from advisor.evaluate.result import EvaluationResult, InvariancePoint, ModelEvaluation
from advisor.evaluate.zero_shot import ZeroShotOptions, zero_shot_logits

Progress = Callable[[float, str], None]
EXECUTORS = ("local", "ray")
MAX_MESSAGES = 50  # file and model problems listed one by one in a result; the rest are counted
__all__ = ["EvaluationCancelled", "evaluate"]


def shards(samples: Sequence, size: int = SHARD_SIZE) -> list[tuple]:
    return [tuple(samples[i:i + size]) for i in range(0, len(samples), size)]


class LocalExecutor:
    """Runs tasks in this process, one after the other."""

    name = "local"

    def map(self, tasks: list[TaskSpec], progress: Callable[..., None]) -> list[TaskOutput]:
        index = CacheIndex()  # the cache is read once per run, whatever the number of shards
        return [run_task(t, lambda n, model, i=i: progress(n, f"{model} done on shard {i + 1}/{len(tasks)}"),
                         index) for i, t in enumerate(tasks)]


class RayExecutor:
    """Runs (model x shard) tasks on Ray: RAY_ADDRESS if set, else a local instance (`num_cpus`)."""

    name = "ray"

    def __init__(self, num_cpus: int | None = None, device: str = "auto") -> None:
        self.num_cpus = num_cpus
        self.device = device  # as requested: "auto" or "cuda" use the cluster's GPUs when it has them

    def map(self, tasks: list[TaskSpec], progress: Callable[..., None]) -> list[TaskOutput]:
        try:
            import ray
        except ImportError:
            raise InvalidRequestError("--executor ray needs Ray: pip install 'vision-advisor[ray]'") from None
        if not ray.is_initialized():
            address = os.environ.get("RAY_ADDRESS") or None
            root = str(Path(__file__).resolve().parents[2])  # workers import advisor from this checkout
            env = {"PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)}
            for k in ("HF_HUB_OFFLINE", "HF_HUB_CACHE", "HF_HOME", "VISION_ADVISOR_CACHE", "TORCH_HOME"):
                if k in os.environ:
                    env[k] = os.environ[k]
            kwargs = {"address": address, "num_cpus": None if address else self.num_cpus,
                      "runtime_env": {"env_vars": env}, "log_to_driver": False}
            if address:  # a remote cluster: reachable, and answering within a deadline, or a message
                check_reachable(address)
                call_with_deadline(lambda: ray.init(**kwargs), address)
            else:
                ray.init(**kwargs, include_dashboard=False)
        from advisor.models.device import ray_gpus_per_task

        gpus = ray_gpus_per_task(self.device, ray.cluster_resources().get("GPU", 0))
        remote = ray.remote(num_cpus=1, num_gpus=gpus)(run_task)
        import torch

        # The driver's thread count in every task: the same oneDNN reduction order, so the same bits.
        threads = torch.get_num_threads()
        split = [TaskSpec(**{**t.__dict__, "model_ids": (m,), "threads": t.threads or threads,
                             **({"device": "cuda"} if gpus else {})})
                 for t in tasks for m in t.model_ids]
        refs = [remote.remote(t) for t in split]
        pending, done = list(refs), {}
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            out = ray.get(ready[0])
            done[ready[0]] = out
            progress(len(out.shas), f"{len(done)}/{len(refs)} (model, shard) tasks")
        return [done[r] for r in refs]


def make_executor(name: str, num_cpus: int | None = None, device: str = "auto") -> LocalExecutor | RayExecutor:
    if name == "local":
        return LocalExecutor()
    if name == "ray":
        return RayExecutor(num_cpus, device)
    raise InvalidRequestError(f"unknown executor {name!r}; choose from {', '.join(EXECUTORS)}")


def _progress_bar(total: int, progress: Progress | None, show_bar: bool,
                  report: Phases | None = None) -> Callable[..., None]:
    """A step(n, where) that advances tqdm and calls `progress(fraction, text)` and the extraction phase;
    either may raise EvaluationCancelled, which stops the run between (model, shard) steps."""
    from tqdm.auto import tqdm

    bar = tqdm(total=total, unit="img", desc="evaluate", disable=not show_bar, file=sys.stderr)
    done = [0]

    def step(n: int, where: str = "") -> None:
        done[0] += n
        bar.update(n)
        if done[0] >= total:
            bar.close()
        text = f"{done[0]}/{total} (model, image) pairs" + (f" · {where}" if where else "")
        if report:
            report("extraction", done[0] / max(1, total), text)
        if progress:
            progress(min(1.0, done[0] / max(1, total)), text)
    if progress:
        progress(0.0, f"0/{total} (model, image) pairs")  # a chance to cancel before the first model loads
    return step


def evaluate(data: str | Path, model_ids: Sequence[str], *, families: Sequence[str] = (),
             published_top1: Mapping[str, float] | None = None, executor: str = "local",
             num_cpus: int | None = None, cache_root: str | Path | None = None, label_set: str = "auto",
             allow_random: bool = False, download: bool = False, progress: Progress | None = None,
             show_bar: bool = False, shard_size: int = SHARD_SIZE, within: str | Path | None = None,
             phases: PhaseCallback | None = None, cancel: CancelToken | None = None, precision: str = "fp32",
             device: str = "auto", zero_shot: ZeroShotOptions | None = None) -> EvaluationResult:
    """Measure each model on DATA: classification figures when labels name ImageNet classes (or, for
    CLIP, your class names: `zero_shot` renames them and picks the prompts), frozen-feature transfer
    otherwise, invariance for `families`. fp32 unless `precision` asks otherwise (then each model's top-1
    agreement with fp32 on a sample is recorded); `device` 'auto' takes a GPU when there is one.

    `within`: every file must resolve inside this folder (an upload, an allowed server folder); the
    result names DATA relative to it (never the server's temporary path).
    `phases(phase, fraction, text)` hears extraction, cross-validation, bootstrap and report; it or a
    cancelled `cancel` token stops the work between steps (EvaluationCancelled)."""
    from advisor.models.locations import cache_dir
    from advisor.models.registry import parse_model_id
    from advisor.probes.transforms import get_family

    t0 = time.perf_counter()
    if not model_ids:
        raise InvalidRequestError("give at least one --model")
    canon = list(dict.fromkeys(parse_model_id(m).model_id for m in model_ids))
    fams = tuple(get_family(f).name for f in families)
    dev, prec = resolve_run(device, precision)
    report = Phases(phases, cancel)
    report("extraction", 0.0, "reading the labels")
    labelled = load_labelled(data, label_set, within)
    errors: list[str] = [] if labelled.imagenet is not None or label_set == "own" else [f"note: {labelled.note}"]
    errors += labelled.problems
    if download:
        from advisor.models.download import ensure_weights

        for m in canon:
            try:
                ensure_weights(m, progress, download=True)
            except EvaluationCancelled:
                raise
            except AdvisorError as e:
                errors.append(str(e))
    root = str(cache_root if cache_root is not None else cache_dir() / "evaluate")
    sample = agreement_sample([s.name for s in labelled.samples]) if prec != "fp32" else []
    wanted = set(sample)  # each shard runs its part of the agreement sample in fp32 too
    tasks = [TaskSpec(tuple(canon), s, fams, root, prec, dev, allow_random=allow_random,
                      within=str(within) if within is not None else "",
                      exact=tuple(x.name for x in s if x.name in wanted))
             for s in shards(labelled.samples, shard_size)]
    step = _progress_bar(len(labelled.samples) * len(canon), progress, show_bar, report)
    outputs = make_executor(executor, num_cpus, device).map(tasks, step)
    records, shas, weights, exact = _merge(outputs, errors)
    labelled, shas = _merge_same_content(labelled, shas, errors)
    models = []
    for m in canon:
        if (m, REF) not in records:
            continue
        if not any(shas.get(s.name) in records[(m, REF)] for s in labelled.samples):
            errors.append(f"{m}: no image could be measured (none was readable, or every output was refused)")
            continue
        try:
            models.append(_evaluate_model(m, weights[m], labelled, shas, records, fams,
                                          (published_top1 or {}).get(m), allow_random,
                                          lambda p, f, t, m=m: report(p, f, f"{m}: {t}"), zero_shot))
        except EvaluationCancelled:
            raise
        except AdvisorError as e:
            errors.append(str(e))
    if prec != "fp32":
        models = with_fp32_agreement(models, records, [shas[n] for n in sample if n in shas], exact,
                                     lambda missing: _fp32_logits(tasks[0], missing, labelled, shas))
    report("report", 0.0, "assembling the result")
    images = tuple({"name": s.name, "sha256": shas[s.name], "label": s.label}
                   for s in labelled.samples if s.name in shas)
    messages = list(dict.fromkeys(errors))
    notes = [e for e in messages if e.startswith("note:")]
    bad = [e for e in messages if not e.startswith("note:")]
    shown = os.path.relpath(data, within) if within is not None and inside(data, within) else str(data)
    result = EvaluationResult(shown, "imagenet" if labelled.imagenet is not None else "own",
                              labelled.classes, images, tuple(models), fams,
                              tuple(notes + capped(bad, len(bad), "problems with files or models", MAX_MESSAGES)),
                              round(time.perf_counter() - t0, 3), executor, prec, dev)
    report("report", 1.0, "done")
    return result


def _merge_same_content(labelled: LabelledData, shas: dict[str, str],
                        errors: list[str]) -> tuple[LabelledData, dict[str, str]]:
    """One sample per image content (sha256): a copy of a file under another name counts once."""
    first: dict[str, str] = {}
    keep, clash = [], 0
    for s in labelled.samples:
        sha = shas.get(s.name)
        if sha is None:
            keep.append(s)
        elif sha not in first:
            first[sha] = s.label
            keep.append(s)
        else:
            clash += first[sha] != s.label
    dropped = len(labelled.samples) - len(keep)
    if not dropped:
        return labelled, shas
    errors.append(f"note: {dropped:,} file(s) repeat the content of another file: counted once"
                  + (f" ({clash:,} with a different label: the first label kept)" if clash else ""))
    names = {s.name for s in keep}
    return replace(labelled, samples=tuple(keep)), {k: v for k, v in shas.items() if k in names}


def _fp32_logits(task: TaskSpec, sample: list[str], labelled: LabelledData, shas: dict[str, str]):
    """fp32 reference-view logits (sha -> array) of the task's models on the sample (cached like any run)."""
    first = {}
    for s in labelled.samples:
        if shas.get(s.name) in sample:
            first.setdefault(shas[s.name], s)
    out = run_task(replace(task, samples=tuple(first.values()), families=(), precision="fp32"))
    return {key[0]: {h: r[0] for h, r in rec.items()} for key, rec in out.records.items() if key[1] == REF}


def _merge(outputs: list[TaskOutput], errors: list[str]):
    records: dict[tuple[str, str], dict[str, tuple]] = {}
    shas: dict[str, str] = {}
    weights: dict[str, str] = {}
    exact: dict[str, dict[str, np.ndarray]] = {}
    for o in outputs:
        errors += o.errors
        shas.update(o.shas)
        weights.update(o.weights)
        for key, rec in o.records.items():
            records.setdefault(key, {}).update(rec)
        for m, got in o.exact.items():
            exact.setdefault(m, {}).update(got)
    return records, shas, weights, exact


def _evaluate_model(model_id: str, weights: str, labelled: LabelledData, shas: dict[str, str],
                    records: dict, fams: tuple[str, ...], published: float | None,
                    allow_random: bool, report: PhaseCallback | None = None,
                    zero_shot: ZeroShotOptions | None = None) -> ModelEvaluation:
    """Figures for one model; own class names go to a zero-shot head where the model's backend makes one."""
    from advisor.models.registry import can_zero_shot

    ref = records[(model_id, REF)]
    samples = [s for s in labelled.samples if shas.get(s.name) in ref]
    order = [shas[s.name] for s in samples]
    logits = np.stack([ref[h][0] for h in order]).astype(np.float64)
    emb = np.stack([ref[h][1] for h in order]).astype(np.float64)
    labels = np.array([s.label for s in samples])
    notes, metrics, cls = [], {}, None
    task = "transfer"
    if labelled.imagenet is not None and logits.shape[1] == 1000:
        task, names = "imagenet", imagenet_class_names()
        targets = np.array([labelled.imagenet[lab] for lab in labels])
        cls = stats.classification(logits, targets, names)
    elif labelled.imagenet is not None:
        notes.append(f"its head has {logits.shape[1]} classes, not ImageNet-1k's 1000: features only")
    elif can_zero_shot(model_id):
        task, classes = "zero-shot", list(labelled.classes)
        targets = np.array([classes.index(lab) for lab in labels])
        zs_logits, names, note = zero_shot_logits(model_id, classes, emb, zero_shot or ZeroShotOptions(),
                                                  allow_random)
        cls = stats.classification(zs_logits, targets, names)
        notes.append(note)
    if cls is not None:
        metrics.update(cls["metrics"])
    feats, how = stats.transfer(emb, labels, report=report or quiet)
    metrics.update(feats)
    notes.append(f"transfer: {how}")
    invariance = _invariance(model_id, records, order, fams, cls["pred"] if cls else logits.argmax(1),
                             targets if cls else None)
    return ModelEvaluation(model_id, weights, task, len(samples), published, metrics,
                           tuple(cls["reliability"]) if cls else (), tuple(cls["per_class"]) if cls else (),
                           tuple(cls["confusions"]) if cls else (), invariance,
                           cls["correct"] if cls else None, tuple(notes))


def _invariance(model_id: str, records: dict, order: list[str], fams: tuple[str, ...], ref_pred: np.ndarray,
                targets: np.ndarray | None) -> tuple[InvariancePoint, ...]:
    from advisor.probes.transforms import get_family

    points = []
    for name in fams:
        fam = get_family(name)
        for mag in fam.magnitudes:
            if mag == fam.identity:
                pred = ref_pred
            else:
                rec = records.get((model_id, f"{fam.name}@{mag:g}"), {})
                if not all(h in rec for h in order):
                    continue
                pred = np.array([int(rec[h][0]) for h in order])
            ok = pred >= 0
            if not ok.any():
                continue
            top1 = stats.mean_figure((pred == targets)[ok]) if targets is not None else None
            points.append(InvariancePoint(fam.name, float(mag), mag == fam.identity, top1,
                                          stats.mean_figure((pred == ref_pred)[ok])))
    return tuple(points)
