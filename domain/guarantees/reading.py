"""Reading guarantees: the letter's check by its number and code (anyone holding both may check it, no
sign-in needed), the applicant's and the guarantor's lists, and a lot's guarantees for those who keep it
or are its beneficiary."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from tortoise.queryset import QuerySet

from domain.access import scope
from domain.common import clock
from domain.common.actors import Actor, Role
from domain.common.errors import NotFound, PermissionDenied
from domain.guarantees import letter as letters
from domain.guarantees.errors import LetterMalformed
from domain.guarantees.models import Guarantee
from domain.guarantees.shared import new_verification_code, normalise_code, registrants_hidden
from domain.guarantees.states import WITH_LETTER
from domain.publication.models import Lot, Project
from domain.publication.states import LotStatus


@dataclass(frozen=True, slots=True)
class Authenticity:
    """What a holder of the letter number and the code learns: the letter's own words and its status."""

    status: str
    letter: letters.Letter
    letter_sha256: str
    key_id: str
    accepted_at: datetime


async def check_authenticity(letter_no: str, verification_code: str) -> Authenticity | None:
    """The letter and its status iff the number and the code match an accepted letter; None otherwise,
    without saying which of the two was wrong. Needs no sign-in (kiosks, paper holders)."""
    number, code = letter_no.strip(), normalise_code(verification_code)
    if not 0 < len(number) <= letters.MAX_LETTER_NO or not 0 < len(code) <= 16:
        return None
    if any(ch.isspace() or not ch.isprintable() for ch in number):
        return None  # no letter has such a number (letter.parse refuses it), and PostgreSQL refuses a NUL
    g = await Guarantee.get_or_none(letter_no=number)
    expected = g.verification_code if g is not None and g.verification_code else new_verification_code()
    if not secrets.compare_digest(expected.encode(), code.encode()) or g is None or g.letter_jws is None:
        return None
    try:
        letter = letters.parse(letters.payload_of(g.letter_jws))
    except LetterMalformed:
        return None
    return Authenticity(
        status=g.status,
        letter=letter,
        letter_sha256=g.letter_sha256 or "",
        key_id=g.key_id or "",
        accepted_at=g.decided_at or g.updated_at,
    )


def mine(actor: Actor, status: str | None = None, lot_id: int | None = None) -> QuerySet[Guarantee]:
    """The caller organisation's applications and guarantees as applicant."""
    if actor.org_id is None:
        raise PermissionDenied()
    query = Guarantee.filter(applicant_id=actor.org_id)
    if status is not None:
        query = query.filter(status=status)
    if lot_id is not None:
        query = query.filter(lot_id=lot_id)
    return query


def applications(actor: Actor, status: str | None = None) -> QuerySet[Guarantee]:
    """What was asked of the caller's guarantor organisation, in any state or in one."""
    if actor.org_id is None or not actor.has(Role.GUARANTOR):
        raise PermissionDenied()
    query = Guarantee.filter(guarantor_id=actor.org_id)
    return query.filter(status=status) if status is not None else query


async def lot_guarantees(actor: Actor, lot_id: int) -> QuerySet[Guarantee]:
    """A lot's guarantees: operators and the supervisors of its category all of them; the tenderer (the
    beneficiary) or its agency those with an accepted letter, once it may know who bids (after the opening
    where the lot keeps registrants secret); NotFound for anyone else and before that."""
    lot = await Lot.get_or_none(id=lot_id).prefetch_related("project")
    if lot is None or lot.status == LotStatus.DRAFT.value:
        raise NotFound()
    project: Project = lot.project
    if scope.keeps_project(actor, project):
        return Guarantee.filter(lot_id=lot.id)
    if actor.org_id is None or actor.org_id not in (project.tenderer_id, project.agency_id):
        raise NotFound()
    if registrants_hidden(lot, clock.now()):
        raise NotFound()
    return Guarantee.filter(lot_id=lot.id, status__in=[s.value for s in WITH_LETTER])
