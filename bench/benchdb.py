"""What the benchmark scripts share: their own PostgreSQL database, and the tiny size.

Every script takes ``--tiny``: the same code paths at a size that runs in seconds, which
``tests/test_benchmarks.py`` runs inside ``make test`` so that no script rots unseen. A script
that needs a database then runs on a throw-away one (``throwaway_database``): a unique name
on the server of ``DATABASE_URL``, created empty and dropped when the script exits, so a
tiny run never touches the developer's database, the pytest database or a benchmark's own.
"""

import atexit
import os
from urllib.parse import urlsplit, urlunsplit

TINY_PREFIX = "ascend_bench_tiny_"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"


def _connect(parts):
    import psycopg2

    conn = psycopg2.connect(dbname="postgres", user=parts.username or None, password=parts.password or None,
                            host=parts.hostname or None, port=parts.port or None)
    conn.autocommit = True
    return conn


def ensure_database(url: str, fresh: bool = False) -> None:
    """Create the PostgreSQL database named in ``url`` when it is missing (drop it first when ``fresh``)."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        return
    from psycopg2 import sql

    name = parts.path.lstrip("/")
    conn = _connect(parts)
    try:
        with conn.cursor() as cur:
            if fresh:
                cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
                print(f"Dropped database {name}.")
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cur.fetchone() is None:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                print(f"Created database {name}.")
    finally:
        conn.close()


def drop_database(url: str) -> None:
    """Drop the database named in ``url`` (its connections too), if it exists."""
    parts = urlsplit(url)
    from psycopg2 import sql

    conn = _connect(parts)
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(parts.path.lstrip("/"))))
    finally:
        conn.close()


def tiny_database_name(script: str, pid: int | None = None) -> str:
    """The throw-away database of a tiny run of ``script`` in process ``pid`` (this one by default)."""
    return f"{TINY_PREFIX}{script}_{pid or os.getpid()}"


def throwaway_database(script: str) -> str:
    """A new database on the server of ``DATABASE_URL`` (PostgreSQL; by default
    postgres@127.0.0.1:5432), named after the script and this process, dropped when the
    process exits: empty, or a copy of ``BENCH_TINY_TEMPLATE`` when that names a database.
    Sets ``DATABASE_URL`` to it (before ``django.setup()``) and returns it."""
    configured = urlsplit(os.environ.get("DATABASE_URL") or DEFAULT_SERVER)
    if not configured.scheme.startswith("postgres"):
        configured = urlsplit(DEFAULT_SERVER)
    name = tiny_database_name(script)
    url = urlunsplit((configured.scheme, configured.netloc, f"/{name}", "", ""))
    drop_database(url)  # a left-over of an earlier process with the same pid
    template = os.environ.get("BENCH_TINY_TEMPLATE")
    if template:  # a migrated database to copy (tests/test_benchmarks.py makes one): no migrations to run
        from psycopg2 import sql

        conn = _connect(urlsplit(url))
        try:
            with conn.cursor() as cur:
                cur.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                            sql.Identifier(template)))
        finally:
            conn.close()
        print(f"Created database {name} from {template}.")
    else:
        ensure_database(url)
    atexit.register(_drop_quietly, url, os.getpid())
    os.environ["DATABASE_URL"] = url
    return url


def _drop_quietly(url: str, owner: int) -> None:
    if os.getpid() != owner:  # a forked child exiting normally: the database is its parent's
        return
    try:
        from django.db import connections

        connections.close_all()
    except Exception:  # noqa: BLE001, S110 - Django may not be set up; DROP ... WITH (FORCE) copes
        pass
    drop_database(url)
    print(f"Dropped database {urlsplit(url).path.lstrip('/')}.")
