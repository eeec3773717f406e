"""Reading documents and uploads."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.common.errors import DomainError, InvalidInput
from domain.documents import downloads, uploads
from domain.documents.purposes import PURPOSES
from schema import fields
from schema.documents.types import Document, DocumentPurpose, Upload
from schema.relay import int_id


@strawberry.type
class DocumentQueries:
    @fields.field(
        description="The current documents of an object for a purpose, those the caller may fetch (public ones for "
        "anyone); superseded versions are left out."
    )
    async def documents(
        self,
        info: Info,
        purpose: Annotated[DocumentPurpose, strawberry.argument(description="What the documents are for.")],
        owner_id: Annotated[
            strawberry.ID, strawberry.argument(description="Global id of the object the documents belong to.")
        ],
    ) -> list[Document]:
        try:
            owner = int_id(owner_id, PURPOSES[purpose.value].owner_type, "ownerId")
        except InvalidInput:
            return []
        return [Document.from_model(d) for d in await downloads.documents_of(info.context.actor, purpose.value, owner)]

    @fields.field(description="One of the caller's uploads, with its outcome (null if unknown or another's).")
    async def document_upload(
        self,
        info: Info,
        id: Annotated[str, strawberry.argument(description="The upload id returned by documentUploadStart.")],
    ) -> Upload | None:
        try:
            return Upload.from_model(await uploads.upload_of(info.context.actor, id[:64]))
        except DomainError:
            return None
