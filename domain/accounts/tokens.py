"""ES256 access tokens: a key ring kept in the database, published as JWKS, rotated in place.

A new key is published `publish_lead` before it starts signing (so that every verifier's cached
JWKS already holds it), and an old key stays published until the last token it signed expired.
Private keys are stored only sealed under the deployment's key-encryption keys (key_encryption.py).
"""

from __future__ import annotations

import asyncio
import json
import math
import secrets
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet
from tortoise.transactions import in_transaction

from domain.accounts.key_encryption import KekRing, default_ring
from domain.accounts.models import SigningKey
from domain.common import clock, ecdsa
from domain.common.actors import Actor, Role
from domain.common.storage import lock_named

KIOSK_SELF_SCOPE = "kiosk:self"  # a QR kiosk session: the user's own data, read-only, on one terminal
ALGORITHMS = ["ES256"]  # explicit allow-list: the token header never chooses the algorithm
VERIFIED_CACHE_SIZE = 1024  # tokens whose signature this process checked (per key-ring load)


class InvalidToken(Exception):
    """No, a malformed, expired or foreign access token."""


class TokenRevoked(InvalidToken):
    """A valid access token of a session a password change or reset ended (ended_sessions.py): refused as an expired
    one is (UNAUTHENTICATED), told apart by its cause."""

    cause = "TOKEN_REVOKED"

    def __init__(self) -> None:
        super().__init__("the session ended with a password change; sign in again")


@dataclass(frozen=True, slots=True)
class TokenPolicy:
    issuer: str = "palmtrade"
    audience: str = "palmtrade-api"
    access_ttl: timedelta = timedelta(minutes=15)
    refresh_ttl: timedelta = timedelta(days=30)
    publish_lead: timedelta = timedelta(minutes=15)
    rotate_every: timedelta = timedelta(days=30)
    leeway_seconds: int = 30


class KeyRing:
    """The signing keys as this process last read them; reloads when a kid is unknown."""

    def __init__(self, policy: TokenPolicy | None = None, keks: KekRing | None = None) -> None:
        self.policy = policy or TokenPolicy()
        self.keks = keks or default_ring()
        self._rows: list[SigningKey] = []
        self._keys: dict[str, ECKey] = {}
        self._loaded_at: datetime | None = None
        self._reloading = asyncio.Lock()
        # signature checks of the current load: token -> what was verified. Only tokens that passed
        # the full verification enter; the time-dependent checks (the key still published, exp,
        # nbf, iat against the injected clock) are made again on every hit, against the window they
        # allow, worked out once. Cleared by load().
        self._verified: OrderedDict[str, _Verified] = OrderedDict()
        self._claims = jwt.JWTClaimsRegistry(
            now=_clock_seconds,
            leeway=self.policy.leeway_seconds,
            iss={"essential": True, "value": self.policy.issuer},
            aud={"essential": True, "value": self.policy.audience},
            sub={"essential": True},
            exp={"essential": True},
        )

    async def load(self, create_if_empty: bool = True) -> None:
        """Reads and unseals the keys; on a fresh database creates the first one, active at once.

        SigningKeyUnreadable when a key is sealed under a KEK this ring does not hold (another deployment's
        database, or a KEK dropped before `rewrap-keys`): the process does not start rather than sign nothing.
        """
        rows = await SigningKey.all().order_by("activates_at")
        if not rows and create_if_empty:
            async with in_transaction():
                await lock_named("signing_key")
                if not await SigningKey.exists():
                    await _create_key(clock.now(), clock.now(), self.keks)
            rows = await SigningKey.all().order_by("activates_at")
        keys = {}
        for r in rows:
            jwk = json.loads(await self.keks.open(r.sealed_jwk, r.kid))
            keys[r.kid] = ECKey.import_key(jwk, {"kid": r.kid, "alg": "ES256", "use": "sig"})
        self._rows = rows
        self._keys = keys
        self._verified.clear()  # checked against the keys as they were: check again
        self._loaded_at = clock.now()

    def _stale(self, seconds: float) -> bool:
        if self._loaded_at is None:
            return True
        age = (clock.now() - self._loaded_at).total_seconds()
        return age >= seconds or age < 0  # a clock set back must not freeze the ring

    async def refresh_if_older_than_seconds(self, seconds: float) -> None:
        """Re-reads the keys when the last read is that old; concurrent callers share one read."""
        if not self._stale(seconds):
            return
        async with self._reloading:
            if self._stale(seconds):
                await self.load(create_if_empty=False)

    def _published(self, now: datetime) -> list[SigningKey]:
        return [r for r in self._rows if r.retires_at is None or r.retires_at > now]

    def signing_kid(self, now: datetime) -> str:
        active = [r for r in self._published(now) if r.activates_at <= now]
        if not active:
            raise RuntimeError("no active signing key; run `python -m api.manage rotate-keys`")
        return active[-1].kid

    def private_key(self, kid: str) -> ECKey:
        """The unsealed private key of a loaded kid (for what the platform signs besides tokens)."""
        return self._keys[kid]

    def jwks(self) -> dict[str, Any]:
        """The public keys a verifier may meet: active, about to sign, or still honoured."""
        now = clock.now()
        keys = []
        for row in self._published(now):
            public = self._keys[row.kid].as_dict(private=False)
            keys.append({**public, "kid": row.kid, "alg": "ES256", "use": "sig"})
        return {"keys": keys}

    def issue(self, subject: str, claims: dict[str, Any], ttl: timedelta | None = None) -> tuple[str, datetime]:
        """Signs an access token for `subject`; returns it and its expiry."""
        now = clock.now()
        expires = now + (ttl or self.policy.access_ttl)
        kid = self.signing_kid(now)
        body = {
            **claims,
            "iss": self.policy.issuer,
            "aud": self.policy.audience,
            "sub": subject,
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
            "jti": secrets.token_urlsafe(12),
        }
        token = jwt.encode({"alg": "ES256", "kid": kid}, body, self._keys[kid], registry=ecdsa.ES256)
        return token, expires

    def kid_of(self, token: str) -> str | None:
        hit = self._verified.get(token)
        if hit is not None:
            return hit.kid
        try:
            kid = jws.extract_compact(token.encode()).headers().get("kid")
        except (JoseError, ValueError):
            return None
        return kid if isinstance(kid, str) else None

    def knows(self, kid: str | None) -> bool:
        return kid is not None and kid in self._keys

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid token, or InvalidToken.

        The signature of a token is checked once per key-ring load; everything that depends on
        the time (its key still published, exp and the other time claims) on every call.
        """
        now = clock.now()
        hit = self._verified.get(token)
        if hit is not None:
            if hit.holds(now):
                self._verified.move_to_end(token)
                return dict(hit.claims)
            del self._verified[token]  # expired, not yet valid or its key retired: the full check says why
        keyset = KeySet([self._keys[r.kid] for r in self._published(now)])
        try:
            decoded = jwt.decode(token, keyset, registry=ecdsa.ES256)  # low-S only: one string per token
            if decoded.header.get("alg") != "ES256" or "kid" not in decoded.header:
                raise InvalidToken("unexpected header")
            self._claims.validate(decoded.claims)
        except (JoseError, ValueError, KeyError) as err:
            raise InvalidToken(str(err) or type(err).__name__) from err
        self._remember(token, decoded.header["kid"], decoded.claims)
        return dict(decoded.claims)

    def actor(self, token: str, ip: str | None = None) -> Actor:
        """The actor of a valid token calling from `ip` (`actor_from_claims(verify(token), ip)`), or InvalidToken;
        made once per verified token and kept while the caller's address stays the same."""
        hit = self._verified.get(token)
        if hit is not None and hit.actor is not None and hit.actor.ip == ip and hit.holds(clock.now()):
            self._verified.move_to_end(token)
            return hit.actor
        actor = actor_from_claims(self.verify(token), ip=ip)
        remembered = self._verified.get(token)
        if remembered is not None:
            remembered.actor = actor
        return actor

    def _remember(self, token: str, kid: Any, claims: dict[str, Any]) -> None:
        if not isinstance(kid, str) or kid not in self._keys:
            return
        retires_at = next((r.retires_at for r in self._rows if r.kid == kid), None)
        self._verified[token] = _Verified(kid, claims, self.policy.leeway_seconds, retires_at)
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)


class _Verified:
    """A token whose signature and time-independent claims checked out, and the seconds in which its time claims
    hold as JWTClaimsRegistry checks them with the leeway: from max(nbf, iat) - leeway (inclusive) to exp + leeway
    (exclusive), and only while its key is published."""

    __slots__ = ("actor", "claims", "kid", "not_after", "not_before", "retires_at")

    def __init__(self, kid: str, claims: dict[str, Any], leeway: int, retires_at: datetime | None) -> None:
        self.kid = kid
        self.claims = claims
        starts = [claims[name] for name in ("nbf", "iat") if name in claims]
        self.not_before: float = max(starts) - leeway if starts else -math.inf
        self.not_after: float = claims["exp"] + leeway
        self.retires_at = retires_at
        self.actor: Actor | None = None

    def holds(self, now: datetime) -> bool:
        seconds = int(now.timestamp())  # as _clock_seconds gives the claims registry
        return self.not_before <= seconds < self.not_after and (self.retires_at is None or self.retires_at > now)


def _clock_seconds() -> int:
    """Now for the claims checks, from the injected clock (tests move it)."""
    return int(clock.now().timestamp())


async def _create_key(now: datetime, activates_at: datetime, keks: KekRing) -> SigningKey:
    key = ECKey.generate_key("P-256", private=True)
    kid = f"{now:%Y%m%d}-{uuid.uuid4().hex[:8]}"
    return await SigningKey.create(
        kid=kid,
        sealed_jwk=await keks.seal(json.dumps(key.as_dict(private=True)).encode(), kid),
        kek_id=keks.current.id,
        created_at=now,
        activates_at=activates_at,
        retires_at=None,
    )


async def rotate(policy: TokenPolicy, now: datetime | None = None, keks: KekRing | None = None) -> SigningKey:
    """Publishes a new key that signs from now + publish_lead; retires the others after that."""
    when = now or clock.now()
    async with in_transaction():
        await lock_named("signing_key")
        new = await _create_key(when, when + policy.publish_lead, keks or default_ring())
        retire_at = new.activates_at + policy.access_ttl + timedelta(seconds=policy.leeway_seconds)
        await SigningKey.filter(retires_at=None).exclude(kid=new.kid).update(retires_at=retire_at)
    return new


async def rotate_if_due(policy: TokenPolicy, now: datetime, keks: KekRing | None = None) -> SigningKey | None:
    """Rotates when the newest key is older than the rotation period; drops long-retired keys."""
    newest = await SigningKey.all().order_by("-created_at").first()
    await SigningKey.filter(retires_at__lt=now - timedelta(days=7)).delete()
    if newest is None or now - newest.created_at >= policy.rotate_every:
        return await rotate(policy, now, keks)
    return None


async def rewrap_keys(keks: KekRing) -> int:
    """Re-seals every stored signing key under the ring's newest KEK; how many changed. Afterwards the older
    KEKs may leave the ring. SigningKeyUnreadable (nothing changed) if a key opens with none of them."""
    changed = 0
    async with in_transaction():
        await lock_named("signing_key")
        for row in await SigningKey.exclude(kek_id=keks.current.id):
            row.sealed_jwk = await keks.rewrap(row.sealed_jwk, row.kid)
            row.kek_id = keks.current.id
            await row.save(update_fields=["sealed_jwk", "kek_id"])
            changed += 1
    return changed


def actor_from_claims(claims: dict[str, Any], ip: str | None = None) -> Actor:
    """The principal a verified access token speaks for."""
    subject = str(claims["sub"])
    roles = frozenset(Role(r) for r in claims.get("roles", ()) if r in Role._value2member_map_)
    if subject.startswith("client:"):
        # an accredited system acting for a tenderer carries the authorisation (dlg) and the tenderer (obo)
        delegated = isinstance(claims.get("dlg"), int) and isinstance(claims.get("obo"), int)
        return Actor(
            client_id=subject.removeprefix("client:"),
            roles=roles if delegated else roles - {Role.TENDERER},
            scopes=frozenset(str(claims.get("scope", "")).split()),
            ip=ip,
            rate_limit=int(claims["rpm"]) if isinstance(claims.get("rpm"), int) else None,
            org_id=int(claims["obo"]) if delegated else None,
            delegation_id=int(claims["dlg"]) if delegated else None,
        )
    if subject.startswith("expert:"):
        return Actor(
            expert_id=int(subject.removeprefix("expert:")),
            roles=frozenset({Role.EXPERT}),
            session_id=claims.get("sid"),
            ip=ip,
        )
    if subject.startswith("terminal:"):
        return Actor(terminal_id=int(subject.removeprefix("terminal:")), roles=frozenset({Role.TERMINAL}), ip=ip)
    if not subject.startswith("user:"):
        raise InvalidToken("unknown subject")
    terminal = claims.get("tid")
    if terminal is not None or KIOSK_SELF_SCOPE in str(claims.get("scope", "")).split():
        # a QR kiosk session (domain/terminals): fail closed, it always carries its scope and terminal
        if not isinstance(terminal, int) or isinstance(terminal, bool):
            raise InvalidToken("kiosk session without its terminal")
        return Actor(
            user_id=int(subject.removeprefix("user:")),
            org_id=claims.get("org"),
            roles=roles,
            scopes=frozenset({KIOSK_SELF_SCOPE}),
            terminal_id=terminal,
            ip=ip,
        )
    return Actor(
        user_id=int(subject.removeprefix("user:")),
        org_id=claims.get("org"),
        roles=roles,
        session_id=claims.get("sid"),
        ip=ip,
        supervised_categories=frozenset(claims.get("cats", ())),
        amr=frozenset(str(m) for m in claims.get("amr", ())),
        withheld_roles=frozenset(Role(r) for r in claims.get("mfa", ()) if r in Role._value2member_map_),
    )
