"""Hall configuration: the typed schema, the TOML loader and the bundled default catalogue."""
