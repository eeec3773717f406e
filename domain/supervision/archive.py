"""A lot's electronic archive (电子档案): one zip of every file and record of the lot, with a manifest of their
SHA-256 signed by the platform, kept as a document of the lot and never deleted (no deletion path exists).

    manifest.json   canonical JSON: format "palmtrade.archive/1", lot, generatedAt, generatedBy, evidence
                    (path, SHA-256 and kid of the evidence package), files (path, document id, purpose, name,
                    SHA-256, size, version, superseded by, stored at)
    manifest.jws    the same manifest as a compact JWS (ES256, the platform's signing key, typ
                    palmtrade-archive+json): verify it against /.well-known/jwks.json
    evidence.jws    the lot's evidence package (evidence.py): audit trail with hashes, records, bid receipts
    files/<purpose>/<document id>-<name>   every file of the lot, superseded versions and sealed bid files
                    included (a sealed bid file as its ciphertext, its opened version beside it)

`verify` checks all of it offline: the manifest's signature and that it is the manifest in the zip, every file
against its SHA-256, every listed file present, and the evidence package's signature and hashes.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import tempfile
import zipfile
from typing import IO, Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from domain.accounts.tokens import KeyRing
from domain.common import clock, ecdsa
from domain.common.actors import Actor
from domain.common.events import canonical_json
from domain.documents import downloads, storing
from domain.documents.models import Document
from domain.supervision import evidence

FORMAT = "palmtrade.archive/1"
TYP = "palmtrade-archive+json"


def _member(doc: Document) -> str:
    return f"files/{doc.purpose}/{doc.id}-{doc.name}"


async def build(actor: Actor, lot_id: int, keyring: KeyRing) -> Document:
    """Packs the lot's archive now (operators and the category's supervisors) and keeps it as a document of the
    lot; every build is a new document, earlier ones stay."""
    lot, project = await evidence.visible_lot(actor, lot_id)
    package = await evidence.package(actor, lot.id, keyring)
    files = await Document.filter(lot_id=lot.id).exclude(purpose="lot_archive").order_by("id")
    now = clock.now()
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "lot": {
            "id": lot.id,
            "tradeCode": lot.trade_code,
            "name": lot.name,
            "category": project.category,
            "status": lot.status,
        },
        "generatedAt": now.isoformat(),
        "generatedBy": actor.label,
        "evidence": {"path": "evidence.jws", "sha256": package.sha256, "kid": package.kid},
        "files": [
            {
                "path": _member(d),
                "documentId": d.id,
                "purpose": d.purpose,
                "name": d.name,
                "sha256": d.sha256,
                "size": d.size,
                "version": d.version,
                "supersededBy": d.superseded_by_id,
                "storedAt": d.created_at.isoformat(),
            }
            for d in files
        ],
    }
    token, _ = await evidence.sign(manifest, keyring, TYP)
    with tempfile.TemporaryFile() as out:
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as z:
            z.writestr("manifest.json", canonical_json(manifest))
            z.writestr("manifest.jws", token)
            z.writestr("evidence.jws", package.jws)
            for doc in files:
                with z.open(_member(doc), "w", force_zip64=True) as member:
                    async for block in downloads.read(doc):
                        await asyncio.to_thread(member.write, block)
        stamp = now.astimezone(clock.SHANGHAI).strftime("%Y%m%d%H%M%S")
        made = storing.Made(
            name=f"电子档案-{lot.trade_code}-{stamp}.zip",
            purpose="lot_archive",
            owner_type="Lot",
            owner_id=lot.id,
            lot_id=lot.id,
        )
        return await storing.keep_file(out, made)


def verify(archive: IO[bytes], jwks: dict[str, Any]) -> dict[str, Any]:
    """The manifest of an archive whose signature, files and evidence package all hold; evidence.EvidenceInvalid
    naming the first failure otherwise."""
    try:
        z = zipfile.ZipFile(archive)
        signed = z.read("manifest.jws").decode()
        plain = z.read("manifest.json")
        package = z.read("evidence.jws").decode()
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError) as err:
        raise evidence.EvidenceInvalid(reason=f"archive: {type(err).__name__}") from None
    try:
        decoded = jws.deserialize_compact(signed, KeySet.import_key_set(jwks), registry=ecdsa.ES256)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as err:
        raise evidence.EvidenceInvalid(reason=f"manifest signature: {type(err).__name__}") from None
    if decoded.headers().get("typ") != TYP or decoded.payload != plain:
        raise evidence.EvidenceInvalid(reason="manifest.json is not the signed manifest")
    manifest: dict[str, Any] = json.loads(plain)
    if hashlib.sha256(package.encode()).hexdigest() != manifest["evidence"]["sha256"]:
        raise evidence.EvidenceInvalid(reason="evidence.jws is not the package the manifest names")
    evidence.verify_package(package, jwks)
    names = set(z.namelist())
    for item in manifest["files"]:
        if item["path"] not in names:
            raise evidence.EvidenceInvalid(reason=f"missing {item['path']}")
        digest = hashlib.sha256()
        try:
            with z.open(item["path"]) as member:
                while block := member.read(1024 * 1024):
                    digest.update(block)
        except zipfile.BadZipFile:
            raise evidence.EvidenceInvalid(reason=f"{item['path']} is damaged") from None
        if digest.hexdigest() != item["sha256"]:
            raise evidence.EvidenceInvalid(reason=f"{item['path']} does not match its SHA-256")
    return manifest
