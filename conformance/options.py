"""The run configuration from a front door's options: one constructor for `check`, `demo` and the plugin.

`build_config` validates the options and raises `CliError` naming the first bad one;
`check_keys` refuses keys of the wrong environment before anything is sent.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from billing_kit.conformance.errors import CliError

if TYPE_CHECKING:
    from billing_kit.conformance.config import RunConfig


def build_config(**opts: Any) -> RunConfig:
    """Validate the options with `config.from_options`; raise CliError naming the first bad one."""
    from billing_kit.conformance.config import OptionError, from_options

    try:
        config = from_options(**opts)
    except OptionError as exc:
        raise CliError(str(exc)) from None
    deep = _deep_options(opts.get("duration"), opts.get("workers"), opts.get("max_time"), opts.get("until"))
    if deep:
        config = dataclasses.replace(config, **deep)
    return with_case(config) if config.case else config


def _deep_options(
    duration: str | None, workers: int | None, max_time: float | None, until: str | float | None = None
) -> dict[str, Any]:
    """--duration, --until and --workers; without --max-time a deep run may take its duration plus the default
    budget. --until without --duration: at most DEFAULT_MAX_TIME (600 s) of rounds."""
    from billing_kit.conformance.config import DEFAULT_MAX_TIME
    from billing_kit.conformance.deep import parse_duration
    from billing_kit.conformance.until import parse_rate
    from billing_kit.conformance.workers import MAX_WORKERS, default_workers

    rate = None
    if until is not None:
        try:
            rate = parse_rate(until)
        except ValueError as exc:
            raise CliError(str(exc)) from None
    if duration is None and rate is None:
        if workers is not None:
            raise CliError("--workers needs --duration (the default run is sequential)")  # or --until
        return {}
    try:
        seconds = parse_duration(duration) if duration is not None else DEFAULT_MAX_TIME
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if workers is not None and not 1 <= workers <= MAX_WORKERS:
        raise CliError(f"--workers must be between 1 and {MAX_WORKERS}, got {workers}")
    deep: dict[str, Any] = {"duration": seconds, "workers": workers or default_workers(), "until": rate}
    if max_time is None:
        deep["max_time"] = seconds + DEFAULT_MAX_TIME
    return deep


def with_case(config: RunConfig) -> RunConfig:
    """`--case ID`: the run selects the case's clause; an unknown id is a CliError naming close matches."""
    from dataclasses import replace
    from difflib import get_close_matches

    from billing_kit.conformance import corpora

    assert config.case is not None
    if config.only:
        raise CliError("--case and --only exclude each other (a case names its clause)")
    found = corpora.find_case(config.case)
    if found is None:
        close = get_close_matches(config.case, corpora.case_ids(), n=5, cutoff=0.5)
        hint = f"close matches: {', '.join(close)}" if close else "the ids are in conformance/corpora/*.json"
        raise CliError(f"--case {config.case!r} is no corpus case; {hint}")
    return replace(config, only=(found[1].clause,))


def check_keys(config: RunConfig, contract: Any) -> None:
    from billing_kit.conformance.redact import mask_key

    if config.api_key:
        env = contract.environment_of_key(config.api_key)
        if env is None:
            raise CliError(
                f"--api-key {mask_key(config.api_key)} has none of the prefixes {', '.join(contract.key_prefixes)}"
            )
        if env == contract.live_environment:
            raise CliError("--api-key is a live key; pass it as --live-key with --allow-live")
    if config.live_key and contract.environment_of_key(config.live_key) != contract.live_environment:
        raise CliError(f"--live-key {mask_key(config.live_key)} is not a live key")
