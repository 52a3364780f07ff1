"""``trialstock-mcp cache ...`` refuses what could destroy or misreport: blank selectors, a SQLite
tier it could not open, unsafe backup targets and bad backups, each with one line."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from server.cli import main
from tests.support.console_script import CONSOLE_SCRIPT, server_env
from tests.support.sqlite_files import (
    BAD_BACKUPS,
    craft_backup,
    desync_an_index,
    fill_cache,
    stats_row,
    stored,
    trash_pages,
)

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


# -- a SQLite tier the command could not open is a failure, never a quiet "memory only" --------


def _parent_is_a_file(tmp_path: Path) -> Path:
    (tmp_path / "plain-file").write_text("not a directory")
    return tmp_path / "plain-file" / "cache.sqlite3"


def _path_is_a_directory(tmp_path: Path) -> Path:
    (tmp_path / "dir" / "cache.sqlite3").mkdir(parents=True)
    return tmp_path / "dir" / "cache.sqlite3"


UNOPENABLE = {
    "parent is a file": (_parent_is_a_file, "not a directory"),
    "a directory": (_path_is_a_directory, "is a directory"),
}
NEEDS_SQLITE = [
    ["check"],
    ["invalidate", "--all"],
    ["invalidate", "--key", "k"],
    ["backup", "{tmp}/b.sqlite3"],
    ["restore", "{backup}"],
    ["vacuum"],
    ["stats"],
]


@pytest.mark.parametrize("command", NEEDS_SQLITE, ids=lambda c: " ".join(c))
@pytest.mark.parametrize("setup", list(UNOPENABLE))
def test_a_sqlite_tier_that_cannot_be_opened_fails_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], setup: str, command: list[str]
) -> None:
    make, reason = UNOPENABLE[setup]
    backup = tmp_path / "good-backup.sqlite3"
    fill_cache(backup, ["k"])
    path = make(tmp_path)
    monkeypatch.setenv("TRIALSTOCK_SQLITE_PATH", str(path))
    argv = [part.format(tmp=tmp_path, backup=backup) for part in command]
    assert main(["cache", *argv]) == 1
    line = one_error_line(capsys)
    assert str(path) in line and reason in line, line
    assert "TRIALSTOCK_SQLITE__ENABLED" not in line


def test_the_console_script_says_it_in_one_line_without_a_traceback(tmp_path: Path) -> None:
    path = _path_is_a_directory(tmp_path)
    for command in (["check"], ["vacuum"], ["invalidate", "--all"]):
        result = subprocess.run(
            [CONSOLE_SCRIPT, "cache", *command],
            env=server_env(tmp_path, TRIALSTOCK_SQLITE_PATH=str(path)),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 1, (command, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, (command, result.stderr)
        assert f"cannot open SQLite cache {path}" in result.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads and writes any file whatever its mode")
def test_a_read_only_cache_file_fails_the_command(cache_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache_file.chmod(0o444)
    cache_file.parent.chmod(0o555)
    try:
        assert main(["cache", "invalidate", "--all"]) == 1
        assert str(cache_file) in one_error_line(capsys)
    finally:
        cache_file.parent.chmod(0o755)
        cache_file.chmod(0o644)
    assert sorted(stored(cache_file)) == sorted(KEYS)


def test_check_reports_a_corrupt_file_and_where_it_went(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cache.sqlite3"
    fill_cache(path, [f"k{i}-{'x' * 500}" for i in range(200)])
    damaged = trash_pages(path)
    monkeypatch.setenv("TRIALSTOCK_SQLITE_PATH", str(path))
    assert main(["cache", "check"]) == 1
    captured = capsys.readouterr()
    (aside,) = [p for p in tmp_path.iterdir() if ".corrupt-" in p.name and not p.name.endswith(("-wal", "-shm"))]
    assert aside.read_bytes() == damaged
    (found,) = [line for line in captured.out.splitlines() if "found_corrupt:" in line]
    assert "quick_check" in found and f"moved it to {aside}" in found, found
    (warning,) = captured.err.strip().splitlines()  # the one WARNING the open logs
    assert "unusable" in warning and str(aside) in warning


def test_check_runs_the_full_integrity_check(cache_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    desync_an_index(cache_file)
    assert main(["cache", "check"]) == 1
    out = capsys.readouterr().out
    assert "integrity_check:" in out and "entries_lru" in out, out


# -- backup: never a traceback, never a folder created, never someone else's file removed ------


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


@pytest.mark.parametrize(
    ("target", "fragment"),
    [
        ("{tmp}/" + "b" * 300 + ".sqlite3", "file name is 308 bytes long; at most 255"),
        ("{tmp}/missing/folder/b.sqlite3", "does not exist"),
        ("{tmp}/plain-file/b.sqlite3", "is not a directory"),
        ("{tmp}/cache.sqlite3", "exists; choose a new file"),
        ("{tmp}", "exists; choose a new file"),
    ],
)
def test_backup_refuses_a_bad_target_in_one_line(
    cache_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str, fragment: str
) -> None:
    (tmp_path / "plain-file").write_text("x")
    before = _files(tmp_path)
    assert main(["cache", "backup", target.format(tmp=tmp_path)]) == 2
    assert fragment in one_error_line(capsys)
    assert _files(tmp_path) == before
    assert sorted(stored(cache_file)) == sorted(KEYS)


def test_backup_leaves_an_unrelated_partial_file_alone(cache_file: Path, tmp_path: Path) -> None:
    bystander = tmp_path / "b.partial"
    bystander.write_text("someone's download in progress")
    before = _files(tmp_path)
    assert main(["cache", "backup", str(tmp_path / "b")]) == 0
    assert bystander.read_text() == "someone's download in progress"
    assert _files(tmp_path) == before | {"b"}  # and no temporary file left behind
    assert stored(tmp_path / "b") == stored(cache_file)


# -- restore: the backup is checked before anything is replaced --------------------------------


@pytest.mark.parametrize("kind", list(BAD_BACKUPS))
def test_restore_refuses_a_bad_backup_and_changes_nothing(
    cache_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    backup = tmp_path / "crafted.sqlite3"
    craft_backup(backup, kind)
    before, totals = stored(cache_file), stats_row(cache_file)
    capsys.readouterr()
    assert main(["cache", "restore", str(backup)]) == 2
    line = one_error_line(capsys)
    assert line.startswith(f"trialstock-mcp: cannot restore from {backup}: ") and BAD_BACKUPS[kind] in line, line
    assert stored(cache_file) == before and stats_row(cache_file) == totals
    assert main(["cache", "check"]) == 0


def test_restore_of_a_good_backup_still_works(cache_file: Path, tmp_path: Path) -> None:
    backup = tmp_path / "good.sqlite3"
    fill_cache(backup, ["restored:1", "restored:2"])
    assert main(["cache", "restore", str(backup)]) == 0
    assert set(stored(cache_file)) == {*KEYS, "restored:1", "restored:2"}
    entries, data_bytes = stats_row(cache_file)
    assert entries == len(KEYS) + 2 and data_bytes == sum(len(k) + len(v) for k, v in stored(cache_file).items())
