"""The checks, one module per clause family; each registers itself with `@check`.

The registry lives in `conformance/registry.py` (it imports no check and not
the context); these names are re-exported so `from
billing_kit.conformance.checks import check` keeps working.
"""

from __future__ import annotations

from billing_kit.conformance.registry import REGISTRY, CheckFunc, CheckSpec, check, checks_for, load_all

__all__ = ["REGISTRY", "CheckFunc", "CheckSpec", "check", "checks_for", "load_all"]
