"""The options of one run, and the one constructor that validates them (CLI, `demo` and the pytest plugin).

`from_options` refuses, before anything is sent, every value the run cannot
honour: a port out of range, non-finite or non-positive durations, more
Hypothesis examples than MAX_EXAMPLES, a key or header with a control
character (a trailing `\\r` from a CRLF file), a rate or connection count out
of range. Each refusal is an `OptionError` naming the option.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from billing_kit.conformance.errors import InputError

DEFAULT_EXAMPLES = 50
MAX_EXAMPLES = 1000  # Hypothesis draws every case up front: past this it spends minutes before the first request
DEFAULT_TIMEOUT = 5.0
MAX_TIMEOUT = 600.0
DEFAULT_MAX_TIME = 600.0
MAX_MAX_TIME = 7 * 24 * 3600.0
DEFAULT_CLOCK_SKEW = 300.0
DEFAULT_MAX_SHRINK_REQUESTS = 60
DEFAULT_MAX_CONNECTIONS = 32
MAX_CONNECTIONS = 256
MAX_RATE = 100_000.0
LIVE_CREATE_CAP = 5
DEFAULT_CONFIRM = 2


class OptionError(InputError, ValueError):
    """An option value the run cannot honour; the message names the option."""


@dataclass(frozen=True)
class RunConfig:
    base_url: str
    api_key: str | None = None
    live_key: str | None = None
    allow_live: bool = False
    spec: str | None = None
    strict: bool = False
    seed: int = 0
    examples: int = DEFAULT_EXAMPLES
    timeout: float = DEFAULT_TIMEOUT
    max_time: float = DEFAULT_MAX_TIME
    clock_skew: float = DEFAULT_CLOCK_SKEW
    headers: tuple[tuple[str, str], ...] = ()
    verify: bool | str = True
    only: tuple[str, ...] = ()
    case: str | None = None  # `--case ID`: only this corpus case, sent by the check(s) that own its corpus
    # Requests Hypothesis may spend shrinking a failure before the smallest found so far is kept.
    max_shrink_requests: int = DEFAULT_MAX_SHRINK_REQUESTS
    # Each FAIL/WARN's smallest case is sent this many more times before it is reported (0: off).
    confirm: int = DEFAULT_CONFIRM
    rate: float | None = None  # requests per second, every thread together
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    # --duration / --workers (conformance/deep.py): seconds of fresh cases after the default checks.
    duration: float | None = None
    workers: int = 1
    # --until RATE (conformance/until.py): the rounds end once every clause they judge rules out RATE.
    until: float | None = None

    @property
    def live_enabled(self) -> bool:
        return bool(self.live_key and self.allow_live)


def _control(value: str) -> str | None:
    """The first control or non-ASCII character of a key/header value, as Python would write it."""
    for char in value:
        if not (0x20 <= ord(char) < 0x7F):
            return repr(char)
    return None


def _check_key(option: str, key: str | None) -> None:
    if not key:
        return
    bad = _control(key) if key.strip() == key else repr(key[-1] if key[-1].isspace() else key[0])
    if bad is not None:
        hint = " (a line ending from a file saved with CRLF?)" if "\\r" in bad or "\\n" in bad else ""
        raise OptionError(f"{option} contains the character {bad}{hint}; a key is printable ASCII with no spaces")
    if " " in key:
        raise OptionError(f"{option} contains a space; a key is printable ASCII with no spaces")


def _check_base_url(base_url: str | None) -> str:
    if not base_url:
        raise OptionError("--base-url is required (e.g. http://127.0.0.1:8000/v1)")
    if _control(base_url) is not None or " " in base_url:
        raise OptionError(f"--base-url contains a space or control character: {base_url!r}")
    try:
        parts = urlsplit(base_url)
    except ValueError as exc:
        raise OptionError(f"--base-url is not a URL ({exc}): {base_url!r}") from None
    if parts.scheme not in ("http", "https") or not parts.netloc or not parts.hostname:
        raise OptionError(f"--base-url must be an http(s) URL with the API prefix, got {base_url!r}")
    try:
        port = parts.port
    except ValueError:
        raise OptionError(f"--base-url has a port out of range 1-65535: {base_url!r}") from None
    if port == 0:
        raise OptionError(f"--base-url has a port out of range 1-65535: {base_url!r}")
    if parts.query or parts.fragment:
        raise OptionError(f"--base-url takes no query or fragment, got {base_url!r}")
    return base_url.rstrip("/")


def _number(option: str, value: float | None, low: float, high: float, *, zero: bool = False) -> None:
    if value is None:
        return
    if not math.isfinite(value):
        raise OptionError(f"{option} must be a finite number, got {value}")
    if value < 0 or (value == 0 and not zero):
        raise OptionError(f"{option} must be positive")
    if value < low or value > high:
        raise OptionError(f"{option} must be between {low:g} and {high:g}, got {value:g}")


def parse_header(raw: str) -> tuple[str, str]:
    name, sep, value = raw.partition(":")
    if not sep or not name.strip() or any(c in name for c in " \t"):
        raise OptionError(f"-H expects 'Name: value', got {raw!r}")
    if _control(name.strip() + value.strip()) is not None:
        raise OptionError(f"-H {name.strip()}: the value contains a control character")
    return name.strip(), value.strip()


def from_options(
    *,
    base_url: str | None,
    api_key: str | None = None,
    live_key: str | None = None,
    allow_live: bool = False,
    spec: str | None = None,
    strict: bool = False,
    seed: int | None = None,
    examples: int | None = None,
    timeout: float | None = None,
    max_time: float | None = None,
    clock_skew: float | None = None,
    header: Iterable[str] = (),
    cacert: Any = None,
    insecure: bool = False,
    only: str | None = None,
    case: str | None = None,
    rate: float | None = None,
    max_connections: int | None = None,
    confirm: int | None = None,
    known_clauses: Iterable[str] | None = None,
    **_ignored: Any,
) -> RunConfig:
    """The run configuration from option values (None: the default); OptionError names the first bad one."""
    url = _check_base_url(base_url)
    if cacert and insecure:
        raise OptionError("--cacert and --insecure exclude each other")
    selected = tuple(c.strip().upper() for c in (only or "").split(",") if c.strip())
    if known_clauses is None:
        from billing_kit.conformance import clauses

        known_clauses = clauses.BY_ID
    known = set(known_clauses)
    unknown = [c for c in selected if c not in known]
    if unknown:
        raise OptionError(f"--only names unknown clause(s) {', '.join(unknown)}; see --list")
    if examples is not None and examples <= 0:
        raise OptionError("--examples must be positive")
    if examples is not None and examples > MAX_EXAMPLES:
        raise OptionError(f"--examples must be at most {MAX_EXAMPLES}, got {examples}")
    _number("--timeout", timeout, 0.01, MAX_TIMEOUT)
    _number("--max-time", max_time, 0.01, MAX_MAX_TIME)
    _number("--clock-skew", clock_skew, 0, MAX_MAX_TIME, zero=True)
    _number("--rate", rate, 0.01, MAX_RATE)
    if max_connections is not None and not 1 <= max_connections <= MAX_CONNECTIONS:
        raise OptionError(f"--max-connections must be between 1 and {MAX_CONNECTIONS}, got {max_connections}")
    if confirm is not None and confirm < 0:
        raise OptionError("--confirm must be 0 (off) or more")
    _check_key("--api-key", api_key)
    # Kept without --allow-live (`live_enabled` is False then): a SKIP can say the flag is what is missing.
    _check_key("--live-key", live_key)
    verify: bool | str = str(cacert) if cacert else not insecure
    extra: dict[str, Any] = {
        name: value
        for name, value in (
            ("examples", examples),
            ("timeout", timeout),
            ("max_time", max_time),
            ("clock_skew", clock_skew),
            ("max_connections", max_connections),
            ("confirm", confirm),
        )
        if value is not None
    }
    return RunConfig(
        base_url=url,
        api_key=api_key or None,
        live_key=live_key or None,
        allow_live=allow_live,
        spec=spec,
        strict=strict,
        seed=seed if seed is not None else secrets.randbelow(2**31),
        headers=tuple(parse_header(h) for h in header),
        verify=verify,
        only=selected,
        case=case or None,
        rate=rate,
        **extra,
    )
