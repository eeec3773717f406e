"""signing_key.private_jwk (plaintext) becomes sealed_jwk: each private key sealed under the deployment's
key-encryption key (domain/accounts/key_encryption.py), which is not in the database; the plaintext column is
dropped."""

import json

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps


async def seal_private_keys(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    from domain.accounts.key_encryption import migration_ring

    ring = migration_ring()
    client = schema_editor.client
    mark = "$1, $2, $3" if client.capabilities.dialect == "postgres" else "?, ?, ?"
    first, second, third = mark.split(", ")
    _, rows = await client.execute_query("SELECT kid, private_jwk FROM signing_key")
    for row in rows:
        jwk = row["private_jwk"]
        plain = jwk.encode() if isinstance(jwk, str) else jwk if isinstance(jwk, bytes) else json.dumps(jwk).encode()
        sealed = await ring.seal(plain, row["kid"])
        await client.execute_query(
            f"UPDATE signing_key SET sealed_jwk = {first}, kek_id = {second} WHERE kid = {third}",
            [sealed, ring.current.id, row["kid"]],
        )


class Migration(migrations.Migration):
    dependencies = [('palmtrade', '0021_expert_devices')]

    initial = False

    operations = [
        ops.AddField(
            model_name='SigningKey',
            name='sealed_jwk',
            field=fields.TextField(db_default=''),
        ),
        ops.AddField(
            model_name='SigningKey',
            name='kek_id',
            field=fields.CharField(db_default='', max_length=40),
        ),
        ops.RunPython(seal_private_keys, ops.RunPython.noop),
        ops.RemoveField(
            model_name='SigningKey',
            name='private_jwk',
        ),
    ]
