"""Integrators' client credentials: creating a client, its secret shown once, and its access token (OAuth 2.0
client credentials grant)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from domain.accounts import attempts, errors, third_party
from domain.accounts import events as ev
from domain.accounts.adapters import deps
from domain.accounts.models import IntegratorClient
from domain.accounts.passwords import hash_secret, verify_nothing, verify_secret
from domain.common import clock, events
from domain.common.actors import Actor, Role
from domain.common.errors import InvalidInput, PermissionDenied, raises, required_text
from domain.common.events import use_case
from domain.common.idempotency import run_once

# credit:read and credit:write: the credit exchange of an accredited partner platform (domain/credit/exchange.py);
# the write scopes: an accredited third-party system acting for tenderers (domain/accounts/third_party.py)
INTEGRATOR_SCOPES = frozenset(
    {"announcements:read", "results:read", "feed:read", "ocds:read", "entities:read", "credit:read", "credit:write"}
    | third_party.WRITE_SCOPES
)


@raises(errors.UnknownScope)
@use_case("integrator_client.create", "IntegratorClient")
async def create_integrator_client(
    actor: Actor, name: str, scopes: list[str], rate_per_minute: int, idempotency_key: str | None = None
) -> tuple[IntegratorClient, str | None]:
    """Creates client credentials; the secret is shown once and stored only as a hash."""
    if not actor.has(Role.OPERATOR):
        raise PermissionDenied()
    label = required_text(name, "name", 200)
    for scope in scopes:
        if scope not in INTEGRATOR_SCOPES:
            raise errors.UnknownScope(scope)
    if not scopes:
        raise InvalidInput(field="scopes")
    if not 1 <= rate_per_minute <= 100_000:
        raise InvalidInput(field="ratePerMinute")
    secret = "pts_" + secrets.token_urlsafe(32)
    secret_hash = await hash_secret(secret)
    holder: dict[str, str] = {}

    async def create() -> dict[str, Any]:
        client = await IntegratorClient.create(
            client_id="ptc_" + secrets.token_hex(8),
            secret_hash=secret_hash,
            name=label,
            scopes=sorted(set(scopes)),
            rate_limit_per_minute=rate_per_minute,
            created_by=actor.user_id,
            created_at=clock.now(),
        )
        await events.record(
            ev.IntegratorClientCreated(object_id=client.client_id, name=label, scopes=tuple(sorted(set(scopes)))),
            actor,
        )
        holder["secret"] = secret
        return {"client_id": client.client_id}

    request = {"name": label, "scopes": sorted(set(scopes)), "rate": rate_per_minute}
    result, replayed = await run_once(actor, idempotency_key, "integrator_client.create", request, create)
    client = await IntegratorClient.get(client_id=result["client_id"])
    # a replay cannot show the secret again: it was never stored
    return client, None if replayed else holder["secret"]


@raises(errors.InvalidClient, errors.SystemNotAccredited, errors.SystemNotAuthorised)
async def client_credentials_token(
    actor: Actor, client_id: str, secret: str, on_behalf_of: int | None = None
) -> tuple[str, datetime, IntegratorClient, list[str]]:
    """An access token for an integrator (OAuth 2.0 client credentials grant) and its scopes; with `on_behalf_of`,
    for an accredited system acting for that tenderer under its authorisation. Past the failed attempts allowed
    from the address or for the client id, RateLimited before any hashing and with nothing recorded."""
    checked = attempts.limits(
        actor,
        f"signin-client:{client_id}",
        attempts.clients.per_id,
        attempts.CLIENT_ADDRESS,
        attempts.clients.per_address,
    )
    return await attempts.guarded(
        checked, (errors.InvalidClient,), lambda: _token(actor, client_id, secret, on_behalf_of)
    )


@use_case("integrator_client.token", "IntegratorClient")
async def _token(
    actor: Actor, client_id: str, secret: str, on_behalf_of: int | None
) -> tuple[str, datetime, IntegratorClient, list[str]]:
    client = await IntegratorClient.get_or_none(client_id=client_id, is_active=True)
    if client is None:
        await verify_nothing(secret)
        raise errors.InvalidClient()
    if not await verify_secret(client.secret_hash, secret):
        raise errors.InvalidClient()
    if on_behalf_of is not None:
        grant, scopes = await third_party.delegation_for(client, on_behalf_of)
        token, expires = deps.keyring.issue(
            f"client:{client.client_id}",
            {
                "roles": [Role.INTEGRATOR.value, Role.TENDERER.value],
                "scope": " ".join(scopes),
                "rpm": client.rate_limit_per_minute,
                "obo": on_behalf_of,
                "dlg": grant.id,
            },
        )
        return token, expires, client, scopes
    token, expires = deps.keyring.issue(
        f"client:{client.client_id}",
        {"roles": [Role.INTEGRATOR.value], "scope": " ".join(client.scopes), "rpm": client.rate_limit_per_minute},
    )
    return token, expires, client, list(client.scopes)
