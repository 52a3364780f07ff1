"""The command line: exit codes, one-line errors, schema-typed arguments, backup/restore."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from server.cli import main
from server.cli_call import typed_arguments
from server.cli_errors import UsageError

DEAD = "http://127.0.0.1:9"  # loopback discard port: nothing upstream answers


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRIALSTOCK_SQLITE_PATH", str(tmp_path / "cache.sqlite3"))
    monkeypatch.setenv("TRIALSTOCK_CTGOV_BASE_URL", f"{DEAD}/api/v2")
    for name in ("TWSE", "TPEX", "MIS", "YAHOO"):
        monkeypatch.setenv(f"TRIALSTOCK_{name}_BASE_URL", DEAD)


def test_tools_lists_every_tool_with_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tools"]) == 0
    out = capsys.readouterr().out
    for name in ("service_status", "search_trials", "get_trial", "get_stock_quote", "analyze_stock"):
        assert name in out


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["call", "nope"], "unknown tool 'nope'; available:"),
        (["call", "get_trial"], "get_trial needs nct_id"),
        (["call", "get_trial", "nct=NCT04280705"], "has no argument nct"),
        (["call", "get_trial", "nct_id=bad"], "Invalid input: nct_id: Value error, expected 'NCT' and 8 digits"),
        (["call", "search_trials", "condition=x", "page_size=0"], "page_size: Input should be greater"),
        (["call", "get_trial", "oops"], "is not key=value"),
        (["call", "get_trial", "--json", "[1]"], "--json must be a JSON object"),
    ],
)
def test_bad_calls_exit_2_with_one_line(argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and fragment in err[0], err


def test_upstream_failure_exits_1(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIALSTOCK_HTTP__MAX_ATTEMPTS", "1")
    assert main(["call", "get_trial", "nct_id=NCT04280705"]) == 1
    assert "ctgov is unavailable" in capsys.readouterr().err


def test_service_status_raw_is_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["call", "service_status", "--raw"]) == 0
    status = orjson.loads(capsys.readouterr().out)
    assert [tier["name"] for tier in status["cache_tiers"]] == ["memory", "sqlite"]


SCHEMA = {
    "type": "object",
    "required": ["symbol"],
    "properties": {
        "symbol": {"type": "string"},
        "symbols": {"type": "array", "items": {"type": "string"}},
        "page_size": {"type": "integer"},
        "statuses": {"anyOf": [{"type": "array", "items": {"$ref": "#/$defs/Status"}}, {"type": "null"}]},
        "near": {"anyOf": [{"$ref": "#/$defs/Near"}, {"type": "null"}]},
    },
    "$defs": {
        "Status": {"enum": ["RECRUITING", "COMPLETED"], "type": "string"},
        "Near": {"type": "object", "properties": {"latitude": {"type": "number"}}},
    },
}


def test_arguments_are_typed_by_the_schema() -> None:
    typed = typed_arguments(
        "t",
        SCHEMA,
        {},
        {
            "symbol": "2330",
            "symbols": "2330,AAPL",
            "page_size": "5",
            "statuses": "recruiting",
            "near": '{"latitude": 25.0}',
        },
    )
    assert typed == {
        "symbol": "2330",
        "symbols": ["2330", "AAPL"],
        "page_size": 5,
        "statuses": ["recruiting"],
        "near": {"latitude": 25.0},
    }
    assert typed_arguments("t", SCHEMA, {"symbol": "x"}, {"symbols": '["1","2"]'})["symbols"] == ["1", "2"]
    with pytest.raises(UsageError, match="needs symbol"):
        typed_arguments("t", SCHEMA, {}, {"page_size": "1"})


def test_backup_restore_and_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    backup = tmp_path / "backup.sqlite3"
    assert main(["cache", "backup", str(backup)]) == 0 and backup.is_file()
    assert main(["cache", "backup", str(backup)]) == 2  # never overwrite a file
    not_a_cache = tmp_path / "notes.txt"
    not_a_cache.write_text("hello")
    capsys.readouterr()
    assert main(["cache", "restore", str(not_a_cache)]) == 2
    assert "cannot restore from" in capsys.readouterr().err
    assert main(["cache", "restore", str(backup)]) == 0
    assert main(["cache", "check"]) == 0


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["cache", "invalidate", "--namespace", "Bad NS"], "invalidate:"),
        (["cache", "invalidate", "--older-than", "inf"], "positive, finite"),
        (["cache", "invalidate", "--all", "--in-namespace", "trials.search"], "--in-namespace goes with"),
    ],
)
def test_bad_invalidations_exit_2(argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert fragment in capsys.readouterr().err
