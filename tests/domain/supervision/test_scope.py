"""The supervisor's category scope knows every kind of object the audit trail records."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

import domain
from domain.common.events import DomainEvent
from domain.supervision import scope


def _events(cls: type[DomainEvent]) -> Iterator[type[DomainEvent]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _events(sub)


def test_every_audited_object_type_is_either_bound_to_a_lot_or_not():
    # given every domain event the platform can record
    for module in pkgutil.walk_packages(domain.__path__, "domain."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)
    audited = {
        e.object_type for e in _events(DomainEvent) if e.__module__.startswith("domain.") and hasattr(e, "object_type")
    }
    # then each object type is classified: read by supervisors of its lot's category, by any supervisor, or by
    # operators alone (an unclassified type would be hidden from supervisors without anyone deciding it)
    classified = scope.lot_bound_types() | scope.NOT_LOT_BOUND | scope.OPERATORS_ONLY
    assert audited - classified == set()
    assert scope.lot_bound_types() & scope.NOT_LOT_BOUND == set()
