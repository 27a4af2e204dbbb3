"""`advisor rank --measured probe.json` gives exactly the ranking the app shows after the same probe run."""

from __future__ import annotations

import json

from advisor.cli import main
from advisor.ui import state

from .test_probe_page import fake_result, no_errors


def test_cli_with_measured_file_equals_the_app_after_the_same_probe(app, ui_db, seed, tmp_path, capsys):
    result = fake_result(seed.ACCURATE)
    probe = tmp_path / "probe.json"
    probe.write_text(result.to_json())

    app.query_params.update({"preset": "custom", "w_invariance": "1", "w_accuracy": "0.5"})
    at = app.run()
    at.session_state[state.PROBE_RESULT] = result
    at.run()
    no_errors(at)
    table = at.dataframe[0].value

    code = main([*fixture_db(ui_db), "rank", "--need", "invariance=1", "--need", "accuracy=0.5",
                 "--measured", str(probe), "--top", str(len(table)), "--json"])
    assert code == 0
    cli = json.loads(capsys.readouterr().out)["models"]
    assert [m["model_id"] for m in cli] == list(table["model"])
    assert [round(m["score"], 9) for m in cli] == [round(float(v), 9) for v in table["score"]]
    assert seed.ACCURATE in {m["model_id"] for m in cli}  # it entered through the measured scores only
    # and the page shows the measured models side by side, as their own table (issue 18)
    side = next(e for e in at.expander if e.label.startswith("Measured here"))
    assert list(side.dataframe[0].value["model_id"]) == [seed.ACCURATE]


def test_cli_measured_file_errors_are_messages(ui_db, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("[" * 100_000)
    for path, message in ((bad, "levels deep"), (tmp_path / "none.json", "not found"),
                          (tmp_path, "is a folder")):
        code = main([*fixture_db(ui_db), "rank", "--need", "invariance=1", "--measured", str(path)])
        err = capsys.readouterr().err
        assert code == 2 and message in err and "Traceback" not in err, err


def fixture_db(db) -> list[str]:
    """Global CLI options for the fixture store (no sources folder, so it is never rebuilt from the real ones)."""
    return ["--db", str(db), "--sources", str(db.parent / "no-sources")]
