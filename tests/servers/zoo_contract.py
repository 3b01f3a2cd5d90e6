"""Print the spec's values as JSON, for zoo servers written in languages without a YAML parser.

    python tests/servers/zoo_contract.py [--spec PATH] > contract.json

The Node.js zoo server reads this file: the values come from the spec in use,
through conformance.contract, never typed a second time.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def contract_values(spec: str | None = None) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from billing_kit.conformance.contract import load_contract

    contract = load_contract(spec)
    return {
        "customers_path": f"{contract.base_path}/customers",
        "fields": contract.request_fields,
        "required": contract.required_request_fields,
        "max_lengths": contract.max_lengths,
        "object_fields": contract.object_fields,
        "body_limit": contract.body_bytes_limit,
        "depth_limit": contract.nesting_depth_limit,
        "header_timeout_seconds": contract.limits.get("header_timeout_seconds", 10),
        "body_timeout_seconds": contract.limits.get("body_timeout_seconds", 30),
        "id_prefix": contract.id_prefix,
        "key_prefixes": contract.key_prefixes,
        "environments": contract.environments,
        "idempotency_key_max_length": contract.idempotency_key_max_length,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--spec", default=None)
    args = parser.parse_args()
    json.dump(contract_values(args.spec), sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
