"""`billing-kit serve`, `billing-kit keys …` and `billing-kit db upgrade`.

Only click is imported at module level; uvicorn, Connexion and the storage load inside
the command that needs them, so `billing-kit --help` stays fast. Errors are one
`Error: …` line on stderr with exit code 2.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from billing_kit.conformance.errors import CliError

if TYPE_CHECKING:
    from billing_kit.handlers.settings import Location
    from billing_kit.handlers.storage.base import Storage


def _storage(data_dir: Path | None, db_url: str | None) -> tuple[Location, Storage]:
    from billing_kit.handlers.settings import resolve
    from billing_kit.handlers.spec import new_customer_id
    from billing_kit.handlers.storage import open_storage
    from billing_kit.handlers.storage.base import StorageError

    location = resolve(data_dir, db_url)
    try:
        storage = open_storage(location.db_url, new_customer_id)
        storage.upgrade()
    except StorageError as exc:
        raise CliError(str(exc)) from None
    except ImportError as exc:
        raise CliError(f"this backend is not available: {exc}") from None
    return location, storage


def _db_options(fn: Any) -> Any:
    fn = click.option("--db", "db_url", metavar="URL", help="sqlite:///path or postgresql://… (or $BILLING_DB_URL).")(
        fn
    )
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Data directory (default $BILLING_DATA_DIR, else ./billing-data).",
    )(fn)


def _curl(host: str, port: int, secret: str) -> str:
    """A ready curl for the first request example of the spec, against this server."""
    import json

    from billing_kit.conformance.contract import CUSTOMERS_PATH
    from billing_kit.handlers.spec import contract

    spec = contract()
    example = json.dumps(next(iter(spec.request_examples().values())), ensure_ascii=False)
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return (
        f"curl -X POST http://{shown_host}:{port}{spec.base_path}{CUSTOMERS_PATH} \\\n"
        f'  -H "Authorization: Bearer {secret}" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        f"  -d '{example}'"
    )


def _how_to_get_a_key(data_dir: Path | None, db_url: str | None) -> str:
    """Keys are shown once, when created: on a later start, the command that makes another."""
    import shlex

    from billing_kit.handlers.spec import contract

    spec = contract()
    where = ""
    if db_url:
        where = f" --db {shlex.quote(_redact(db_url))}"
    elif data_dir is not None:
        where = f" --data-dir {shlex.quote(str(data_dir))}"
    envs = "|".join([spec.sandbox_environment, spec.live_environment])
    return (
        "This database has API keys; a key is shown only when it is created. "
        f"For a new one: billing-kit keys create --env {envs}{where}"
    )


def _check_bindable(host: str, port: int) -> None:
    """Fail with one line, before any worker starts, when the address is taken."""
    import socket

    try:
        with socket.create_server((host, port)):  # SO_REUSEADDR, as uvicorn binds
            pass
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise CliError(f"cannot listen on {host}:{port}: {reason}") from None


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@_db_options
def serve(host: str, port: int, workers: int, data_dir: Path | None, db_url: str | None) -> None:
    """Run the reference server (creates a sandbox key on first start)."""
    from billing_kit.handlers import keys
    from billing_kit.handlers.settings import DATA_DIR_ENV, DB_URL_ENV
    from billing_kit.handlers.spec import contract

    _check_bindable(host, port)
    location, storage = _storage(data_dir, db_url)
    click.echo(f"data dir: {location.data_dir}")
    click.echo(f"database: {_redact(location.db_url)}")
    try:
        from datetime import UTC, datetime

        from billing_kit.handlers.storage.base import IDEMPOTENCY_TTL

        storage.purge_idempotency(datetime.now(UTC) - IDEMPOTENCY_TTL)  # expired ones are ignored anyway
        if not storage.list_keys():
            sandbox = contract().sandbox_environment
            secret, record = keys.create_key(storage, sandbox)
            click.echo(f"Created a {sandbox} API key for {record.org_id} (shown once, keep it): {secret}")
            click.echo("Try it:\n" + _curl(host, port, secret))
        else:
            click.echo(_how_to_get_a_key(data_dir, db_url))
    finally:
        storage.close()
    os.environ[DATA_DIR_ENV] = str(location.data_dir)
    os.environ[DB_URL_ENV] = location.db_url
    sys.stdout.flush()

    import uvicorn

    from billing_kit.handlers.server import http_protocol

    uvicorn.run(
        "billing_kit.handlers.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http=http_protocol(),
        access_log=False,
        server_header=False,
        log_level="info",
    )


def _redact(url: str) -> str:
    from billing_kit.handlers.storage.url import redact

    return redact(url)


@click.group()
def keys() -> None:
    """Create, list and revoke API keys."""


@keys.command("create")
@click.option("--env", "environment", required=True, help="sandbox or live (the contract's environments).")
@click.option("--org", "org_id", help="Organisation id (default: the org of the first key, else a new one).")
@_db_options
def keys_create(environment: str, org_id: str | None, data_dir: Path | None, db_url: str | None) -> None:
    """Create a key; the key alone is printed on stdout (once), details on stderr."""
    from billing_kit.handlers import keys as api_keys

    _, storage = _storage(data_dir, db_url)
    try:
        secret, record = api_keys.create_key(storage, environment, org_id)
    except api_keys.KeyCommandError as exc:
        raise CliError(str(exc)) from None
    finally:
        storage.close()
    click.echo(secret)
    click.echo(f"created {record.id} ({record.display}, {record.environment}, {record.org_id})", err=True)


@keys.command("list")
@_db_options
def keys_list(data_dir: Path | None, db_url: str | None) -> None:
    """List keys in display form (`sk_test_…abcd`)."""
    _, storage = _storage(data_dir, db_url)
    try:
        records = storage.list_keys()
    finally:
        storage.close()
    for record in records:
        state = f"revoked {record.revoked_at:%Y-%m-%d %H:%M}" if record.revoked_at else "active"
        click.echo(f"{record.id}  {record.display}  {record.environment:8} {record.org_id}  {state}")


@keys.command("revoke")
@click.argument("key")
@_db_options
def keys_revoke(key: str, data_dir: Path | None, db_url: str | None) -> None:
    """Revoke KEY (its id or display form); it gets 401 at once."""
    from billing_kit.handlers import keys as api_keys

    _, storage = _storage(data_dir, db_url)
    try:
        record = api_keys.revoke(storage, key)
    except api_keys.KeyCommandError as exc:
        raise CliError(str(exc)) from None
    finally:
        storage.close()
    click.echo(f"revoked {record.id} ({record.display})")


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@_db_options
def db_upgrade(data_dir: Path | None, db_url: str | None) -> None:
    """Create or upgrade the schema (idempotent)."""
    location, storage = _storage(data_dir, db_url)
    storage.close()
    click.echo(f"schema up to date: {_redact(location.db_url)}")
