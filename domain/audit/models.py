"""The audit trail: append-only and hash-chained (来源可溯、去向可查、监督留痕、责任可究)."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.manager import Manager
from tortoise.queryset import QuerySet

from domain.db import Model


class AppendOnlyError(RuntimeError):
    pass


class _AppendOnlyQuerySet(QuerySet[Any]):
    """Queries that read and insert, but refuse bulk updates and deletes."""

    def update(self, **kwargs: Any) -> Any:
        raise AppendOnlyError("audit entries are never updated")

    def bulk_update(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("audit entries are never updated")

    def delete(self) -> Any:
        raise AppendOnlyError("audit entries are never deleted")


class _AppendOnlyManager(Manager):
    def get_queryset(self) -> QuerySet[Any]:
        return _AppendOnlyQuerySet(self._model)


class AuditEntry(Model):
    """One state change or refused attempt, the hash covers every field and the previous hash."""

    seq = fields.BigIntField(primary_key=True, generated=False)
    event_id = fields.UUIDField(unique=True)
    at = fields.DatetimeField()
    actor = fields.CharField(max_length=128)
    actor_user_id = fields.BigIntField(null=True)
    actor_org_id = fields.BigIntField(null=True)
    action = fields.CharField(max_length=64, db_index=True)
    object_type = fields.CharField(max_length=64)
    object_id = fields.CharField(max_length=64)
    outcome = fields.CharField(max_length=16)
    digest = fields.CharField(max_length=64)
    prev_hash = fields.CharField(max_length=64)
    hash = fields.CharField(max_length=64, unique=True)

    class Meta:
        table = "audit_entry"
        indexes = (("object_type", "object_id"),)
        manager = _AppendOnlyManager()

    async def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._saved_in_db:
            await super().save(*args, **kwargs)
            return
        raise AppendOnlyError("audit entries are never updated")

    async def delete(self, *args: Any, **kwargs: Any) -> None:
        raise AppendOnlyError("audit entries are never deleted")


class AuditHeadExport(Model):
    """A periodic copy of the chain head, the same line is written to the export file."""

    id = fields.BigIntField(primary_key=True)
    seq = fields.BigIntField()
    hash = fields.CharField(max_length=64)
    exported_at = fields.DatetimeField()

    class Meta:
        table = "audit_head_export"
