"""``trialstock-mcp cache ...`` refuses what could destroy or misreport: blank selectors, a SQLite
tier it could not open, unsafe backup targets and bad backups, each with one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.cli import main
from tests.support.sqlite_files import fill_cache, stored

KEYS = [f"trials.search:v1:{i:02d}" for i in range(20)] + ["stocks.quote:v1:2330", "tail"]


@pytest.fixture
def cache_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The cache file every command in the test uses, holding ``KEYS``."""
    path = tmp_path / "cache.sqlite3"
    monkeypatch.setenv("TRIALSTOCK_SQLITE_PATH", str(path))
    fill_cache(path, KEYS, tags=("tagged",))
    return path


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["--key", ""], "--key"),
        (["--key", "tail", "--key", " "], "--key"),
        (["--tag", " "], "--tag"),
        (["--tag", ""], "--tag"),
        (["--pattern", ""], "--pattern"),
        (["--pattern", "  "], "--pattern"),
        (["--namespace", ""], "--namespace"),
        (["--namespace", "\t"], "--namespace"),
        (["--older-than", "60", "--in-namespace", ""], "--in-namespace"),
        (["--unused-for", "60", "--in-namespace", " "], "--in-namespace"),
    ],
)
def test_blank_selectors_are_usage_errors_and_remove_nothing(
    cache_file: Path, argv: list[str], flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cache", "invalidate", *argv]) == 2
    line = one_error_line(capsys)
    assert flag in line and "empty" in line, line
    assert sorted(stored(cache_file)) == sorted(KEYS)


def test_all_reports_what_each_tier_removed(cache_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cache", "invalidate", "--all"]) == 0
    rows = dict(line.split() for line in capsys.readouterr().out.splitlines()[2:])
    assert rows == {"memory": "0", "sqlite": str(len(KEYS))}
    assert stored(cache_file) == {}


def test_a_reversed_range_is_a_usage_error(cache_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cache", "invalidate", "--pattern", "trials.search:[9-0]*"]) == 2
    assert "range 9-0 is reversed" in one_error_line(capsys)
    assert sorted(stored(cache_file)) == sorted(KEYS)


STARTS_WITH_T = [key for key in KEYS if key.startswith("t")]


@pytest.mark.parametrize(
    ("pattern", "left"), [("[!t]*", STARTS_WITH_T), ("[^t]*", STARTS_WITH_T), ("t[!r]*", KEYS[:-1])]
)
def test_a_negated_class_removes_what_it_says_from_sqlite(
    cache_file: Path, pattern: str, left: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cache", "invalidate", "--pattern", pattern]) == 0
    assert sorted(stored(cache_file)) == sorted(left)
