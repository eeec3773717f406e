"""Contract changes and terminations signed by both parties; contract objects for old records (issue 22).

A change row becomes a proposal with its kind (change or termination), status, proposing side and both parties'
signatures; rows from before were in effect (db_default "effective"), and their effect time is their record time.
An award may have no ranked candidate (the winner of an online auction, reverse auction or listing). A contract
recorded by contractRecord before this migration gets its contract object (origin "recorded")."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

BACKFILL_DECIDED = "UPDATE result_contract_change SET decided_at = changed_at WHERE decided_at IS NULL"

# one contract per award whose contract was recorded without one: active, or completed with its performance record
BACKFILL_CONTRACTS = """
INSERT INTO result_contract (
    lot_id, award_id, organisation_id, contract_no, original_fen, amount_fen, document_ids, documents_sha256,
    status, drafted_by, drafted_at, signed_on, announcement_id, origin, updated_at
)
SELECT a.lot_id, a.id, a.organisation_id, a.contract_no, a.contract_amount_fen, a.contract_amount_fen, '[]', '[]',
    CASE WHEN a.status = 'completed' THEN 'completed' ELSE 'active' END,
    NULL, a.contract_recorded_at, a.contract_signed_on,
    (SELECT MAX(n.id) FROM announcement n WHERE n.lot_id = a.lot_id AND n.type = 'contract'
        AND n.status = 'published'),
    'recorded', a.contract_recorded_at
FROM result_award a
WHERE a.contract_recorded_at IS NOT NULL AND a.contract_no IS NOT NULL AND a.contract_amount_fen IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM result_contract c WHERE c.lot_id = a.lot_id)
"""


class Migration(migrations.Migration):
    dependencies = [('palmtrade', '0030_post_qualification')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Award',
            name='candidate_id',
            field=fields.BigIntField(null=True),
        ),
        ops.AddField(
            model_name='Contract',
            name='origin',
            field=fields.CharField(default='platform', db_default='platform', max_length=16),
        ),
        ops.AddField(
            model_name='ContractChange',
            name='kind',
            field=fields.CharField(default='change', db_default='change', max_length=16),
        ),
        ops.AddField(
            model_name='ContractChange',
            name='status',
            field=fields.CharField(default='proposed', db_default='effective', max_length=16),
        ),
        ops.AddField(
            model_name='ContractChange',
            name='documents_sha256',
            field=fields.JSONField(null=True),
        ),
        ops.AddField(
            model_name='ContractChange',
            name='proposed_by',
            field=fields.CharField(null=True, max_length=8),
        ),
        ops.AddField(
            model_name='ContractChange',
            name='buyer_signature_id',
            field=fields.BigIntField(null=True),
        ),
        ops.AddField(
            model_name='ContractChange',
            name='buyer_signed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='ContractChange',
            name='supplier_signature_id',
            field=fields.BigIntField(null=True),
        ),
        ops.AddField(
            model_name='ContractChange',
            name='supplier_signed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='ContractChange',
            name='decided_by',
            field=fields.BigIntField(null=True),
        ),
        ops.AddField(
            model_name='ContractChange',
            name='decided_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='ContractChange',
            name='decision_note',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.RunSQL(BACKFILL_DECIDED, ops.RunSQL.noop),
        ops.RunSQL(BACKFILL_CONTRACTS, ops.RunSQL.noop),
    ]
