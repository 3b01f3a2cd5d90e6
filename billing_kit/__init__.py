"""billing-kit: the Customers API contract, its reference server, suite and docs."""

from billing_kit.conformance.version import __version__

__all__ = ["__version__"]
