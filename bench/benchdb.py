"""What the benchmark scripts share: their own PostgreSQL database."""

from urllib.parse import urlsplit


def ensure_database(url: str, fresh: bool = False) -> None:
    """Create the PostgreSQL database named in ``url`` when it is missing (drop it first when ``fresh``)."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        return
    import psycopg2
    from psycopg2 import sql

    name = parts.path.lstrip("/")
    conn = psycopg2.connect(dbname="postgres", user=parts.username or None, password=parts.password or None,
                            host=parts.hostname or None, port=parts.port or None)
    conn.autocommit = True
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
