"""The run configuration from a front door's options: one constructor for `check`, `demo` and the plugin.

`build_config` validates the options and raises `CliError` naming the first bad one;
`check_keys` refuses keys of the wrong environment before anything is sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from billing_kit.conformance.errors import CliError

if TYPE_CHECKING:
    from billing_kit.conformance.config import RunConfig


def _parse_header(raw: str) -> tuple[str, str]:
    name, sep, value = raw.partition(":")
    if not sep or not name.strip() or any(c in name for c in " \t"):
        raise CliError(f"-H expects 'Name: value', got {raw!r}")
    return name.strip(), value.strip()


def build_config(**opts: Any) -> RunConfig:
    """Validate the options; raise CliError naming the first bad one."""
    import secrets
    from urllib.parse import urlsplit

    from billing_kit.conformance import clauses
    from billing_kit.conformance.config import RunConfig

    base_url = opts["base_url"]
    if not base_url:
        raise CliError("--base-url is required (e.g. http://127.0.0.1:8000/v1)")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CliError(f"--base-url must be an http(s) URL with the API prefix, got {base_url!r}")
    if opts["cacert"] and opts["insecure"]:
        raise CliError("--cacert and --insecure exclude each other")
    only = tuple(c.strip().upper() for c in (opts["only"] or "").split(",") if c.strip())
    unknown = [c for c in only if c not in clauses.BY_ID]
    if unknown:
        raise CliError(f"--only names unknown clause(s) {', '.join(unknown)}; see --list")
    for name in ("examples", "timeout", "max_time"):
        if opts[name] is not None and opts[name] <= 0:
            raise CliError(f"--{name.replace('_', '-')} must be positive")
    if opts.get("confirm") is not None and opts["confirm"] < 0:
        raise CliError("--confirm must be 0 (off) or more")
    if opts["live_key"] and not opts["allow_live"]:
        opts["live_key"] = None  # never used without --allow-live
    verify: bool | str = str(opts["cacert"]) if opts["cacert"] else not opts["insecure"]
    seed = opts["seed"] if opts["seed"] is not None else secrets.randbelow(2**31)
    extra = {k: opts[k] for k in ("examples", "timeout", "max_time", "clock_skew") if opts[k] is not None}
    if opts.get("confirm") is not None:
        extra["confirm"] = opts["confirm"]
    return RunConfig(
        base_url=base_url.rstrip("/"),
        api_key=opts["api_key"] or None,
        live_key=opts["live_key"] or None,
        allow_live=opts["allow_live"],
        spec=opts["spec"],
        strict=opts["strict"],
        seed=seed,
        headers=tuple(_parse_header(h) for h in opts["header"]),
        verify=verify,
        only=only,
        **extra,
    )


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
