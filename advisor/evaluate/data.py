"""Labelled data for `advisor evaluate`: a folder with one subfolder per class, or a CSV `path,label`.

Labels that name ImageNet-1k classes (wnid, class index 0-999, or a class name as timm's
`ImageNetInfo` describes it) make an ImageNet evaluation; any other label set is evaluated by how well
frozen features transfer to it. Nothing is decoded here: the pipeline reads and decodes each file once.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

from advisor.errors import InvalidRequestError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")


@dataclass(frozen=True)
class Sample:
    """One labelled file; `name` is its path relative to the data root (shown in messages)."""

    name: str
    path: str
    label: str


@dataclass(frozen=True)
class LabelledData:
    root: str
    samples: tuple[Sample, ...]
    classes: tuple[str, ...]  # sorted distinct labels
    imagenet: dict[str, int] | None  # label -> ImageNet-1k index when every label names one
    note: str = ""


def read_samples(data: str | Path) -> list[Sample]:
    """The (file, label) list of a class-folder tree or a `path,label` CSV."""
    p = Path(data).expanduser()
    if p.is_dir():
        samples = [Sample(str(f.relative_to(p)), str(f), sub.name)
                   for sub in sorted(d for d in p.iterdir() if d.is_dir() and not d.name.startswith("."))
                   for f in sorted(sub.rglob("*")) if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES]
        if not samples:
            raise InvalidRequestError(f"{p}: no images found in class subfolders (expected {p.name}/CLASS/IMAGE)")
        return samples
    if p.is_file() and p.suffix.lower() == ".csv":
        with p.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or not {"path", "label"} <= set(reader.fieldnames):
                raise InvalidRequestError(f"{p}: a CSV needs a header with the columns path,label")
            rows = [(r["path"], r["label"]) for r in reader if r.get("path")]
        if not rows:
            raise InvalidRequestError(f"{p}: the CSV lists no images")
        return [Sample(path, str((p.parent / path) if not Path(path).is_absolute() else path), label.strip())
                for path, label in rows]
    raise InvalidRequestError(f"{data}: not a folder of class subfolders or a .csv file with path,label")


@functools.lru_cache(maxsize=1)
def _imagenet_lookup() -> tuple[dict[str, int], tuple[str, ...]]:
    """Every way a label may name an ImageNet-1k class -> its index; names shared by two classes
    (e.g. 'crane', the bird and the machine) are left out rather than guessed."""
    from timm.data import ImageNetInfo

    info = ImageNetInfo("imagenet-1k")
    names = tuple(info.index_to_description(i) for i in range(1000))
    seen: dict[str, set[int]] = {}
    for i in range(1000):
        keys = {info.index_to_label_name(i).lower(), str(i), names[i].lower()}
        keys |= {s.strip().lower() for s in names[i].split(",")}
        for k in keys:
            seen.setdefault(k, set()).add(i)
    return {k: next(iter(v)) for k, v in seen.items() if len(v) == 1}, names


def imagenet_class_names() -> tuple[str, ...]:
    """The 1,000 ImageNet-1k class descriptions, in index order (timm's ImageNetInfo)."""
    return _imagenet_lookup()[1]


def match_imagenet(labels: list[str]) -> tuple[dict[str, int] | None, str]:
    """label -> ImageNet index if every label names a class, else None and which labels did not."""
    lookup, _ = _imagenet_lookup()
    found = {lab: lookup.get(lab.strip().lower()) for lab in labels}
    missing = sorted(lab for lab, i in found.items() if i is None)
    if missing:
        return None, (f"{len(missing)} of {len(labels)} labels name no single ImageNet class "
                      f"(e.g. {', '.join(missing[:3])}): evaluated as your own label set")
    if len(set(found.values())) != len(found):
        return None, "two labels name the same ImageNet class: evaluated as your own label set"
    return {k: int(v) for k, v in found.items()}, "labels matched to ImageNet-1k classes"


def load_labelled(data: str | Path, label_set: str = "auto") -> LabelledData:
    """Read DATA and decide how its labels are evaluated ('auto', 'imagenet' or 'own')."""
    if label_set not in ("auto", "imagenet", "own"):
        raise InvalidRequestError(f"label set must be auto, imagenet or own, not {label_set!r}")
    samples = read_samples(data)
    classes = tuple(sorted({s.label for s in samples}))
    imagenet, note = (None, "your own label set") if label_set == "own" else match_imagenet(list(classes))
    if label_set == "imagenet" and imagenet is None:
        raise InvalidRequestError(f"{data}: {note.split(':')[0]}")
    return LabelledData(str(data), tuple(samples), classes, imagenet, note)
