"""The platform's private signing keys at rest: AES-256-GCM envelopes under a key-encryption key (KEK).

    envelope    "kek1.<kek id>.<wrapped data key>.<nonce + ciphertext + tag>" (base64url parts)
    data key    32 random bytes per sealed value; the value is AES-256-GCM under it with the associated
                data "palmtrade signing-key v1 <kid>", so an envelope copied onto another row does not open
    wrapped     the data key encrypted by the KEK the envelope names, bound to the same associated data

The KEK never enters the database: a database read alone (a dump, a replica, a backup) gives no key
that signs tokens, archive manifests or evidence. `KeyEncryptionKey` is the hook a KMS plugs into:
`LocalKek` holds 32 bytes from a setting or a file; in production in mainland China a KMS
implementation would wrap and unwrap the data key inside Aliyun KMS (Encrypt / Decrypt with an
EncryptionContext) or Tencent Cloud KMS (Encrypt / Decrypt, EncryptionContext), the KEK never
leaving it. Neither client is built yet.

A `KekRing` is the newest KEK, which wraps, and older ones that still unwrap: to rotate, put a new
KEK first, re-wrap every stored key (`python -m api.manage rewrap-keys`), then drop the old one.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.common.errors import DomainError

VERSION = "kek1"
DEFAULT_FILE = Path("data/key-encryption-keys")  # development only: made on first run, mode 0600
_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


class SigningKeyUnreadable(DomainError):
    """A stored signing key that no KEK of the ring opens: another deployment's database, or a KEK dropped
    before its keys were re-wrapped."""

    code = "SIGNING_KEY_UNREADABLE"
    message_zh = (
        "签名密钥 {kid} 无法用已配置的密钥加密密钥解开（需要 {kek}）：数据库来自其他部署，或旧的 KEK 在重新封装前被移除"
    )
    message_en = (
        "Signing key {kid} cannot be opened with the configured key-encryption keys (it needs {kek}): the "
        "database comes from another deployment, or an old KEK was removed before re-wrapping"
    )


class KekConfigurationError(ValueError):
    """A KEY_ENCRYPTION_KEYS entry or key file that is not `id:<32 bytes base64url>` per key."""


class KeyEncryptionKey(Protocol):
    """Wraps and unwraps data keys; a KMS implementation keeps its key inside the KMS."""

    @property
    def id(self) -> str: ...

    async def wrap(self, data_key: bytes, context: bytes) -> bytes: ...

    async def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        """The data key; InvalidTag (or the KMS's refusal) when this KEK did not wrap it for this context."""
        ...


@dataclass(frozen=True)
class LocalKek:
    """A KEK held in the process: 32 bytes from KEY_ENCRYPTION_KEYS or a key file."""

    id: str
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not _ID.fullmatch(self.id) or len(self.secret) != 32:
            raise KekConfigurationError("a KEK is an id of [A-Za-z0-9_-]{1,40} and 32 bytes")

    async def wrap(self, data_key: bytes, context: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + AESGCM(self.secret).encrypt(nonce, data_key, context)

    async def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        return AESGCM(self.secret).decrypt(wrapped[:12], wrapped[12:], context)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _context(label: str, kek_id: str) -> bytes:
    return f"palmtrade signing-key v1 {label} {kek_id}".encode()


class KekRing:
    """The KEKs of a deployment, newest first: the first wraps, every one unwraps what it wrapped."""

    def __init__(self, keks: Sequence[KeyEncryptionKey]) -> None:
        if not keks:
            raise KekConfigurationError("at least one key-encryption key is needed")
        ids = [k.id for k in keks]
        if len(set(ids)) != len(ids):
            raise KekConfigurationError("two key-encryption keys share an id")
        self.keks = tuple(keks)
        self._by_id = {k.id: k for k in keks}

    @property
    def current(self) -> KeyEncryptionKey:
        return self.keks[0]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(k.id for k in self.keks)

    async def seal(self, plaintext: bytes, label: str) -> str:
        """The plaintext in an envelope under a fresh data key wrapped by the newest KEK, bound to `label`."""
        kek = self.current
        data_key = AESGCM.generate_key(256)
        nonce = os.urandom(12)
        body = nonce + AESGCM(data_key).encrypt(nonce, plaintext, _context(label, kek.id))
        wrapped = await kek.wrap(data_key, _context(label, kek.id))
        return f"{VERSION}.{kek.id}.{_b64(wrapped)}.{_b64(body)}"

    async def open(self, envelope: str, label: str) -> bytes:
        """The plaintext of an envelope sealed for `label`; SigningKeyUnreadable when no KEK here opens it."""
        kek_id = kek_of(envelope)
        kek = self._by_id.get(kek_id or "")
        if kek is None or kek_id is None:
            raise SigningKeyUnreadable(kid=label, kek=kek_id or "?")
        _, _, wrapped, body = envelope.split(".")
        try:
            raw_wrapped, raw_body = _unb64(wrapped), _unb64(body)
            data_key = await kek.unwrap(raw_wrapped, _context(label, kek_id))
            return AESGCM(data_key).decrypt(raw_body[:12], raw_body[12:], _context(label, kek_id))
        except (InvalidTag, ValueError, binascii.Error):
            raise SigningKeyUnreadable(kid=label, kek=kek_id) from None

    async def rewrap(self, envelope: str, label: str) -> str:
        """The same plaintext under the newest KEK (a new data key too); the envelope itself if already there."""
        if kek_of(envelope) == self.current.id:
            return envelope
        return await self.seal(await self.open(envelope, label), label)


def kek_of(envelope: str) -> str | None:
    """The id of the KEK an envelope was sealed under, or None for anything that is not an envelope."""
    parts = envelope.split(".") if isinstance(envelope, str) else []
    if len(parts) != 4 or parts[0] != VERSION or not _ID.fullmatch(parts[1]):
        return None
    return parts[1]


def new_entry(kek_id: str | None = None) -> str:
    """A new KEK as a KEY_ENCRYPTION_KEYS entry or key-file line: `id:<32 random bytes base64url>`."""
    return f"{kek_id or 'kek-' + secrets.token_hex(4)}:{_b64(secrets.token_bytes(32))}"


def parse_entries(entries: Iterable[str]) -> list[LocalKek]:
    """`id:<base64url 32 bytes>` entries, newest first (blank entries and # comments skipped)."""
    keks = []
    for raw in entries:
        entry = raw.strip()
        if not entry or entry.startswith("#"):
            continue
        kek_id, sep, secret = entry.partition(":")
        try:
            keks.append(LocalKek(kek_id.strip(), _unb64(secret.strip()) if sep else b""))
        except (ValueError, binascii.Error):
            raise KekConfigurationError(f"KEK {kek_id.strip()!r}: expected id:<32 bytes base64url>") from None
    return keks


def local_ring(entries: Sequence[str] = (), path: Path | str | None = DEFAULT_FILE, create: bool = True) -> KekRing:
    """The ring from explicit entries, else from the key file (one entry a line, newest first), made with one
    fresh KEK and mode 0600 when missing and `create` (development: production names its KEKs)."""
    if entries:
        return KekRing(parse_entries(entries))
    if path is None:
        raise KekConfigurationError("no key-encryption key: set KEY_ENCRYPTION_KEYS or KEY_ENCRYPTION_KEY_FILE")
    file = Path(path)
    if not file.exists():
        if not create:
            raise KekConfigurationError(f"key-encryption key file {file} does not exist")
        file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(new_entry() + "\n")
    return KekRing(parse_entries(file.read_text().splitlines()))


_default: dict[str, KekRing] = {}


def default_ring() -> KekRing:
    """The ring of callers that are given none (tests, benches): the
    development key file. The composition root always passes the ring of its settings."""
    key = str(DEFAULT_FILE.resolve())
    if key not in _default:
        _default[key] = local_ring()
    return _default[key]
