"""Database URLs: the SQLite form of a path, and any URL with its password hidden."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

SQLITE_SCHEME = "sqlite:///"


def sqlite_url(path: Path) -> str:
    return SQLITE_SCHEME + str(path.resolve())


def redact(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    password = urlsplit(url).password
    return url.replace(f":{password}@", ":***@") if password else url
