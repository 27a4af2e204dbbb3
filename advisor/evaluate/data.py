"""Labelled data for `advisor evaluate`: a folder with one subfolder per class, or a CSV `path,label`.

Labels that name ImageNet-1k classes (wnid, class index 0-999, or a class name as timm's
`ImageNetInfo` describes it) make an ImageNet evaluation; any other label set is evaluated by how well
frozen features transfer to it. Nothing is decoded here: the pipeline reads and decodes each file once.
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass
from pathlib import Path

from advisor.errors import InvalidRequestError
from advisor.evaluate.files import inside, read_regular
from advisor.evaluate.labels_csv import MAX_CSV_BYTES, MAX_ROWS, read_rows

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
    problems: tuple[str, ...] = ()  # rows skipped and why ("note: ..." for what was only adjusted)


def _folder_samples(p: Path, within: str | Path | None, max_rows: int) -> tuple[list[Sample], list[str]]:
    """Images under class subfolders, walked at most `max_rows` files deep (a huge tree is refused early);
    a folder whose name is only whitespace names no class and is skipped with a message."""
    try:
        subs = sorted(d for d in p.iterdir() if d.is_dir() and not d.name.startswith("."))
        blank = [d for d in subs if not d.name.strip()]
        subs = [d for d in subs if d.name.strip()]
        samples: list[Sample] = []
        for sub in subs:
            for f in sorted(sub.rglob("*")):
                if f.suffix.lower() not in IMAGE_SUFFIXES or not f.is_file():
                    continue
                if within is not None and not inside(f, within):
                    continue  # a symlink out of an uploaded or allowed folder: never followed
                samples.append(Sample(str(f.relative_to(p)), str(f), sub.name))
                if len(samples) > max_rows:
                    raise InvalidRequestError(f"{p.name}: more than {max_rows:,} images; at most {max_rows:,} "
                                              "are evaluated at once")
    except OSError as e:
        raise InvalidRequestError(f"{p.name}: cannot list the folder ({e.strerror or e})") from None
    problems = [f"{len(blank)} class folder(s) named only with whitespace: skipped (a class needs a name)"] \
        if blank else []
    return samples, problems


def _csv_samples(p: Path, within: str | Path | None, max_rows: int) -> tuple[list[Sample], list[str]]:
    """The CSV's rows as samples (paths relative to the CSV's folder) and the problems of skipped rows."""
    parsed = read_rows(read_regular(p, MAX_CSV_BYTES, p.name), p.name, max_rows)
    problems = [f"note: {parsed.encoding_note}"] if parsed.encoding_note else []
    samples, outside = [], 0
    for _line, path, label in parsed.rows:
        full = Path(path) if Path(path).is_absolute() else p.parent / path
        if within is not None and not inside(full, within):
            outside += 1
            continue
        samples.append(Sample(path, str(full), label))
    if outside:
        problems.append(f"{outside:,} row(s) of {p.name} name a file outside the folder of your data: refused")
    return samples, problems + parsed.problems


def _merge_repeats(samples: list[Sample]) -> tuple[list[Sample], list[str]]:
    """One sample per file (by resolved path): a file listed several times counts once."""
    seen: dict[str, Sample] = {}
    clash = 0
    for s in samples:
        key = os.path.realpath(s.path)
        if key in seen:
            clash += seen[key].label != s.label
            continue
        seen[key] = s
    n = len(samples) - len(seen)
    if not n:
        return samples, []
    return list(seen.values()), [f"note: {n:,} repeated listing(s) of the same file counted once"
                                 + (f" ({clash:,} with a different label: the first label kept)" if clash else "")]


def read_labelled_files(data: str | Path, within: str | Path | None = None,
                        max_rows: int = MAX_ROWS) -> tuple[list[Sample], list[str]]:
    """The (file, label) list of a class-folder tree or a `path,label` CSV, and the problems of skipped rows.
    With `within` (an upload or an allowed server folder), every file must resolve inside it."""
    p = Path(data).expanduser()
    if p.is_dir():
        samples, problems = _folder_samples(p, within, max_rows)
        if not samples:
            raise InvalidRequestError(f"{p.name}: no images found in class subfolders (expected "
                                      f"{p.name}/CLASS/IMAGE)")
    elif p.is_file() and p.suffix.lower() == ".csv":
        samples, problems = _csv_samples(p, within, max_rows)
        if not samples:
            raise InvalidRequestError(f"{p.name}: the CSV lists no usable images"
                                      + (f" ({problems[-1]})" if problems else ""))
    else:
        raise InvalidRequestError(f"{data}: not a folder of class subfolders or a .csv file with path,label")
    samples, notes = _merge_repeats(samples)
    return samples, problems + notes


def read_samples(data: str | Path, within: str | Path | None = None) -> list[Sample]:
    """The (file, label) list of a class-folder tree or a `path,label` CSV."""
    return read_labelled_files(data, within)[0]


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


def load_labelled(data: str | Path, label_set: str = "auto", within: str | Path | None = None) -> LabelledData:
    """Read DATA and decide how its labels are evaluated ('auto', 'imagenet' or 'own')."""
    if label_set not in ("auto", "imagenet", "own"):
        raise InvalidRequestError(f"label set must be auto, imagenet or own, not {label_set!r}")
    samples, problems = read_labelled_files(data, within)
    classes = tuple(sorted({s.label for s in samples}))
    imagenet, note = (None, "your own label set") if label_set == "own" else match_imagenet(list(classes))
    if label_set == "imagenet" and imagenet is None:
        raise InvalidRequestError(f"{data}: {note.split(':')[0]}")
    return LabelledData(str(data), tuple(samples), classes, imagenet, note, tuple(problems))


_LISTINGS: dict[tuple, LabelledData] = {}
_LISTING_TTL_S = 300.0


def _listing_key(data: str | Path, label_set: str, within: str | Path | None) -> tuple:
    """What a cached listing depends on: the path, the options, and the modification times of the data
    and its direct subfolders (a file added to a class folder changes that folder's), in 5-minute slots."""
    p = Path(data).expanduser()
    try:
        st = p.stat()
        subs = tuple(sorted((d.name, d.stat().st_mtime_ns) for d in p.iterdir() if d.is_dir())) if p.is_dir() else ()
    except OSError:
        return ()
    return (os.path.realpath(p), label_set, str(within), st.st_mtime_ns, st.st_size, subs,
            int(time.monotonic() // _LISTING_TTL_S))


def load_labelled_cached(data: str | Path, label_set: str = "auto", within: str | Path | None = None) -> LabelledData:
    """`load_labelled`, remembered while the folder is unchanged: the app reruns its page on every click,
    and walking a large folder each time took seconds."""
    key = _listing_key(data, label_set, within)
    if key and key in _LISTINGS:
        return _LISTINGS[key]
    got = load_labelled(data, label_set, within)
    if key:
        if len(_LISTINGS) >= 16:
            _LISTINGS.pop(next(iter(_LISTINGS)))
        _LISTINGS[key] = got
    return got
