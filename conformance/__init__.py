"""The conformance suite for POST /v1/customers, shipped with its spec."""
