"""The contract in use: the OpenAPI document and every value read from it.

Everything the reference server, the suite and the docs need to know about the
contract (limits, the id prefix, the environment enum, required fields, key
prefixes) is read here from the spec, never typed a second time in code.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from billing_kit.conformance.errors import InputError

SPEC_NAME = "openapi.yaml"
CUSTOMERS_PATH = "/customers"


class SpecError(InputError):
    """The spec cannot be loaded or lacks something the kit relies on."""


def bundled_spec_bytes() -> bytes:
    """The spec shipped in the package (or, in a source checkout, the root copy)."""
    packaged = resources.files("billing_kit.conformance").joinpath(SPEC_NAME)
    if packaged.is_file():
        return packaged.read_bytes()
    # Editable install or source checkout: the one copy at the repository root.
    return (Path(__file__).resolve().parent.parent / SPEC_NAME).read_bytes()


def _parse(raw: bytes, origin: str) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise SpecError(f"{origin} is not valid YAML or JSON: {exc}".splitlines()[0]) from None
    except RecursionError:
        raise SpecError(f"{origin} is nested too deeply to load") from None
    if not isinstance(doc, dict) or not str(doc.get("openapi", "")).startswith("3.0"):
        raise SpecError(f"{origin} is not an OpenAPI 3.0 document")
    return doc


Fetch = Callable[[str], bytes]


def read_spec_source(source: str | Path | None = None, fetch: Fetch | None = None) -> tuple[bytes, str]:
    """The raw bytes of a spec: bundled when `source` is None, else a path, or a URL read by `fetch`.

    The fetcher is the transport's (`spec_source.fetch`), handed in by the front doors: this
    layer imports nothing of the kit.
    """
    if source is None:
        return bundled_spec_bytes(), "bundled openapi.yaml"
    text = str(source)
    if text.startswith(("http://", "https://")):
        if fetch is None:
            raise SpecError(f"cannot load spec from {text}: a URL is read through spec_source.load_contract")
        return fetch(text), text
    try:
        return Path(text).read_bytes(), text
    except OSError as exc:
        raise SpecError(f"cannot read spec {text}: {exc.strerror}") from None


@dataclass(frozen=True)
class Contract:
    """The loaded spec, with accessors for every value the kit reads from it."""

    spec: dict[str, Any]
    sha256: str
    origin: str = "bundled openapi.yaml"

    # -- raw pieces -------------------------------------------------------
    def resolve(self, node: Any) -> Any:
        """Follow local `$ref`s (one level at a time, recursively)."""
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                raise SpecError(f"unsupported $ref {ref!r}")
            target: Any = self.spec
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def dereference(self, node: Any, seen: tuple[str, ...] = ()) -> Any:
        """`node` with every local `$ref` inside it replaced by its target (a named schema used twice is copied)."""
        if isinstance(node, list):
            return [self.dereference(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            ref = str(node["$ref"])
            if ref in seen:
                raise SpecError(f"{ref} refers to itself: the kit needs schemas without cycles")
            return self.dereference(self.resolve(node), (*seen, ref))
        return {key: self.dereference(value, seen) for key, value in node.items()}

    @cached_property
    def operation(self) -> dict[str, Any]:
        try:
            op = self.spec["paths"][CUSTOMERS_PATH]["post"]
        except (KeyError, TypeError):
            raise SpecError(f"the spec has no POST {CUSTOMERS_PATH}") from None
        return dict(op)

    @cached_property
    def request_schema(self) -> dict[str, Any]:
        body = self.resolve(self.operation["requestBody"])
        return dict(self.dereference(body["content"]["application/json"]["schema"]))

    @cached_property
    def response_schema(self) -> dict[str, Any]:
        created = self.resolve(self.operation["responses"]["201"])
        return dict(self.dereference(created["content"]["application/json"]["schema"]))

    def request_property(self, name: str) -> dict[str, Any]:
        return dict(self.resolve(self.request_schema["properties"][name]))

    def response_property(self, name: str) -> dict[str, Any]:
        return dict(self.resolve(self.response_schema["properties"][name]))

    # -- values the kit reads ----------------------------------------------
    @cached_property
    def request_fields(self) -> list[str]:
        return list(self.request_schema.get("properties", {}))

    @cached_property
    def required_request_fields(self) -> list[str]:
        return list(self.request_schema.get("required", []))

    @cached_property
    def response_fields(self) -> list[str]:
        """RES-1: the fields every 201 must carry."""
        return list(self.response_schema.get("required", []))

    @cached_property
    def max_lengths(self) -> dict[str, int]:
        """REQ-LEN-1: request string fields with a maxLength, and the limit."""
        out: dict[str, int] = {}
        for name in self.request_fields:
            prop = self.request_property(name)
            if prop.get("type") == "string" and "maxLength" in prop:
                out[name] = int(prop["maxLength"])
        return out

    @cached_property
    def optional_string_fields(self) -> list[str]:
        return [
            n
            for n in self.request_fields
            if n not in self.required_request_fields and self.request_property(n).get("type") == "string"
        ]

    @cached_property
    def object_fields(self) -> list[str]:
        return [n for n in self.request_fields if self.request_property(n).get("type") == "object"]

    @cached_property
    def id_pattern(self) -> str:
        """RES-ID-1: the id pattern, anchored, for use with `re.fullmatch`."""
        pattern = str(self.response_property("id")["pattern"])
        return pattern.removeprefix("^").removesuffix("$")

    @cached_property
    def id_prefix(self) -> str:
        match = re.match(r"[A-Za-z0-9_]+", self.id_pattern)
        if not match:
            raise SpecError("the id pattern does not start with a literal prefix")
        return match.group(0)

    def is_valid_id(self, value: object) -> bool:
        return isinstance(value, str) and re.fullmatch(self.id_pattern, value, flags=re.ASCII) is not None

    @cached_property
    def environments(self) -> list[str]:
        return [str(v) for v in self.response_property("environment")["enum"]]

    @cached_property
    def security_scheme(self) -> dict[str, Any]:
        schemes = self.spec.get("components", {}).get("securitySchemes", {})
        for requirement in self.operation.get("security", self.spec.get("security", [])):
            for name in requirement:
                return dict(self.resolve(schemes[name]))
        raise SpecError("the operation has no security scheme")

    @cached_property
    def key_prefixes(self) -> dict[str, str]:
        """AUTH-1: API key prefix -> environment."""
        prefixes = self.security_scheme.get("x-key-prefixes")
        if not isinstance(prefixes, dict) or not prefixes:
            raise SpecError("the security scheme has no x-key-prefixes")
        for env in prefixes.values():
            if env not in self.environments:
                raise SpecError(f"x-key-prefixes names {env!r}, not in the environment enum")
        return {str(k): str(v) for k, v in prefixes.items()}

    @cached_property
    def sandbox_environment(self) -> str:
        """The test environment (`x-sandbox-environment`): first keys and `--api-key` are of it."""
        env = self.security_scheme.get("x-sandbox-environment")
        if env not in self.key_prefixes.values():
            raise SpecError("x-sandbox-environment must name an environment of x-key-prefixes")
        return str(env)

    @cached_property
    def live_environment(self) -> str:
        """The one other environment: production, whose keys are used only when allowed."""
        others = {env for env in self.key_prefixes.values() if env != self.sandbox_environment}
        if len(others) != 1:
            raise SpecError("x-key-prefixes must name exactly one environment besides the sandbox")
        return others.pop()

    def environment_of_key(self, key: str) -> str | None:
        for prefix, env in self.key_prefixes.items():
            if key.startswith(prefix):
                return env
        return None

    def prefix_of_environment(self, environment: str) -> str:
        for prefix, env in self.key_prefixes.items():
            if env == environment:
                return prefix
        raise SpecError(f"no key prefix for environment {environment!r}")

    @cached_property
    def limits(self) -> dict[str, int]:
        """The server's own limits (`x-limits` on the operation)."""
        raw = self.operation.get("x-limits", {})
        if not isinstance(raw, dict):
            raise SpecError("x-limits must be a mapping of limit names to numbers")
        limits: dict[str, int] = {}
        for name, value in raw.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 2**53:
                raise SpecError(f"x-limits.{name} must be a non-negative number, got {value!r}"[:200])
            if value != int(value):
                raise SpecError(f"x-limits.{name} must be a whole number, got {value!r}")
            limits[str(name)] = int(value)
        return limits

    @property
    def body_bytes_limit(self) -> int:
        return self.limits["body_bytes"]

    @property
    def nesting_depth_limit(self) -> int:
        return self.limits["nesting_depth"]

    @property
    def header_bytes_limit(self) -> int:
        return self.limits["header_bytes"]

    @property
    def header_timeout_seconds(self) -> float:
        return float(self.limits["header_timeout_seconds"])

    @property
    def body_timeout_seconds(self) -> float:
        return float(self.limits["body_timeout_seconds"])

    @cached_property
    def idempotency_header(self) -> dict[str, Any]:
        for param in self.operation.get("parameters", []):
            param = self.resolve(param)
            if param.get("in") == "header" and str(param.get("name", "")).lower() == "idempotency-key":
                return dict(param)
        raise SpecError("the operation documents no Idempotency-Key header")

    @property
    def idempotency_key_max_length(self) -> int:
        return int(self.idempotency_header["schema"]["maxLength"])

    @cached_property
    def documented_statuses(self) -> list[int]:
        return sorted(int(code) for code in self.operation["responses"] if str(code).isdigit())

    @cached_property
    def base_path(self) -> str:
        """The path part of the first server URL (`/v1`)."""
        from urllib.parse import urlsplit

        servers = self.spec.get("servers") or [{"url": "/"}]
        return urlsplit(str(servers[0]["url"])).path.rstrip("/")

    @cached_property
    def server_url(self) -> str:
        servers = self.spec.get("servers") or [{"url": "/"}]
        return str(servers[0]["url"])

    def request_examples(self) -> dict[str, Any]:
        body = self.resolve(self.operation["requestBody"])
        examples = body["content"]["application/json"].get("examples", {})
        return {name: self.resolve(ex)["value"] for name, ex in examples.items()}


def load_contract(source: str | Path | None = None, fetch: Fetch | None = None) -> Contract:
    """Load the spec in use: the bundled one, or a path (or, with `fetch`, a URL) given by the user."""
    raw, origin = read_spec_source(source, fetch)
    spec = _parse(raw, origin)
    contract = Contract(spec=spec, sha256=hashlib.sha256(raw).hexdigest(), origin=origin)
    # Touch what every consumer needs, so a spec that lacks it fails at load.
    try:
        _ = (contract.max_lengths, contract.id_prefix, contract.environments, contract.key_prefixes, contract.limits)
        _ = (contract.sandbox_environment, contract.live_environment)
    except (KeyError, TypeError, AttributeError, ValueError, IndexError) as exc:
        raise SpecError(f"{origin} lacks {exc} where the kit expects it"[:300]) from None
    except RecursionError:
        raise SpecError(f"{origin} is nested too deeply to load") from None
    return contract


def bundled_sha256() -> str:
    return hashlib.sha256(bundled_spec_bytes()).hexdigest()
