"""Granting an upload and asking for a download link."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.documents import downloads, uploads
from domain.documents.purposes import PURPOSES
from schema.documents.types import Document, DocumentLink, DocumentPurpose, Upload, UploadGrant
from schema.errors import mutation, result_union
from schema.relay import int_id


@strawberry.input(description="The file to upload: what it is for, whose it is, and its size and SHA-256.")
class DocumentUploadStartInput:
    purpose: DocumentPurpose = strawberry.field(description="What the file is for.")
    owner_id: strawberry.ID = strawberry.field(
        description="Global id of the owning object: an Announcement, a Lot, a Complaint or an Organisation, as the "
        "purpose says."
    )
    name: str = strawberry.field(description="File name (no path; 1-200 characters), e.g. 招标文件.pdf.")
    size: int = strawberry.field(description="Exact size in bytes (at most 1 GiB).")
    sha256: str = strawberry.field(description="SHA-256 of the exact bytes to be sent, 64 lowercase hex characters.")
    supersedes_id: strawberry.ID | None = strawberry.field(
        default=None, description="Global id of the document this file replaces as a new version."
    )
    idempotency_key: str | None = strawberry.field(default=None, description="Retry safely (≤ 255 chars).")


DocumentUploadStartResult = result_union("DocumentUploadStartResult", UploadGrant, [uploads.start_upload])


@strawberry.input(description="The document to download.")
class DocumentDownloadInput:
    document_id: strawberry.ID = strawberry.field(description="Global id of the document.")


@strawberry.type(description="A download link for the caller.")
class DocumentDownloadGranted:
    link: DocumentLink = strawberry.field(description="The link.")


DocumentDownloadResult = result_union("DocumentDownloadResult", DocumentDownloadGranted, [downloads.download_link])


def _owner_type(purpose: DocumentPurpose) -> str:
    return PURPOSES[purpose.value].owner_type


def _base_url(info: Info) -> str:
    return str(info.context.request.base_url).rstrip("/")


@strawberry.type
class DocumentMutations:
    @mutation(
        DocumentUploadStartResult,
        description="Start an upload: declares the file and gets a short-lived grant for the resumable (tus 1.0) "
        "endpoint. The file is checked against its declared size and SHA-256, its real type and, for public files, "
        "malware before anything may use it.",
    )
    async def document_upload_start(
        self,
        info: Info,
        input: Annotated[
            DocumentUploadStartInput,
            strawberry.argument(description="What the file is for, whom it belongs to, its name, size and hash."),
        ],
    ) -> UploadGrant:
        owner_type = _owner_type(input.purpose)
        owner_id = int_id(input.owner_id, owner_type, "ownerId")
        supersedes = int_id(input.supersedes_id, "Document", "supersedesId") if input.supersedes_id else None
        granted = await uploads.start_upload(
            info.context.actor,
            uploads.UploadForm(
                purpose=input.purpose.value,
                owner_id=owner_id,
                name=input.name,
                size=input.size,
                sha256=input.sha256,
                supersedes_id=supersedes,
            ),
            input.idempotency_key,
        )
        base = _base_url(info)
        return UploadGrant(
            upload=Upload.from_model(granted.upload),
            grant=granted.grant,
            creation_url=f"{base}/files/uploads",
            upload_url=f"{base}/files/uploads/{granted.upload.id}",
            expires_at=granted.upload.expires_at,
        )

    @mutation(
        DocumentDownloadResult,
        description="A short-lived download link for a document the caller may fetch (public tender documents and "
        "announcement attachments: anyone, kiosks included). Downloads of a lot's documents are recorded.",
    )
    async def document_download(
        self,
        info: Info,
        input: Annotated[DocumentDownloadInput, strawberry.argument(description="The document to download.")],
    ) -> DocumentDownloadGranted:
        doc_id = int_id(input.document_id, "Document", "documentId")
        link = await downloads.download_link(info.context.actor, doc_id, _base_url(info))
        return DocumentDownloadGranted(
            link=DocumentLink(url=link.url, expires_at=link.expires_at, document=Document.from_model(link.document))
        )
