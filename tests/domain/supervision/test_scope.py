"""The supervisor's category scope: every kind of object the audit trail records is classified, and the readers
of a lot keep a supervisor to the lots of its categories."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

import domain
from domain.access import scope
from domain.common.events import DomainEvent
from domain.evaluation import draw
from domain.tendering import opening
from domain.tendering.models import SealedBid
from domain.wiring import wire
from tests.support.complaints import supervisor
from tests.support.tendering import evaluating_tender


def _events(cls: type[DomainEvent]) -> Iterator[type[DomainEvent]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _events(sub)


def test_every_audited_object_type_is_either_bound_to_a_lot_or_not():
    # given every domain event the platform can record
    for module in pkgutil.walk_packages(domain.__path__, "domain."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)
    wire()  # the areas plug their lot-bound types into the scope at the composition root
    audited = {
        e.object_type for e in _events(DomainEvent) if e.__module__.startswith("domain.") and hasattr(e, "object_type")
    }
    # then each object type is classified: read by supervisors of its lot's category, by any supervisor, or by
    # operators alone (an unclassified type would be hidden from supervisors without anyone deciding it)
    classified = scope.lot_bound_types() | scope.NOT_LOT_BOUND | scope.OPERATORS_ONLY
    assert audited - classified == set()
    assert scope.lot_bound_types() & scope.NOT_LOT_BOUND == set()


async def test_the_opening_and_the_drawn_experts_names_are_for_the_supervisors_of_the_lots_category(db, manual_clock):
    # given an engineering tender whose committee is drawn, and the supervisors of its category and of another
    tender = await evaluating_tender(manual_clock, [99_000_000, 98_000_000, 97_000_000])
    keeper, other = await supervisor("engineering_construction"), await supervisor("government_procurement")
    # when each asks to watch the opening and for the lot's draws
    watches = [await opening.may_watch(s, tender.lot) for s in (keeper, other)]
    disclosed = [(await draw.lot_draws(s, tender.lot.id))[1] for s in (keeper, other)]
    # then only the category's supervisor watches and sees who was drawn
    assert watches == [True, False]
    assert [d.experts_shown for d in disclosed] == [True, False]
    assert disclosed[1].names == {}
    assert await scope.keeps_lot(keeper, tender.lot.id)
    assert not await scope.keeps_lot(other, tender.lot.id)
    assert await SealedBid.filter(scope.kept_lots(other)).count() == 0
    assert await SealedBid.filter(scope.kept_lots(keeper)).count() == 3
