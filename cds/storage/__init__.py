"""What the service keeps between requests: one interface (:class:`Storage`), two engines.

SQLite (the default, a file, no server) serves the worker processes of one host; PostgreSQL
(``postgresql://…``) serves replicas on many. The PostgreSQL driver is imported only when used.
"""

from __future__ import annotations

from cds.storage.base import FeedbackCounts, FeedbackRow, Storage, StorageUnavailable

POSTGRES_SCHEMES = ("postgresql://", "postgres://")

__all__ = [
    "POSTGRES_SCHEMES",
    "FeedbackCounts",
    "FeedbackRow",
    "Storage",
    "StorageUnavailable",
    "open_storage",
]


def open_storage(
    database_url: str | None,
    sqlite_path: str,
    *,
    pool_size: int = 5,
    timeout: float = 2.0,
) -> Storage:
    """PostgreSQL when ``database_url`` is a ``postgresql://`` URL, else SQLite at ``sqlite_path``.

    :raise ValueError: for a URL of any other scheme (a typo must not fall back to SQLite).
    """
    if not database_url:
        from cds.storage.sqlite import SqliteStorage

        return SqliteStorage(sqlite_path)
    if not database_url.startswith(POSTGRES_SCHEMES):
        raise ValueError("CDS_DATABASE_URL must start with postgresql:// (or be unset for SQLite)")
    from cds.storage.postgres import PostgresStorage

    return PostgresStorage(database_url, pool_size=pool_size, timeout=timeout)
