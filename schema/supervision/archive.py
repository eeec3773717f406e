"""A lot's electronic archive (电子档案): packed on request by operators and the supervisors of its category."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.supervision import archive
from schema.documents.types import Document
from schema.errors import mutation, result_union
from schema.permissions import IsSupervisorOrOperator
from schema.relay import int_id


@strawberry.input(description="The lot whose archive to pack.")
class LotArchiveBuildInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")


@strawberry.type(
    description="The archive is packed and kept as a document of the lot (purpose LOT_ARCHIVE): download it with "
    "documentDownload; mobile_contract/README.md and domain/supervision/archive.py say how to verify it."
)
class LotArchiveBuilt:
    document: Document = strawberry.field(description="The archive (a zip with a signed manifest).")


LotArchiveBuildResult = result_union("LotArchiveBuildResult", LotArchiveBuilt, [])


@strawberry.type
class ArchiveMutations:
    @mutation(
        LotArchiveBuildResult,
        description="Pack the lot's electronic archive now: every file and record of the lot with a manifest of their "
        "SHA-256 signed by the platform, and the evidence package; kept for good (operators and the category's "
        "supervisors).",
        permission_classes=[IsSupervisorOrOperator],
    )
    async def lot_archive_build(
        self,
        info: Info,
        input: Annotated[LotArchiveBuildInput, strawberry.argument(description="The lot whose archive to build.")],
    ) -> LotArchiveBuilt:
        made = await archive.build(
            info.context.actor, int_id(input.lot_id, "Lot", "lotId"), info.context.services.keyring
        )
        return LotArchiveBuilt(document=Document.from_model(made))
