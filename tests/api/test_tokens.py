"""Access tokens as verifiers and attackers meet them: the JWKS, forgeries, and key rotation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from api.auth import authenticate
from domain.accounts.models import SigningKey
from domain.accounts.tokens import InvalidToken, KeyRing, TokenPolicy, rotate, rotate_if_due
from domain.common import clock, ecdsa
from tests import factories as f

ME = "query { me { user { name } roles } }"


def b64(data: bytes | dict[str, Any]) -> str:
    raw = json.dumps(data).encode() if isinstance(data, dict) else data
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def kids(jwks: dict[str, Any]) -> list[str]:
    return [k["kid"] for k in jwks["keys"]]


async def published(api: Any) -> dict[str, Any]:
    response = await api.http.get("/.well-known/jwks.json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


async def signed_in_bidder(api: Any) -> str:
    operator = await f.operator_token(api)
    _, _, token = await f.approved_org(api, operator)
    return token


async def verified_independently(api: Any, token: str) -> jwt.Token:
    """Decodes a token with nothing but the published key set, as an integrator would."""
    keyset = KeySet.import_key_set(await published(api))  # type: ignore[arg-type]
    decoded = jwt.decode(token, keyset, algorithms=["ES256"])
    jwt.JWTClaimsRegistry(
        now=int(clock.now().timestamp()),
        iss={"essential": True, "value": "palmtrade"},
        aud={"essential": True, "value": "palmtrade-api"},
        sub={"essential": True},
        exp={"essential": True},
    ).validate(decoded.claims)
    return decoded


async def status_with(api: Any, authorization: str) -> tuple[int, dict[str, Any]]:
    response = await api.http.post("/graphql", json={"query": ME}, headers={"authorization": authorization})
    return response.status_code, response.json()


@pytest.fixture
async def keys_restored(api: Any) -> AsyncIterator[None]:
    """signing_key survives between tests (the server's ring reads it): put it back as it was."""
    before = [
        (r.kid, (r.sealed_jwk, r.kek_id), r.created_at, r.activates_at, r.retires_at) for r in await SigningKey.all()
    ]
    try:
        yield
    finally:
        await SigningKey.exclude(kid__in=[kid for kid, *_ in before]).delete()
        for kid, (sealed, kek_id), created_at, activates_at, retires_at in before:
            await SigningKey.update_or_create(
                kid=kid,
                defaults={
                    "sealed_jwk": sealed,
                    "kek_id": kek_id,
                    "created_at": created_at,
                    "activates_at": activates_at,
                    "retires_at": retires_at,
                },
            )
        await api.services.keyring.load()


async def test_jwks_publishes_public_keys_only(api):
    # when a verifier fetches the key set
    response = await api.http.get("/.well-known/jwks.json")

    # then it is cacheable, and every key is a public ES256 signing key with a kid
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jwk-set+json")
    assert "max-age=" in response.headers["cache-control"]
    keys = response.json()["keys"]
    assert keys
    for key in keys:
        assert {"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig"}.items() <= key.items()
        assert key["kid"]
        assert key["x"]
        assert key["y"]
        assert "d" not in key
    assert api.services.keyring.signing_kid(clock.now()) in kids(response.json())


async def test_an_access_token_verifies_against_the_published_keys(api):
    # given a signed-in bidder
    operator = await f.operator_token(api)
    org_id, _, token = await f.approved_org(api, operator)

    # when an outside verifier decodes the token with the JWKS alone
    decoded = await verified_independently(api, token)

    # then the header names a published key, and the claims say who and for how long
    assert decoded.header["alg"] == "ES256"
    assert decoded.header["kid"] in kids(await published(api))
    claims = decoded.claims
    assert claims["iss"] == "palmtrade"
    assert claims["aud"] == "palmtrade-api"
    assert claims["sub"].startswith("user:")
    assert claims["roles"] == ["bidder"]
    assert base64.urlsafe_b64encode(f"Organisation:{claims['org']}".encode()).decode().rstrip("=") == org_id
    assert claims["sid"]
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert (await api.gql(ME, token=token))["data"]["me"]["roles"] == ["bidder"]


def _alg_none(kid: str, key: ECKey, claims: dict[str, Any]) -> str:
    return f"Bearer {b64({'alg': 'none', 'kid': kid, 'typ': 'JWT'})}.{b64(claims)}."


def _hs256_with_public_key(kid: str, key: ECKey, claims: dict[str, Any]) -> str:
    secret = json.dumps(key.as_dict(private=False)).encode()
    signing_input = f"{b64({'alg': 'HS256', 'kid': kid, 'typ': 'JWT'})}.{b64(claims)}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"Bearer {signing_input}.{b64(signature)}"


def _real_key(**changes: Any) -> Callable[[str, ECKey, dict[str, Any]], str]:
    def forge(kid: str, key: ECKey, claims: dict[str, Any]) -> str:
        body = {k: v for k, v in {**claims, **changes}.items() if v is not None}
        # signed as the platform signs (low-S): the server accepts no other form
        return "Bearer " + jwt.encode({"alg": "ES256", "kid": kid}, body, key, registry=ecdsa.ES256)

    return forge


def _other_key(kid: str | None) -> Callable[[str, ECKey, dict[str, Any]], str]:
    def forge(real_kid: str, key: ECKey, claims: dict[str, Any]) -> str:
        stranger = ECKey.generate_key("P-256", private=True)
        header = {"alg": "ES256", "kid": kid or real_kid}
        return "Bearer " + jwt.encode(header, claims, stranger, algorithms=["ES256"])

    return forge


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(_alg_none, id="alg-none"),
        pytest.param(_hs256_with_public_key, id="hs256-key-confusion"),
        pytest.param(_real_key(aud="someone-else"), id="wrong-aud"),
        pytest.param(_real_key(iss="https://evil.example"), id="wrong-iss"),
        pytest.param(_real_key(sub=None), id="missing-sub"),
        pytest.param(_other_key("20260101-unknown0"), id="unknown-kid"),
        pytest.param(_other_key(None), id="same-kid-other-key"),
        pytest.param(lambda kid, key, claims: "Bearer not.a.token", id="garbage"),
        pytest.param(lambda kid, key, claims: "Basic " + b64(b"user:pass"), id="basic-scheme"),
    ],
)
async def test_forged_or_foreign_tokens_get_401(api, forge):
    # given a bidder's real token, its claims, and the server's real signing key
    token = await signed_in_bidder(api)
    claims = (await verified_independently(api, token)).claims
    kid = api.services.keyring.signing_kid(clock.now())
    key = api.services.keyring.private_key(kid)
    control, _ = await status_with(api, _real_key()(kid, key, claims))
    assert control == 200

    # when the forgery is presented
    status, body = await status_with(api, forge(kid, key, claims))

    # then it is refused before any resolver runs
    assert status == 401
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "data" not in body


async def test_an_expired_token_gets_401(api, manual_clock):
    # given a token issued now
    token = await signed_in_bidder(api)
    assert (await status_with(api, f"Bearer {token}"))[0] == 200

    # when 16 minutes pass (15 minutes of life, 30 seconds of leeway)
    manual_clock.advance(minutes=16)
    status, body = await status_with(api, f"Bearer {token}")

    # then it is refused, and says how to authenticate
    assert status == 401
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_new_key_is_published_before_it_signs_and_the_old_one_honoured_until_it_retires(
    db, manual_clock, keys_restored
):
    # given a key ring and a token its current key signs with a long life
    policy = TokenPolicy()
    ring = KeyRing(policy)
    await ring.load()
    old_kid = ring.signing_kid(clock.now())
    long_lived, _ = ring.issue("user:1", {"roles": ["bidder"]}, ttl=timedelta(hours=2))

    # when the keys are rotated
    new = await rotate(policy)
    await ring.load()

    # then the new key is published at once, but the old one keeps signing for the publish lead
    assert {old_kid, new.kid} <= set(kids(ring.jwks()))
    assert ring.signing_kid(clock.now()) == old_kid
    manual_clock.advance(policy.publish_lead - timedelta(seconds=1))
    assert ring.signing_kid(clock.now()) == old_kid
    last_of_old, _ = ring.issue("user:1", {"roles": ["bidder"]})
    manual_clock.advance(seconds=1)
    assert ring.signing_kid(clock.now()) == new.kid
    first_of_new, _ = ring.issue("user:1", {"roles": ["bidder"]}, ttl=timedelta(hours=2))
    assert ring.kid_of(first_of_new) == new.kid
    assert ring.kid_of(last_of_old) == old_kid

    # and tokens of the old key stay valid until it retires (activation + access ttl + leeway)
    retires = new.activates_at + policy.access_ttl + timedelta(seconds=policy.leeway_seconds)
    manual_clock.set(retires - timedelta(seconds=2))  # exp is whole seconds
    assert ring.verify(long_lived)["sub"] == "user:1"
    assert ring.verify(last_of_old)["sub"] == "user:1"
    assert old_kid in kids(ring.jwks())

    # then, once it retired, it is unpublished and its tokens refused though not yet expired
    manual_clock.set(retires + timedelta(seconds=1))
    assert old_kid not in kids(ring.jwks())
    assert new.kid in kids(ring.jwks())
    with pytest.raises(InvalidToken, match="kid"):
        ring.verify(long_lived)
    assert ring.verify(first_of_new)["sub"] == "user:1"


async def test_rotation_is_due_after_the_rotation_period_only(db, manual_clock, keys_restored):
    # given the keys as they are
    policy = TokenPolicy(rotate_every=timedelta(days=30))
    count = await SigningKey.all().count()
    newest = await SigningKey.all().order_by("-created_at").first()
    assert newest is not None
    manual_clock.set(newest.created_at + policy.rotate_every - timedelta(seconds=1))

    # when the periodic job runs before the rotation period has passed, nothing changes
    assert await rotate_if_due(policy, clock.now()) is None
    assert await SigningKey.all().count() == count

    # when it runs after, a new key is made, and running it again at once does nothing more
    manual_clock.advance(seconds=1)
    made = await rotate_if_due(policy, clock.now())
    assert made is not None
    assert made.activates_at == clock.now() + policy.publish_lead
    assert await rotate_if_due(policy, clock.now()) is None
    assert await SigningKey.all().count() == count + 1
    assert await SigningKey.filter(retires_at=None).count() == 1


async def test_another_process_learns_an_unknown_key_from_the_token(db, manual_clock, keys_restored):
    # given two processes' key rings, read at the same moment
    policy = TokenPolicy(publish_lead=timedelta(0))
    here, there = KeyRing(policy), KeyRing(policy)
    await here.load()
    await there.load()

    # when this process rotates and signs with the new key at once
    new = await rotate(policy)
    await here.load()
    manual_clock.advance(seconds=10)
    token, _ = here.issue("user:7", {"roles": ["bidder"], "org": 3, "sid": "s-1"})
    assert here.kid_of(token) == new.kid
    assert not there.knows(new.kid)

    # then the other process, meeting the unknown kid, re-reads the keys and accepts the token
    actor = await authenticate(there, token, "127.0.0.1")
    assert actor.user_id == 7
    assert actor.org_id == 3
    assert there.knows(new.kid)


async def test_the_server_follows_a_rotation_made_by_another_process(api, manual_clock, keys_restored):
    # given an approved bidder and the key the server signs with
    operator = await f.operator_token(api)
    _, phone, _ = await f.approved_org(api, operator)
    policy = api.services.keyring.policy
    old_kid = api.services.keyring.signing_kid(clock.now())

    # when another process (the one holding the scheduler lease) rotates the keys
    new = await rotate(policy)

    # then the server publishes the new key within a minute, though it runs no scheduler itself
    manual_clock.advance(minutes=1)
    assert {old_kid, new.kid} <= set(kids(await published(api)))

    # and signs with the old key until the new one is active, then with the new one
    manual_clock.set(new.activates_at - timedelta(minutes=1))
    before = await f.login(api, phone)
    manual_clock.set(new.activates_at + timedelta(minutes=1))
    after = await f.login(api, phone)
    assert api.services.keyring.kid_of(before) == old_kid
    assert api.services.keyring.kid_of(after) == new.kid
    assert (await verified_independently(api, after)).header["kid"] == new.kid

    # and the token of the old key is still honoured until it expires
    assert (await api.gql(ME, token=before))["data"]["me"]["roles"] == ["bidder"]
    assert (await api.gql(ME, token=after))["data"]["me"]["roles"] == ["bidder"]


async def test_a_clock_set_back_does_not_freeze_the_key_ring(db, manual_clock, keys_restored):
    # given a process that read its keys an hour ahead of the right time (then NTP stepped back)
    policy = TokenPolicy(publish_lead=timedelta(0))
    ring = KeyRing(policy)
    manual_clock.advance(hours=1)
    await ring.load()
    manual_clock.advance(hours=-1)

    # when another process rotates, and a minute passes
    new = await rotate(policy)
    manual_clock.advance(minutes=1)
    await authenticate(ring, None, "127.0.0.1")

    # then this process has re-read the keys and signs with the new one
    assert ring.signing_kid(clock.now()) == new.kid


async def test_a_verified_token_is_honoured_only_inside_its_window(db, manual_clock, keys_restored):
    # given a token verified once, its actor remembered
    policy = TokenPolicy(publish_lead=timedelta(0))
    ring = KeyRing(policy)
    await ring.load()
    token, expires = ring.issue("user:5", {"roles": ["bidder"], "org": 2, "sid": "s-5"})
    issued = int(clock.now().timestamp())
    first = ring.actor(token, "10.0.0.1")
    assert (first.user_id, first.org_id, first.ip) == (5, 2, "10.0.0.1")
    assert ring.actor(token, "10.0.0.1") is first

    # then another address gets an actor of its own, and the claims are the signed ones
    assert ring.actor(token, "10.0.0.2").ip == "10.0.0.2"
    assert ring.verify(token)["sub"] == "user:5"

    # then up to the last second of exp + leeway it holds, and from the next it is refused
    last = int(expires.timestamp()) + policy.leeway_seconds - 1
    manual_clock.advance(seconds=last - issued)
    assert ring.actor(token, "10.0.0.2").user_id == 5
    manual_clock.advance(seconds=1)
    with pytest.raises(InvalidToken, match="exp"):
        ring.actor(token, "10.0.0.2")
    with pytest.raises(InvalidToken, match="exp"):
        ring.verify(token)

    # and a clock set back before its iat (less the leeway) refuses it too
    manual_clock.advance(seconds=issued - last - 1 - policy.leeway_seconds - 1)
    with pytest.raises(InvalidToken, match="issued in the future"):
        ring.actor(token, "10.0.0.1")


async def test_a_remembered_actor_is_refused_once_its_key_retires(db, manual_clock, keys_restored):
    # given a long-lived token of the current key, its actor remembered
    policy = TokenPolicy(publish_lead=timedelta(0))
    ring = KeyRing(policy)
    await ring.load()
    long_lived, _ = ring.issue("user:6", {"roles": ["bidder"]}, ttl=timedelta(hours=2))
    assert ring.actor(long_lived, "10.0.0.1").user_id == 6

    # when the keys are rotated and the ring re-read, the old key retiring after the access-token life
    new = await rotate(policy)
    await ring.load()
    retires = new.activates_at + policy.access_ttl + timedelta(seconds=policy.leeway_seconds)
    manual_clock.set(retires - timedelta(seconds=2))
    assert ring.actor(long_lived, "10.0.0.1").user_id == 6

    # then past its key's retirement the token is refused though not expired
    manual_clock.set(retires + timedelta(seconds=1))
    with pytest.raises(InvalidToken, match="kid"):
        ring.actor(long_lived, "10.0.0.1")
