"""Where `billing-kit check` options come from: flags, then the environment, then a file.

    --config PATH                 a TOML file of options (top level, or a [tool.billing-kit] table)
    ./billing-kit.toml            read when --config is not given
    ./pyproject.toml              its [tool.billing-kit] table, when there is no billing-kit.toml
    $BILLING_<OPTION>             every option (BILLING_BASE_URL, BILLING_EXAMPLES, BILLING_STRICT, …)

Flags beat the environment, the environment beats the file: click reads a flag
first, then the option's `envvar`, then `ctx.default_map`, which the eager
`--config` callback fills from the file. Keys are option names with dashes or
underscores (`base-url` or `base_url`); an unknown key is one `Error:` line
naming it. Keys are never read from a file: they come from flags or the
environment, so a committed config file holds no secret.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from billing_kit.conformance.errors import InputError

FILE_NAME = "billing-kit.toml"
PYPROJECT = "pyproject.toml"
TABLE = "billing-kit"
ENV_PREFIX = "BILLING_"
# Options that name a file: a relative path in a config file is relative to that file.
PATH_OPTIONS = frozenset({"cacert", "report_json", "junit", "html", "baseline", "spec"})
SECRET_OPTIONS = frozenset({"api_key", "live_key"})
# Deliberate one-off acts, never a standing setting of a committed file.
FLAG_ONLY_OPTIONS = frozenset({"baseline_update"})
NOT_CONFIGURABLE = frozenset({"config", "list_format", "version", "help"})

SOURCES_HELP = (
    "Options come from, first to last: flags; environment variables "
    f"${ENV_PREFIX}<OPTION> (e.g. ${ENV_PREFIX}BASE_URL, ${ENV_PREFIX}API_KEY, ${ENV_PREFIX}EXAMPLES); "
    f"a config file (--config PATH, else ./{FILE_NAME}, else [tool.{TABLE}] in ./{PYPROJECT}). "
    "Keys (api-key, live-key) are read from flags or the environment only; -H from flags or the file."
)


FC = TypeVar("FC", bound=Callable[..., Any] | click.Command)


class ConfigError(InputError, click.ClickException):
    exit_code = 2


def env_name(param_name: str) -> str:
    return ENV_PREFIX + param_name.upper()


def add_environment(command: click.Command) -> None:
    """Give every configurable option without one an environment variable $BILLING_<NAME>."""
    for param in command.params:
        # No variable for a `multiple` option: click splits its value on spaces (-H 'Name: value').
        named = isinstance(param, click.Option) and param.name and param.name not in NOT_CONFIGURABLE
        if named and param.name and not param.envvar and not getattr(param, "multiple", False):
            param.envvar = env_name(param.name)


def configurable(command: click.Command) -> dict[str, click.Option]:
    return {
        p.name: p
        for p in command.params
        if isinstance(p, click.Option) and p.name and p.name not in NOT_CONFIGURABLE and p.expose_value
    }


def find_file(cwd: Path) -> tuple[Path, dict[str, Any]] | None:
    """The options table of ./billing-kit.toml, else of ./pyproject.toml's [tool.billing-kit]; None when neither."""
    own = cwd / FILE_NAME
    if own.is_file():
        return own, _table(own, _read(own))
    pyproject = cwd / PYPROJECT
    if pyproject.is_file():
        document = _read(pyproject)
        tool = document.get("tool", {})
        if isinstance(tool, dict) and isinstance(tool.get(TABLE), dict):
            return pyproject, dict(tool[TABLE])
    return None


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _table(path: Path, document: dict[str, Any]) -> dict[str, Any]:
    """A file of options: the top level, or its [tool.billing-kit] table when it has one."""
    tool = document.get("tool")
    if isinstance(tool, dict) and isinstance(tool.get(TABLE), dict):
        return dict(tool[TABLE])
    return document


def default_map(command: click.Command, path: Path, table: dict[str, Any]) -> dict[str, Any]:
    """The file's options as click's default_map; ConfigError naming the first unknown or misused key."""
    options = configurable(command)
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = str(key).replace("-", "_")
        if name in SECRET_OPTIONS:
            raise ConfigError(
                f"{path}: key {key!r} is a secret; pass it as ${env_name(name)} or --{name.replace('_', '-')}"
            )
        if name in FLAG_ONLY_OPTIONS:
            raise ConfigError(f"{path}: key {key!r} is a one-off action; pass --{name.replace('_', '-')} instead")
        option = options.get(name)
        if option is None:
            known = sorted(n.replace("_", "-") for n in options)
            close = difflib.get_close_matches(str(key).replace("_", "-"), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(known)})"
            raise ConfigError(f"{path}: unknown key {key!r}{hint}")
        out[name] = _value(path, key, name, option, value)
    return out


def _value(path: Path, key: str, name: str, option: click.Option, value: Any) -> Any:
    if isinstance(value, dict):
        raise ConfigError(f"{path}: key {key!r} takes a value, not a table")
    if option.multiple:
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]
    if isinstance(value, list):
        if name != "only":
            raise ConfigError(f"{path}: key {key!r} takes one value, not a list")
        return ",".join(str(v) for v in value)
    if name in PATH_OPTIONS and isinstance(value, str) and "://" not in value:
        return str((path.parent / value).resolve()) if not Path(value).is_absolute() else value
    return value


def load_callback(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    """The eager `--config` option: fill ctx.default_map from the file (or the one found in the cwd)."""
    if ctx.resilient_parsing:
        return
    if value is not None:
        if not value.is_file():
            raise ConfigError(f"--config {value}: no such file")
        found: tuple[Path, dict[str, Any]] | None = (value, _table(value, _read(value)))
    else:
        found = find_file(Path.cwd())
    if found is None:
        return
    path, table = found
    ctx.default_map = {**(ctx.default_map or {}), **default_map(ctx.command, path, table)}


def config_option() -> Callable[[FC], FC]:
    """The `--config PATH` decorator."""
    return click.option(
        "--config",
        type=click.Path(dir_okay=False, path_type=Path),
        is_eager=True,
        expose_value=False,
        callback=load_callback,
        metavar="PATH",
        help=f"Options from this TOML file (default: ./{FILE_NAME}, or [tool.{TABLE}] in ./{PYPROJECT}).",
    )
