"""The reference server for POST /v1/customers."""
