"""Every obtainable store model maps to a backend or says plainly why not; the route table agrees with the
store's own routes; the backend table lists the live candidates."""

from __future__ import annotations

import re

import pandas as pd

from advisor.models.registry import ROUTES, backend_line, loadable_model_ids, parse_model_id


def test_every_obtainable_store_model_has_a_backend_or_a_stated_reason(store):
    models = store.models()
    live = models[models["obtainable"].astype(bool)]
    lines = {m: backend_line(m) for m in live["model_id"]}
    without = {m: line for m, line in lines.items() if line.startswith("none")}
    assert all(len(line) > 40 and "RobustBench's own code" in line for line in without.values()), without
    assert set(without) == {f"robustbench:{n}" for n in __import__(
        "advisor.models.backends.robustbench", fromlist=["NEEDS_CODE"]).NEEDS_CODE}
    by_backend = pd.Series([line.split(" ")[0] for line in lines.values()]).value_counts().to_dict()
    assert {"timm", "open_clip", "torchvision", "antialiased", "robustbench", "release", "torchhub"} <= set(by_backend)
    assert len(live) - len(without) == len(loadable_model_ids(models))


def test_the_route_table_is_the_stores_route(store):
    """Each routed store id builds exactly what its stored route names: the release file (URL, sha256 prefix)
    or the torch.hub entry (and DINO's released head file)."""
    from advisor.models.registry import backend_for

    rows = store.models().set_index("model_id")
    routed = rows[rows["weights_from"].isin(["release file", "torch.hub"]) & rows["obtainable"].astype(bool)]
    assert set(routed.index) == set(ROUTES)
    for mid, row in routed.iterrows():
        spec = parse_model_id(mid)
        files = backend_for(spec).url_files(spec)
        if row["weights_from"] == "release file":
            assert [f.url for f in files] == [row["weights_url"]] and files[0].sha256 == row["weights_sha256"], mid
        else:
            entry = re.search(r'"(\w+)"\)', row["load_call"]).group(1)
            assert spec.arch in (entry, f"{entry}_lc"), mid
            if isinstance(row["weights_url"], str):
                assert row["weights_url"] in [f.url for f in files], mid


def test_non_obtainable_models_say_why():
    assert backend_line("quba:x", obtainable=False, obtain_note="trained by the authors").startswith(
        "none: no public weights (trained by the authors")


def test_show_names_the_backend(store_path, capsys):
    from advisor.cli import main

    assert main(["--db", str(store_path), "show", "quba:ViT-l-14-dinoV2-LP"]) == 0
    assert "backend: torchhub (torchhub:dinov2_vitl14_lc)" in capsys.readouterr().out
