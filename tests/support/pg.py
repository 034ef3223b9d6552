"""The tests' throwaway PostgreSQL cluster (it lives in the package: `bianmin demo county` starts one too)."""

from queue_server.store.pg_cluster import MIN_VERSION, USER, PgCluster, PgUnavailable, find_bindir

__all__ = ["MIN_VERSION", "USER", "PgCluster", "PgUnavailable", "find_bindir"]
