"""The reference server's hostile corpus (cases.json) and the raw-socket client that sends it."""
