"""Migrating without rebuilding every model of the app for each operation.

Two things made a fresh database's migration quadratic in the number of models (some 30 s of CPU with 250 models in
40 migrations), and both are skipped here where they cannot change the result.

1. `Migration.apply` copies the whole state before every operation (`State.clone`: every model class rebuilt), to
hand the operation's database step the state as it was before. Only a rename, an alteration or a removal reads that
old state; creating a model, adding a field, an index or a constraint, or altering a model's options read only the
new one, and running SQL or Python changes no state (the state before is the state itself). `apply` copies only for
the operations that read it (`old_state_for`).

2. After each operation that changes models, tortoise's migration state re-renders the changed models (and those
related to them) and then, in `StateApps._build_initial_querysets`, finalises every model of every app again: its
filters, its base queries. That is quadratic: with 250 models in 40 migrations it was about 9,000 finalisations and
three quarters of a fresh database's migration. Finalising a model whose class and fields are unchanged since it
was last finalised gives the same result, so `build_changed_querysets` finalises only the models that are new (a
re-rendered class) or whose fields changed (a relation's reverse side added), recognised by a fingerprint of their
fields kept on their class. The schema a migration makes is the same (tests/domain/test_migrations.py migrates a
database both ways and compares them).

Each replacement is installed only over the method it was written against (tortoise-orm 1.1.9's source, by its
SHA-256): a release that changes one keeps its own until this module is reviewed, and tests/domain/test_migrations.py,
which checks that both replacements are in place, fails to say so.
"""

from __future__ import annotations

import hashlib
import inspect
from typing import Any, cast

from pypika_tortoise.queries import Query, Table
from tortoise.migrations import operations as ops
from tortoise.migrations.migration import Migration
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state import State
from tortoise.migrations.schema_generator.state_apps import StateApps

# tortoise-orm 1.1.9's Migration.apply and StateApps._build_initial_querysets, as inspect.getsource gives them
REVIEWED_APPLY = "cfcb52644e210e9d95b762a837d2613aaeeb8477a276288710b0629d9b79efa7"
REVIEWED_BUILD = "da8c0c36dd194ebbeaadd3db560429d7f836599b5f2360d5f4dccdd50c8b3768"
ORIGINAL_APPLY = Migration.apply
ORIGINAL_BUILD = StateApps._build_initial_querysets

# database_forward reads only the new state
NEW_STATE_ONLY: tuple[type[ops.Operation], ...] = (
    ops.CreateModel,
    ops.AddField,
    ops.AddIndex,
    ops.AddConstraint,
    ops.AlterModelOptions,
)
# state_forward changes nothing: the state before the operation is the state itself
NO_STATE_CHANGE: tuple[type[ops.Operation], ...] = (ops.RunPython, ops.RunSQL, ops.SQLOperation)


def source_digest(method: Any) -> str:
    return hashlib.sha256(inspect.getsource(method).encode()).hexdigest()


def old_state_for(operation: ops.Operation, state: State) -> State | None:
    """The state as it was before `operation`, for its database step: a copy only where the operation reads it."""
    if type(operation) in NO_STATE_CHANGE:
        return state
    if type(operation) in NEW_STATE_ONLY:
        return None
    return state.clone()


async def apply(
    self: Migration,
    state: State,
    *,
    dry_run: bool = False,
    schema_editor: BaseSchemaEditor | None = None,
    collect_sql: bool = False,
) -> State:
    """tortoise's Migration.apply, but for which state before each operation is copied (`old_state_for`)."""
    supports_transactions = schema_editor is not None and schema_editor.client.capabilities.supports_transactions
    need_old_state = (collect_sql and schema_editor) or (not dry_run and schema_editor is not None)
    for operation in self.operations:
        old_state = old_state_for(operation, state) if need_old_state else None
        operation.state_forward(self.app_label, state)
        if collect_sql and schema_editor:
            schema_editor.collected_sql.append("--")
            schema_editor.collected_sql.append(f"-- {operation.describe()}")
            schema_editor.collected_sql.append("--")
            if not operation.reduces_to_sql:
                schema_editor.collected_sql.append("-- THIS OPERATION CANNOT BE REPRESENTED AS SQL")
                continue
            before = len(schema_editor.collected_sql)
            await self._run_database_forward(operation, old_state, state, schema_editor, supports_transactions)  # type: ignore[arg-type]
            if len(schema_editor.collected_sql) == before:
                schema_editor.collected_sql.append("-- (no-op)")
            continue
        if dry_run or not schema_editor:
            continue
        await self._run_database_forward(operation, old_state, state, schema_editor, supports_transactions)  # type: ignore[arg-type]
    state.validate_relations_initialized()
    return state


# kept on the model class (a re-rendered model is a new class; its meta has slots only)
_FINALISED = "_palmtrade_finalised"


def _fingerprint(meta: Any) -> tuple[Any, ...]:
    return (id(meta), meta.default_connection, meta.db_table, meta.schema, tuple(meta.fields_map))


def build_changed_querysets(self: StateApps) -> None:
    """StateApps._build_initial_querysets for the models that changed since they were last finalised."""
    if self._connections._db_config is None:
        return
    for app in self.apps.values():
        for model in app.values():
            meta = model._meta
            if meta.default_connection is None or not meta._inited:
                continue
            if model.__dict__.get(_FINALISED) == _fingerprint(meta):
                continue
            meta.finalise_model()
            meta.basetable = Table(name=meta.db_table, schema=meta.schema)
            basequery = meta.db.query_class.from_(meta.basetable)
            meta.basequery = cast(Query, basequery)
            meta.basequery_all_fields = cast(Query, basequery.select(*meta.db_fields))
            setattr(model, _FINALISED, _fingerprint(meta))


def install() -> bool:
    """Puts `apply` and `build_changed_querysets` in place of tortoise's, each only over the reviewed one; whether
    both are in place."""
    if source_digest(ORIGINAL_APPLY) == REVIEWED_APPLY:
        Migration.apply = apply  # type: ignore[method-assign]
    if source_digest(ORIGINAL_BUILD) == REVIEWED_BUILD:
        StateApps._build_initial_querysets = build_changed_querysets  # type: ignore[method-assign]
    return installed()


def installed() -> bool:
    building: Any = StateApps._build_initial_querysets
    return cast(Any, Migration.apply) is apply and building is build_changed_querysets


def uninstall() -> None:
    """tortoise's own methods back (tests/domain/test_migrations.py migrates with them to compare)."""
    Migration.apply = ORIGINAL_APPLY  # type: ignore[method-assign]
    StateApps._build_initial_querysets = ORIGINAL_BUILD  # type: ignore[method-assign]
