"""Fresh PostgreSQL schemas for benchmark and crash runs, dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import psycopg

SCHEMA_PREFIX = "bench_"


def new_schema(server_url: str) -> tuple[str, str]:
    """A new empty schema and a URL whose connections use it."""
    schema = f"{SCHEMA_PREFIX}{uuid.uuid4().hex[:16]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in server_url else "?"
    return schema, f"{server_url}{separator}options={quote(f'-csearch_path={schema}')}"


def drop_schema(server_url: str, schema: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@contextmanager
def fresh_schema(server_url: str) -> Iterator[str]:
    """The URL of a new schema, dropped on exit."""
    schema, url = new_schema(server_url)
    try:
        yield url
    finally:
        drop_schema(server_url, schema)
