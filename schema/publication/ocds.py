"""OCDS 1.1 releases and records of a lot, for integrators and open-data portals; public."""

from typing import Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.common.errors import DomainError
from domain.disclosure import ocds
from schema import fields
from schema.relay import int_id


def _prefix(info: Info) -> str:
    settings = getattr(info.context.services, "settings", None)
    return getattr(settings, "ocds_prefix", None) or ocds.PLACEHOLDER_PREFIX


@strawberry.type
class OcdsQueries:
    @fields.field(description="OCDS releases of a lot, one per published announcement (null if nothing public).")
    async def ocds_releases(
        self,
        info: Info,
        lot_id: Annotated[
            strawberry.ID,
            strawberry.argument(description="Global id of the lot (one lot is one OCDS contracting process)."),
        ],
    ) -> JSON | None:
        try:
            return JSON(await ocds.releases(int_id(lot_id, "Lot", "lotId"), _prefix(info)))
        except DomainError:
            return None

    @fields.field(description="The OCDS record of a lot: its releases and the compiled release.")
    async def ocds_record(
        self,
        info: Info,
        lot_id: Annotated[
            strawberry.ID,
            strawberry.argument(description="Global id of the lot (one lot is one OCDS contracting process)."),
        ],
    ) -> JSON | None:
        try:
            return JSON(await ocds.record(int_id(lot_id, "Lot", "lotId"), _prefix(info)))
        except DomainError:
            return None
