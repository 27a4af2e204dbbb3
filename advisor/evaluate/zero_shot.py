"""Zero-shot classification on the user's own class names, for models whose backend makes a zero-shot head.

The class names default to the labels (folder names or the CSV's label column); the user may rename them
(a label -> name file, or the app's text area), since "n01440764" or "cls_3" make poor prompts. Prompt
templates are open_clip's named sets ("openai": 80, "simple": 7) or the user's own, one per line with
`{}` where the class name goes. The head is whatever the backend builds (open_clip's
`build_zero_shot_classifier`), reached through the backend table only.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from advisor.errors import InvalidRequestError

TEMPLATE_SETS = ("simple", "openai")  # open_clip's SIMPLE_IMAGENET_TEMPLATES / OPENAI_IMAGENET_TEMPLATES
MAX_TEXT_BYTES = 1 << 20


@dataclass(frozen=True)
class ZeroShotOptions:
    """How own labels become prompts: label -> class name (labels not named keep their own text) and the
    templates (a set name, or the templates themselves)."""

    class_names: Mapping[str, str] = field(default_factory=dict)
    templates: str | tuple[str, ...] = ""  # "" = the backend's default set

    def names_for(self, labels: Sequence[str]) -> list[str]:
        """The class name of each label, in the labels' order; two labels may not share one name."""
        unknown = sorted(set(self.class_names) - set(labels))
        if unknown:
            raise InvalidRequestError(f"class names given for labels not in the data: {', '.join(unknown[:5])}"
                                      f"{' …' if len(unknown) > 5 else ''} (labels: {', '.join(labels[:8])})")
        names = [self.class_names.get(lab, lab).strip() or lab for lab in labels]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise InvalidRequestError(f"two labels would share the class name {dup[0]!r}: give each its own")
        return names

    def describe(self) -> str:
        """'7 templates (simple)' / '3 templates (yours)', for the result's notes."""
        if isinstance(self.templates, tuple):
            return f"{len(self.templates)} template(s) of your own"
        return f"open_clip's {self.templates or 'default'} template set"


def _text(source: str | Path, what: str) -> str:
    """A small UTF-8 text file's content (or the text itself when it has a newline or is not a file)."""
    if isinstance(source, Path) or ("\n" not in source and Path(source).expanduser().is_file()):
        p = Path(source).expanduser()
        if not p.is_file():
            raise InvalidRequestError(f"{what}: {p} is not a file")
        if p.stat().st_size > MAX_TEXT_BYTES:
            raise InvalidRequestError(f"{what}: {p} is larger than {MAX_TEXT_BYTES >> 10} KiB")
        try:
            return p.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidRequestError(f"{what}: {p} is not UTF-8 text") from None
    return str(source)


def parse_class_names(source: str | Path) -> dict[str, str]:
    """`label,name` lines (a CSV; a `label,name` header is skipped), or `label = name` / `label<TAB>name`;
    blank lines and `#` comments ignored. From a file path or the text itself."""
    out: dict[str, str] = {}
    for n, line in enumerate(_text(source, "class names").splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        for sep in ("\t", "=", ","):
            if sep in s:
                label, name = [*next(csv.reader(io.StringIO(s))), ""][:2] if sep == "," else s.split(sep, 1)
                break
        else:
            raise InvalidRequestError(f"class names, line {n}: expected 'label,name' or 'label = name', "
                                      f"got {s[:60]!r}")
        label, name = label.strip(), name.strip()
        if n == 1 and (label.lower(), name.lower()) == ("label", "name"):
            continue
        if not label or not name:
            raise InvalidRequestError(f"class names, line {n}: both a label and a name are needed")
        if label in out and out[label] != name:
            raise InvalidRequestError(f"class names, line {n}: label {label!r} is named twice")
        out[label] = name
    return out


def parse_templates(source: str | Path) -> str | tuple[str, ...]:
    """A template set name ('simple', 'openai'), or templates one per line, each with one `{}`."""
    if isinstance(source, str) and source.strip() in TEMPLATE_SETS:
        return source.strip()
    lines = [t.strip() for t in _text(source, "templates").splitlines() if t.strip() and
             not t.strip().startswith("#")]
    if not lines:
        raise InvalidRequestError(f"templates: none given; use a file with one template per line (with {{}}) "
                                  f"or one of {', '.join(TEMPLATE_SETS)}")
    bad = [t for t in lines if t.count("{}") != 1 or "{" in t.replace("{}", "")]
    if bad:
        raise InvalidRequestError(f"templates: each needs exactly one {{}} for the class name, not {bad[0][:60]!r}")
    return tuple(dict.fromkeys(lines))


def zero_shot_logits(model_id: str, labels: Sequence[str], emb: np.ndarray, options: ZeroShotOptions,
                     allow_random: bool = False) -> tuple[np.ndarray, list[str], str]:
    """(logits over `labels` in their order, the class names prompted, a note) from the model's embeddings,
    through the zero-shot head its backend builds."""
    from advisor.models.loaded import load_model

    names = options.names_for(list(labels))
    head = load_model(model_id, allow_random=allow_random).zero_shot_head(names, options.templates)
    renamed = sum(n != lab for n, lab in zip(names, labels, strict=True))
    note = (f"zero-shot: {len(names)} class names ({renamed} renamed from their labels), "
            f"{len(head.templates)} prompt template(s) ({options.describe()})")
    return head.logits(emb), names, note
