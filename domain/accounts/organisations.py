"""Market entities and their users: the one form that registers an organisation with its first user (一表申请),
the operator's review, and reading an organisation or the signed-in user."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from tortoise import connections

from domain.accounts import errors
from domain.accounts import events as ev
from domain.accounts.models import Organisation, User
from domain.accounts.passwords import check_password, hash_secret
from domain.accounts.states import SELF_SERVICE_KINDS, OrgKind, OrgStatus, ensure_transition
from domain.common import clock, events
from domain.common.actors import Actor, Role
from domain.common.catalogue import Category
from domain.common.errors import InvalidInput, NotFound, PermissionDenied, raises, required_text
from domain.common.events import Audience, use_case
from domain.common.idempotency import run_once
from domain.common.ids import InvalidCreditCode, InvalidPhoneNumber, normalize_mobile, normalize_uscc
from domain.common.storage import lock

_REGION = re.compile(r"^(1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5]|71|8[12])\d{4}$")


def check_region(code: str) -> str:
    value = code.strip()
    if not _REGION.match(value):
        raise errors.InvalidRegionCode(code)
    return value


def _kinds(kinds: list[str], actor: Actor) -> list[str]:
    if not kinds:
        raise InvalidInput(field="kinds")
    try:
        chosen = sorted({OrgKind(k) for k in kinds})
    except ValueError:
        raise InvalidInput(field="kinds") from None
    if not set(chosen) <= SELF_SERVICE_KINDS and not actor.has(Role.OPERATOR):
        raise errors.KindNotSelfService()
    return [k.value for k in chosen]


@dataclass(frozen=True, slots=True)
class RegistrationForm:
    credit_code: str
    name: str
    region_code: str
    kinds: list[str]
    contact_name: str
    phone: str
    password: str
    supervised_categories: list[str] = field(default_factory=list)


@raises(
    InvalidCreditCode,
    InvalidPhoneNumber,
    errors.WeakPassword,
    errors.InvalidRegionCode,
    errors.CreditCodeTaken,
    errors.PhoneTaken,
    errors.KindNotSelfService,
)
@use_case("organisation.register", "Organisation")
async def register_organisation(
    actor: Actor, form: RegistrationForm, idempotency_key: str | None = None
) -> tuple[Organisation, User, bool]:
    """Creates a pending organisation and its first user in one step (一表申请), exactly once."""
    credit_code = normalize_uscc(form.credit_code)
    phone = normalize_mobile(form.phone)
    name = required_text(form.name, "name", 200)
    contact = required_text(form.contact_name, "contactName", 50)
    region = check_region(form.region_code)
    kinds = _kinds(form.kinds, actor)
    try:
        categories = sorted({Category(c).value for c in form.supervised_categories})
    except ValueError:
        raise InvalidInput(field="supervisedCategories") from None
    if categories and OrgKind.SUPERVISOR not in kinds:
        raise InvalidInput(field="supervisedCategories")
    check_password(form.password)
    request = {
        "credit_code": credit_code,
        "name": name,
        "region": region,
        "kinds": kinds,
        "contact": contact,
        "phone": phone,
        "categories": categories,
        "password": hashlib.sha256(form.password.encode()).hexdigest(),
    }
    password_hash = await hash_secret(form.password)

    async def create() -> dict[str, Any]:
        if await Organisation.exists(credit_code=credit_code):
            raise errors.CreditCodeTaken()
        if await User.exists(phone=phone):
            raise errors.PhoneTaken()
        now = clock.now()
        org = await Organisation.create(
            credit_code=credit_code,
            name=name,
            region_code=region,
            kinds=kinds,
            supervised_categories=categories,
            contact_name=contact,
            contact_phone=phone,
            status=OrgStatus.PENDING.value,
            created_at=now,
            updated_at=now,
        )
        user = await User.create(
            organisation=org, phone=phone, name=contact, password_hash=password_hash, created_at=now
        )
        await events.record(
            ev.OrganisationRegistered(
                object_id=str(org.id),
                credit_code=credit_code,
                name=name,
                kinds=tuple(kinds),
                user_id=user.id,
                audience=Audience(orgs=(org.id,)),
            ),
            actor,
        )
        return {"organisation_id": org.id, "user_id": user.id}

    result, replayed = await run_once(actor, idempotency_key, "organisation.register", request, create)
    org = await Organisation.get(id=result["organisation_id"])
    user = await User.get(id=result["user_id"])
    return org, user, replayed


async def _review(actor: Actor, org_id: int, target: OrgStatus, reason: str | None, key: str | None) -> Organisation:
    if not actor.has(Role.OPERATOR):
        raise PermissionDenied()

    async def change() -> dict[str, Any]:
        org = await lock(Organisation.filter(id=org_id)).first()
        if org is None:
            raise NotFound()
        ensure_transition(org.status, target, actor)
        now = clock.now()
        org.status, org.review_reason = target.value, reason
        org.reviewed_by, org.reviewed_at, org.updated_at = actor.user_id, now, now
        await org.save()
        audience = Audience(orgs=(org.id,))
        event = (
            ev.OrganisationApproved(object_id=str(org.id), audience=audience)
            if target is OrgStatus.APPROVED
            else ev.OrganisationRejected(object_id=str(org.id), reason=reason or "", audience=audience)
        )
        await events.record(event, actor)
        return {"organisation_id": org.id}

    request = {"organisation_id": org_id, "target": target.value, "reason": reason}
    result, _ = await run_once(actor, key, f"organisation.{target.value}", request, change)
    return await Organisation.get(id=result["organisation_id"])


@raises()
@use_case("organisation.approve", "Organisation", lambda actor, org_id, *a, **k: org_id)
async def approve_organisation(actor: Actor, org_id: int, idempotency_key: str | None = None) -> Organisation:
    """Approves a pending entity: from now on it may trade in every category."""
    return await _review(actor, org_id, OrgStatus.APPROVED, None, idempotency_key)


@raises()
@use_case("organisation.reject", "Organisation", lambda actor, org_id, *a, **k: org_id)
async def reject_organisation(
    actor: Actor, org_id: int, reason: str, idempotency_key: str | None = None
) -> Organisation:
    """Rejects a pending entity with a reason the applicant sees."""
    return await _review(actor, org_id, OrgStatus.REJECTED, required_text(reason, "reason", 1000), idempotency_key)


async def visible_organisation(actor: Actor, org_id: int) -> Organisation:
    """An organisation the actor may read: its own, or any for operators and supervisors."""
    org = await Organisation.get_or_none(id=org_id)
    if org is None:
        raise NotFound()
    if actor.org_id == org.id or actor.has(Role.OPERATOR, Role.SUPERVISOR):
        return org
    if org.status == OrgStatus.APPROVED and not actor.is_anonymous:
        return org
    raise NotFound()


async def user_of(actor: Actor) -> User:
    """The signed-in user with their organisation as they are in the database now, in one query."""
    if actor.user_id is None:
        raise NotFound()
    client = connections.get("default")
    statement = user_with_organisation(client.capabilities.dialect)
    _, rows = await client.execute_query(statement.sql, [actor.user_id])
    if not rows:
        raise NotFound()
    return statement.user(tuple(rows[0]))


@dataclass(frozen=True, slots=True)
class UserStatement:
    """`user_of`'s statement for one dialect: the user's columns, then the organisation's, then the extra column a
    higher area asked for (`user_with_organisation(dialect, extra)`), if any."""

    sql: str
    user_columns: tuple[str, ...]
    org_columns: tuple[str, ...]

    def user(self, row: tuple[Any, ...]) -> User:
        """The user of a row of the statement, its organisation loaded as select_related("organisation") leaves it."""
        users, orgs = len(self.user_columns), len(self.org_columns)
        user = User._init_from_db(**dict(zip(self.user_columns, row[:users], strict=True)))
        organisation = Organisation._init_from_db(**dict(zip(self.org_columns, row[users : users + orgs], strict=True)))
        object.__setattr__(user, "_organisation", organisation)
        return user


_USER_WITH_ORGANISATION: dict[tuple[str, str], UserStatement] = {}


def user_with_organisation(dialect: str, extra: str = "") -> UserStatement:
    """The statement of `user_of`, written once per dialect from the models' columns: `query Me` runs it on every
    request, and building it through the query builder cost more CPU than the round trip (issue 21). `extra` is one
    more selected expression after the organisation's columns, over the aliases `u` (the user) and `o` (the
    organisation), written by the area above that needs it (credit's `underPunishment` for `query Me`); on SQLite its
    parameters come before the user's id, on PostgreSQL the user's id is `$1`."""
    known = _USER_WITH_ORGANISATION.get((dialect, extra))
    if known is not None:
        return known
    user_columns = tuple(User._meta.db_fields)
    org_columns = tuple(Organisation._meta.db_fields)
    selected = ", ".join(
        [*(f'u."{c}"' for c in user_columns), *(f'o."{c}"' for c in org_columns), *([extra] if extra else [])]
    )
    parameter = "$1" if dialect == "postgres" else "?"
    sql = (
        f'SELECT {selected} FROM "{User._meta.db_table}" u '
        f'JOIN "{Organisation._meta.db_table}" o ON o."id" = u."organisation_id" WHERE u."id" = {parameter}'
    )
    known = _USER_WITH_ORGANISATION[(dialect, extra)] = UserStatement(sql, user_columns, org_columns)
    return known
