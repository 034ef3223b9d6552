"""Persistence: the database tables, migrations and the single-writer store."""
