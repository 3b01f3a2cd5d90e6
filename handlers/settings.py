"""Where the reference server keeps its data: one resolution rule for `serve`, `keys` and `db`.

Data directory: `--data-dir`, else `$BILLING_DATA_DIR`, else `./billing-data`.
Database: `--db URL`, else `$BILLING_DB_URL`, else the SQLite file in the data directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from billing_kit.handlers.storage import sqlite_url

DATA_DIR_ENV = "BILLING_DATA_DIR"
DB_URL_ENV = "BILLING_DB_URL"
DEFAULT_DATA_DIR = "billing-data"
SQLITE_FILE = "billing.sqlite3"


@dataclass(frozen=True)
class Location:
    data_dir: Path
    db_url: str


def resolve(data_dir: str | Path | None = None, db_url: str | None = None) -> Location:
    directory = Path(data_dir or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR).resolve()
    url = db_url or os.environ.get(DB_URL_ENV) or sqlite_url(directory / SQLITE_FILE)
    return Location(data_dir=directory, db_url=url)
