"""Issue 13, items 3-5: every field of a rank request is checked in one place, with the same message everywhere."""

from __future__ import annotations

import json

import pytest

from advisor.cli import main
from advisor.errors import InvalidRequestError
from advisor.ranking.request import MAX_DRAWS, RankRequest, request_from_dict, validate_request


@pytest.fixture
def run(cli_base, capsys):
    def _run(*argv: str) -> tuple[int, str, str]:
        code = main([*cli_base, *argv])
        out = capsys.readouterr()
        return code, out.out, out.err
    return _run


@pytest.mark.parametrize(("argv", "message"), [
    (["rank", "--need", "accuracy=1", "--seed", "-1"], "seed must be in [0,"),
    (["rank", "--need", "accuracy=1", "--draws", "1000000000000"], f"draws must be in [0, {MAX_DRAWS}]"),
    (["rank", "--need", "accuracy=1", "--top", "0"], "top (top_k) must be in [1,"),
    (["rank", "--need", "accuracy=1e308"], "weight for 'accuracy' must be in [0, 1e+06]"),
    (["rank", "--need", "accuracy=1", "--max-params", "nan"], "must be a finite number"),
    (["rank", "--need", "accuracy=1", "--min-coverage", "2"], "minimum coverage must be in [0, 1]"),
    (["models", "--limit", "-1"], "--limit must be at least 1"),
])
def test_cli_bounds_are_messages(run, argv, message):
    code, _, err = run(*argv)
    assert code == 2, err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize(("field", "value", "message"), [
    ("top_k", 0, "top (top_k) must be in [1,"), ("top_k", -5, "top (top_k) must be in [1,"),
    ("concentration", 0, "concentration must be in (0,"), ("concentration", -5, "concentration must be in (0,"),
    ("seed", -1, "seed must be in [0,"), ("draws", 1e12, "draws must be in [0,"),
    ("stable_share", 1.5, "stable share must be in (0, 1]"), ("normalization", "rank", "normalization must be one of"),
    ("mode", "<script>", "mode must be one of"),
])
def test_report_json_fields_are_bounded(field, value, message):
    with pytest.raises(InvalidRequestError) as exc:
        request_from_dict({"weights": {"accuracy": 1.0}, field: value})
    assert message in str(exc.value)


def test_nan_values_never_pass_as_numbers():
    for field in ("concentration", "stable_share", "min_coverage"):
        with pytest.raises(InvalidRequestError, match="finite"):
            validate_request(RankRequest({"accuracy": 1.0}, **{field: float("nan")}))


def test_rank_from_dev_zero_stops_at_the_cap(run):
    code, _, err = run("rank", "--from", "/dev/zero")
    assert code == 2 and "larger than" in err


def test_rank_from_a_deeply_nested_report_is_a_message(run, tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text('{"kind": "vision-advisor-report", "schema_version": 1, "request": ' + "[" * 100_000)
    code, _, err = run("rank", "--from", str(deep))
    assert code == 2 and "Traceback" not in err and ("deep" in err or "JSON" in err)


def test_url_nan_limit_is_ignored_not_turned_into_an_exclusion():
    from advisor.ui import state

    got = state.state_from_query({"max_params": ["nan"], "max_gmacs": ["inf"], "min_tp_cpu": ["-3"]})
    assert "max_params" not in got and "max_gmacs" not in got and "min_tp_cpu" not in got


def test_same_message_from_cli_json_and_request(run, tmp_path):
    """One validator: the CLI flag and the report field give the same text."""
    code, _, err = run("rank", "--need", "accuracy=1", "--draws", str(10**12))
    assert code == 2
    with pytest.raises(InvalidRequestError) as exc:
        request_from_dict(json.loads(json.dumps({"weights": {"accuracy": 1}, "draws": 10**12})))
    assert str(exc.value) in err
