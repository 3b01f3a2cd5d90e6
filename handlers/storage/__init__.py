"""Storage backends: SQLite by default, PostgreSQL for shared deployments."""
