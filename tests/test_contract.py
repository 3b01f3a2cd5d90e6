"""conformance.contract: every value the kit uses is read from the spec, and a spec
that lacks one fails to load with a SpecError (a one-line `Error:` in the CLI)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from billing_kit.conformance.contract import SpecError, load_contract

BUNDLED = load_contract()


def spec_copy(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    spec = json.loads(json.dumps(BUNDLED.spec))
    change(spec)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True))
    return path


def bearer(spec: dict[str, Any]) -> dict[str, Any]:
    scheme: dict[str, Any] = spec["components"]["securitySchemes"]["bearerAuth"]
    return scheme


def test_the_bundled_environments_come_from_the_key_prefixes() -> None:
    assert {BUNDLED.sandbox_environment, BUNDLED.live_environment} == set(BUNDLED.environments)
    assert BUNDLED.sandbox_environment == bearer(BUNDLED.spec)["x-sandbox-environment"]
    for prefix, env in BUNDLED.key_prefixes.items():
        assert BUNDLED.environment_of_key(prefix + "abc") == env
        assert BUNDLED.prefix_of_environment(env) == prefix


def test_renamed_environments_follow_the_spec(tmp_path: Path) -> None:
    def rename(spec: dict[str, Any]) -> None:
        spec["components"]["schemas"]["Environment"]["enum"] = ["prod", "test"]
        bearer(spec)["x-key-prefixes"] = {"rk_prod_": "prod", "rk_test_": "test"}
        bearer(spec)["x-sandbox-environment"] = "test"

    contract = load_contract(spec_copy(tmp_path, rename))
    assert (contract.sandbox_environment, contract.live_environment) == ("test", "prod")
    assert contract.environment_of_key("rk_test_x") == "test"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: bearer(s).pop("x-sandbox-environment"), "x-sandbox-environment"),
        (lambda s: bearer(s).__setitem__("x-sandbox-environment", "staging"), "x-sandbox-environment"),
        (lambda s: bearer(s).__setitem__("x-key-prefixes", {"sk_test_": "sandbox"}), "exactly one environment"),
        (lambda s: bearer(s).__setitem__("x-key-prefixes", {"sk_x_": "other"}), "not in the environment enum"),
    ],
    ids=["missing", "unknown", "no-live", "outside-enum"],
)
def test_a_spec_without_what_the_kit_needs_does_not_load(
    tmp_path: Path, change: Callable[[dict[str, Any]], Any], message: str
) -> None:
    with pytest.raises(SpecError, match=message):
        load_contract(spec_copy(tmp_path, change))
