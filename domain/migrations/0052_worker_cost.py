"""Issue 21, the outbox worker's cost per event: `audit_chain_link`, linking a batch onto the audit chain in one
statement (PostgreSQL). SQLite gets nothing: it links in Python (domain/audit/services.py).

The dispatcher prepared each entry's content outside any lock (`Unlinked`: every field but its place, `middle` the
canonical JSON of the fields between seq and the previous hash). This function, called last in the batch's
transaction, takes the chain's transaction-scoped advisory lock (its key from the caller), reads the head, skips the
events already on the chain (a redelivery), hashes each entry as domain/audit/services.entry_hash does
(SHA-256 of `[seq,<middle>,"<prev_hash>"]`, the UTF-8 bytes of the canonical JSON array) and inserts them in one
insert; it answers the entries it made. The lock is held from this one round trip to the commit (it was held for
three: the lock, the head, the insert). `audit.verify` recomputes every hash in Python, so a hash that differed
would be named by it (tests/domain/audit/test_chain.py).
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

FUNCTION = r"""
CREATE OR REPLACE FUNCTION audit_chain_link(
    p_lock bigint,
    p_event_id uuid[],
    p_at timestamptz[],
    p_actor text[],
    p_actor_user_id bigint[],
    p_actor_org_id bigint[],
    p_action text[],
    p_object_type text[],
    p_object_id text[],
    p_outcome text[],
    p_digest text[],
    p_middle text[]
) RETURNS TABLE (linked_seq bigint, linked_event_id uuid, linked_prev_hash text, linked_hash text)
LANGUAGE plpgsql AS $$
DECLARE
    v_seq bigint;
    v_prev text;
    v_hash text;
    v_present uuid[];
    v_index int[] := '{}';
    v_seqs bigint[] := '{}';
    v_prevs text[] := '{}';
    v_hashes text[] := '{}';
BEGIN
    PERFORM pg_advisory_xact_lock(p_lock);
    SELECT a.seq, a.hash INTO v_seq, v_prev FROM audit_entry a ORDER BY a.seq DESC LIMIT 1;
    IF v_seq IS NULL THEN
        v_seq := 0;
        v_prev := repeat('0', 64);
    END IF;
    SELECT coalesce(array_agg(a.event_id), '{}') INTO v_present FROM audit_entry a WHERE a.event_id = ANY (p_event_id);
    FOR i IN 1 .. coalesce(array_length(p_event_id, 1), 0) LOOP
        CONTINUE WHEN p_event_id[i] = ANY (v_present);
        v_seq := v_seq + 1;
        v_hash := encode(
            sha256(convert_to('[' || v_seq || ',' || p_middle[i] || ',"' || v_prev || '"]', 'UTF8')), 'hex'
        );
        v_index := v_index || i;
        v_seqs := v_seqs || v_seq;
        v_prevs := v_prevs || v_prev;
        v_hashes := v_hashes || v_hash;
        v_prev := v_hash;
    END LOOP;
    RETURN QUERY
    INSERT INTO audit_entry AS a (
        seq, event_id, at, actor, actor_user_id, actor_org_id, action, object_type, object_id, outcome, digest,
        prev_hash, hash
    )
    SELECT n.s, p_event_id[n.i], p_at[n.i], p_actor[n.i], p_actor_user_id[n.i], p_actor_org_id[n.i], p_action[n.i],
           p_object_type[n.i], p_object_id[n.i], p_outcome[n.i], p_digest[n.i], n.p, n.h
    FROM unnest(v_index, v_seqs, v_prevs, v_hashes) AS n(i, s, p, h)
    ORDER BY n.s
    RETURNING a.seq, a.event_id, a.prev_hash::text, a.hash::text;
END
$$;
"""

BACKWARD = (
    "DROP FUNCTION IF EXISTS audit_chain_link(bigint, uuid[], timestamptz[], text[], bigint[], bigint[], text[],"
    " text[], text[], text[], text[], text[])"
)


def _postgres(schema_editor: BaseSchemaEditor) -> bool:
    return bool(schema_editor.client.capabilities.dialect == "postgres")


async def create(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    if _postgres(schema_editor):
        await schema_editor.client.execute_script(FUNCTION)


async def drop(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    if _postgres(schema_editor):
        await schema_editor.client.execute_script(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0051_bid_round_trips")]  # noqa: RUF012

    initial = False

    operations = [  # noqa: RUF012
        ops.RunPython(create, drop),
    ]
