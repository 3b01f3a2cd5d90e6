"""billing-kit: the Customers API contract, its reference server, suite and docs."""

__version__ = "0.1.0"
