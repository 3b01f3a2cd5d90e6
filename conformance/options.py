"""The run configuration from a front door's options: one constructor for `check`, `demo` and the plugin.

`build_config` validates the options and raises `CliError` naming the first bad one;
`check_keys` refuses keys of the wrong environment before anything is sent.
"""

from __future__ import annotations

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
    return with_case(config) if config.case else config


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
