"""What a SQLite error means for the tier: another writer holds the lock, or the file is not a
sound database; and error texts flattened to one line."""

from __future__ import annotations

import sqlite3

# SQLite primary result codes (extended codes carry them in the low byte).
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_CORRUPT, _SQLITE_NOTADB = 5, 6, 11, 26


def error_code(exc: sqlite3.Error) -> int:
    return (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF


def is_busy(exc: sqlite3.Error) -> bool:
    """True for "database is locked/busy": another connection holds the write lock."""
    return error_code(exc) in (_SQLITE_BUSY, _SQLITE_LOCKED) or "locked" in str(exc)


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (SQLite's check verdicts hold newlines) as one space."""
    return " ".join(text.split())


def is_corrupt(exc: sqlite3.Error) -> bool:
    return error_code(exc) in (_SQLITE_CORRUPT, _SQLITE_NOTADB)
