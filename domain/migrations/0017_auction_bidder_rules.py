"""auction.require_signed_bids and auction.require_two_factor_for_bids: the lot's bidder rules, which a bid
reads from the auction row it locks (set when bidding starts; filled here for auctions not over yet)."""

import json

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

FLAGS = ("require_signed_bids", "require_two_factor_for_bids")


async def copy_lot_rules(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    client = schema_editor.client
    _, rows = await client.execute_query(
        "SELECT a.id, l.config FROM auction a JOIN lot l ON l.id = a.lot_id"
        " WHERE a.phase IN ('scheduled', 'free', 'timed')"
    )
    for row in rows:
        config = row["config"]
        if isinstance(config, (str, bytes)):
            config = json.loads(config)
        for flag in FLAGS:
            if (config or {}).get(flag) is True:
                await client.execute_script(f"UPDATE auction SET {flag} = TRUE WHERE id = {int(row['id'])}")


class Migration(migrations.Migration):
    dependencies = [('palmtrade', '0016_certificates')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Auction',
            name='require_signed_bids',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Auction',
            name='require_two_factor_for_bids',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.RunPython(copy_lot_rules, ops.RunPython.noop),
    ]
