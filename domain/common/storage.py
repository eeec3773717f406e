"""What differs between SQLite and PostgreSQL, in one place."""

from __future__ import annotations

import zlib
from typing import Any, TypeVar

from tortoise import connections
from tortoise.exceptions import DoesNotExist
from tortoise.queryset import QuerySet

from domain.db import Model

M = TypeVar("M", bound=Model)


def using_postgres() -> bool:
    dialect: str = connections.get("default").capabilities.dialect
    return dialect == "postgres"


async def lock_named(name: str) -> None:
    """Holds a transaction-scoped lock by name (PostgreSQL); SQLite has a single writer anyway."""
    if using_postgres():
        key = zlib.crc32(name.encode())
        await connections.get("default").execute_query("SELECT pg_advisory_xact_lock($1)", [key])


def claim(query: QuerySet[M]) -> QuerySet[M]:
    """Rows for this worker alone: FOR UPDATE SKIP LOCKED on PostgreSQL, as is on SQLite."""
    if using_postgres():
        return query.select_for_update(skip_locked=True)
    return query


def lock(query: QuerySet[M]) -> QuerySet[M]:
    """FOR NO KEY UPDATE on PostgreSQL: one holder at a time, as FOR UPDATE, but an insert of a row that refers to
    the locked one (its foreign-key check takes FOR KEY SHARE) does not wait for it. FOR UPDATE made every
    registration, commitment and network fact of a lot wait for a bid submission holding the lot. On SQLite the
    transaction already has the single writer."""
    if using_postgres():
        return query.select_for_update(no_key=True)
    return query


async def lock_shared(model: type[Model], pk: int) -> None:
    """FOR SHARE on one row (PostgreSQL): many readers at once, a writer waits for them all;
    SQLite's single writer needs nothing."""
    if using_postgres():
        await connections.get("default").execute_query(
            f'SELECT 1 FROM "{model._meta.db_table}" WHERE "{model._meta.pk_attr}" = $1 FOR SHARE', [pk]
        )


async def read_shared(model: type[M], pk: Any) -> M:
    """The row of this primary key under FOR SHARE (PostgreSQL) in one statement: the lock `lock_shared` takes and
    the row a `get` would read after it (the lock held, nobody changes it until the transaction ends). SQLite's
    single writer needs no lock: a plain `get`. DoesNotExist when there is no such row."""
    if not using_postgres():
        return await model.get(pk=pk)
    db = connections.get("default")
    meta = model._meta
    columns = ",".join(f'"{column}"' for column in meta.fields_db_projection.values())
    sql = f'SELECT {columns} FROM "{meta.db_table}" WHERE "{meta.db_pk_column}"=$1 FOR SHARE'
    rows: list[M] = await db.executor_class(model=model, db=db).execute_select(sql, [pk])
    if not rows:
        raise DoesNotExist(model)
    return rows[0]
