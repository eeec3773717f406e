"""signing_key.private_jwk (plaintext) becomes sealed_jwk: each private key sealed under the deployment's
key-encryption key (domain/accounts/key_encryption.py), which is not in the database; the plaintext column is
dropped.

The envelope is frozen here as key_encryption.KekRing.seal wrote it when this migration was written (it imports
nothing of the domain); the KEK itself is lent by the process that migrates (domain/migrations/_deployment.py):

    "kek1.<kek id>.<wrapped data key>.<nonce + ciphertext + tag>" (base64url parts), AES-256-GCM under a fresh
    data key, associated data "palmtrade signing-key v1 <kid> <kek id>", the data key wrapped by the KEK
"""

import base64
import json
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

from domain.migrations._deployment import Kek, lent_kek


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def _seal(kek: Kek, plaintext: bytes, kid: str) -> str:
    context = f"palmtrade signing-key v1 {kid} {kek.id}".encode()
    data_key = AESGCM.generate_key(256)
    nonce = os.urandom(12)
    body = nonce + AESGCM(data_key).encrypt(nonce, plaintext, context)
    wrapped = await kek.wrap(data_key, context)
    return f"kek1.{kek.id}.{_b64(wrapped)}.{_b64(body)}"


async def seal_private_keys(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    client = schema_editor.client
    mark = "$1, $2, $3" if client.capabilities.dialect == "postgres" else "?, ?, ?"
    first, second, third = mark.split(", ")
    _, rows = await client.execute_query("SELECT kid, private_jwk FROM signing_key")
    if not rows:
        return
    kek = lent_kek()
    for row in rows:
        jwk = row["private_jwk"]
        plain = jwk.encode() if isinstance(jwk, str) else jwk if isinstance(jwk, bytes) else json.dumps(jwk).encode()
        sealed = await _seal(kek, plain, row["kid"])
        await client.execute_query(
            f"UPDATE signing_key SET sealed_jwk = {first}, kek_id = {second} WHERE kid = {third}",
            [sealed, kek.id, row["kid"]],
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
