"""ImageNet-1k class names for showing predictions ("tiger cat -> Egyptian cat"), without importing torch.

Read from timm's own synset files (the same ones `timm.data.ImageNetInfo` uses), located without importing timm.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def imagenet_class_names() -> tuple[str, ...]:
    """The 1,000 ImageNet-1k class names in index order (first lemma of each synset); () if timm is absent."""
    spec = importlib.util.find_spec("timm")
    if spec is None or not spec.submodule_search_locations:
        return ()
    info = Path(next(iter(spec.submodule_search_locations))) / "data" / "_info"
    try:
        synsets = (info / "imagenet_synsets.txt").read_text().split()
        lemma = dict(line.split("\t", 1) for line in (info / "imagenet_synset_to_lemma.txt").read_text().splitlines()
                     if "\t" in line)
    except OSError:
        return ()
    return tuple(lemma.get(s, s).split(",")[0].strip() for s in synsets)


def class_name(index: int, num_classes: int = 1000) -> str:
    """A readable name for a predicted index: the ImageNet name for 1,000-class heads, else 'class N'."""
    names = imagenet_class_names() if num_classes == 1000 else ()
    return names[index] if 0 <= index < len(names) else f"class {index}"
