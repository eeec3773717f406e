"""Documents, upload grants and download links."""

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from domain.common.errors import DomainError
from domain.documents import downloads
from domain.documents.models import Document as DocumentModel
from domain.documents.models import Upload as UploadModel
from schema.describe import describe_values
from schema.relay import Node, node_resolver, to_global_id


@strawberry.enum(
    description="What a file is for; it decides its owner, the kinds and sizes accepted and who may fetch it."
)
class DocumentPurpose(Enum):
    ANNOUNCEMENT_ATTACHMENT = "announcement_attachment"
    TENDER_DOCUMENT = "tender_document"
    BID_FILE = "bid_file"
    BID_FILE_OPENED = "bid_file_opened"
    COMPLAINT_EVIDENCE = "complaint_evidence"
    OBJECTION_EVIDENCE = "objection_evidence"
    GUARANTEE_LETTER = "guarantee_letter"
    ORGANISATION_LICENCE = "organisation_licence"
    CREDIT_REPAIR_EVIDENCE = "credit_repair_evidence"
    EXPERT_QUALIFICATION = "expert_qualification"
    CONTRACT = "contract"
    CANCELLATION_DOCUMENT = "cancellation_document"
    NEGOTIATION_DOCUMENT = "negotiation_document"
    FINAL_OFFER_FILE = "final_offer_file"
    OPENING_RECORD = "opening_record"
    EVALUATION_REPORT = "evaluation_report"
    AWARD_NOTICE = "award_notice"
    WITNESS_RECORD = "witness_record"
    LOT_ARCHIVE = "lot_archive"
    INVOICE = "invoice"
    STATISTICS_REPORT = "statistics_report"


describe_values(
    DocumentPurpose,
    {
        "ANNOUNCEMENT_ATTACHMENT": "公告附件: owner an Announcement (draft); public once published.",
        "TENDER_DOCUMENT": (
            "招标文件, drawings, bills of quantities: owner a Lot; public once the lot is announced; a new "
            "version supersedes the old one."
        ),
        "BID_FILE": (
            "投标文件 sealed on the phone (age format, mobile_contract/BID_FILES.md): owner a Lot; nobody "
            "can read it before the opening."
        ),
        "BID_FILE_OPENED": (
            "A bid file decrypted at the opening (made by the platform): the bidder, the evaluation "
            "committee and the supervisors of the lot's category."
        ),
        "COMPLAINT_EVIDENCE": "投诉证明材料: owner a Complaint; the parties and the category's supervisors.",
        "OBJECTION_EVIDENCE": "异议证明材料: owner an Objection; its parties and the category's supervisors.",
        "GUARANTEE_LETTER": (
            "电子保函 as a PDF or OFD file, uploaded by its guarantor: owner a Guarantee; the guarantor, the "
            "bidder, the beneficiary and the category's supervisors."
        ),
        "NEGOTIATION_DOCUMENT": (
            "谈判（磋商）文件 of a round, the panel's or the supplier's revision: owner a NegotiationSupplier (the "
            "supplier's thread); that supplier, the panel and the category's supervisors, never another supplier."
        ),
        "FINAL_OFFER_FILE": (
            "最后报价文件 of a supplier, handed in inside the final-offer window: owner its NegotiationSupplier; the "
            "supplier, and once the window closed the panel and the category's supervisors."
        ),
        "ORGANISATION_LICENCE": (
            "营业执照、资质证书: owner an Organisation; the organisation, operators and supervisors."
        ),
        "CREDIT_REPAIR_EVIDENCE": (
            "信用修复申请材料 (proof the conduct was corrected) for creditRepairApply: owner the applying "
            "Organisation; the organisation, operators and supervisors."
        ),
        "EXPERT_QUALIFICATION": (
            "评标专家资格证明材料 (title, practising certificates) for an expert application: owner the applying User; "
            "that user and operators."
        ),
        "CONTRACT": (
            "合同文件 (the contract, its changes, its acceptance report): owner a Lot; the parties and the "
            "supervisors of the lot's category."
        ),
        "INVOICE": (
            "电子发票 (数电发票) as the tax-invoice provider delivered it: owner an Invoice; the buyer "
            "organisation and operators only."
        ),
        "CANCELLATION_DOCUMENT": (
            "终止（废标）文件: owner a Lot, handed in by its tenderer or agency; public once the lot is terminated."
        ),
        "OPENING_RECORD": (
            "开标记录 as a PDF the platform renders when the opening closes: owner a Lot; its bidders, "
            "tenderer, operators and the category's supervisors."
        ),
        "EVALUATION_REPORT": (
            "评标报告 as a PDF the platform renders from the committee's report: owner a Lot; the tenderer, "
            "the committee, operators and the category's supervisors."
        ),
        "AWARD_NOTICE": (
            "中标通知书 as a PDF the platform renders at the award: owner a Lot; the tenderer, the winner, "
            "operators and the category's supervisors."
        ),
        "WITNESS_RECORD": (
            "见证记录 as a PDF the platform renders once the witness signed it: owner the WitnessRecord (one file per "
            "witness of the lot); operators, the category's supervisors and the witness's organisation."
        ),
        "STATISTICS_REPORT": (
            "统计报表 as CSV and PDF the platform makes at each period's end: owner a StatisticsReport; the "
            "supervisor organisation it was made for and operators only, never public."
        ),
        "LOT_ARCHIVE": (
            "电子档案: the lot's archive (every file and record with a signed manifest), a zip; owner a Lot; "
            "operators and the category's supervisors; never deleted."
        ),
    },
)


@strawberry.enum(description="Where a file stands with the malware scanner.")
class ScanStatus(Enum):
    CLEAN = strawberry.enum_value("clean", description="Scanned, nothing found.")
    PENDING = strawberry.enum_value(
        "pending", description="The scanner was unavailable: held, not published, scanned again automatically."
    )
    INFECTED = strawberry.enum_value("infected", description="Malware found: never served.")
    NOT_REQUIRED = strawberry.enum_value(
        "not_required", description="Not scanned: an encrypted bid file, or a file the platform made."
    )
    UNSCANNED = strawberry.enum_value("unscanned", description="No scanner configured (development only).")


@strawberry.type(description="A stored file (content-addressed by its SHA-256) with what it is for.")
class Document(Node):
    name: str = strawberry.field(description="File name as uploaded (Chinese kept).")
    size: int = strawberry.field(description="Size in bytes (at most 1 GiB).")
    sha256: str = strawberry.field(description="SHA-256 of the bytes stored (of the ciphertext, for a bid file).")
    media_type: str = strawberry.field(description="The media type sniffed from the bytes, e.g. application/pdf.")
    kind: str = strawberry.field(description="The kind sniffed from the bytes: pdf, ofd, docx, zip, dwg, age, ...")
    purpose: DocumentPurpose = strawberry.field(description="What it is for.")
    version: int = strawberry.field(description="1 for the first version; a new version supersedes the previous.")
    scan_status: ScanStatus = strawberry.field(description="Malware scan outcome.")
    superseded: bool = strawberry.field(description="A newer version replaced this one.")
    created_at: datetime = strawberry.field(description="When it was stored.")
    opened_id: strawberry.ID | None = strawberry.field(
        description="A bid file: the global id of the document it was decrypted into at the opening."
    )

    @classmethod
    def from_model(cls, m: DocumentModel) -> "Document":
        return cls(
            _pk=m.id,
            name=m.name,
            size=m.size,
            sha256=m.sha256,
            media_type=m.media_type,
            kind=m.kind,
            purpose=DocumentPurpose(m.purpose),
            version=m.version,
            scan_status=ScanStatus(m.scan_status),
            superseded=m.superseded_by_id is not None,
            created_at=m.created_at,
            opened_id=strawberry.ID(to_global_id("Document", m.opened_id)) if m.opened_id else None,
        )


@node_resolver("Document")
async def _document_node(info: Info, pk: str) -> Document | None:
    if not pk.isdigit():
        return None
    try:
        return Document.from_model(await downloads.document(info.context.actor, int(pk)))
    except DomainError:
        return None


@strawberry.enum(description="Where an upload stands.")
class UploadStatus(Enum):
    OPEN = strawberry.enum_value("open", description="Taking bytes: resume from `received`.")
    COMPLETE = strawberry.enum_value("complete", description="Stored: see `document`.")
    REFUSED = strawberry.enum_value("refused", description="Refused when complete: see `errorCode`; nothing kept.")
    EXPIRED = strawberry.enum_value("expired", description="Not finished in time; its bytes were deleted.")
    TERMINATED = strawberry.enum_value("terminated", description="Ended by the client; its bytes were deleted.")


@strawberry.type(description="An upload and its outcome.")
class Upload:
    id: str = strawberry.field(description="The upload id (also the last segment of its tus URL).")
    status: UploadStatus = strawberry.field(description="Where it stands.")
    name: str = strawberry.field(description="The file name declared.")
    size: int = strawberry.field(description="The size declared, in bytes.")
    received: int = strawberry.field(description="Bytes stored so far: resume from here.")
    error_code: str | None = strawberry.field(description="Why it was refused (e.g. DOCUMENT_HASH_MISMATCH).")
    expires_at: datetime = strawberry.field(description="An unfinished upload is deleted after this.")
    document_id: strawberry.ID | None = strawberry.field(description="Global id of the document once complete.")

    @classmethod
    def from_model(cls, m: UploadModel) -> "Upload":
        return cls(
            id=m.id,
            status=UploadStatus(m.status),
            name=m.name,
            size=m.declared_size,
            received=m.received,
            error_code=m.error_code,
            expires_at=m.expires_at,
            document_id=strawberry.ID(to_global_id("Document", m.document_id)) if m.document_id else None,
        )


@strawberry.type(
    description="Permission to upload one file over tus 1.0 (resumable): POST `creationUrl` (or PATCH `uploadUrl` "
    "directly) with the header `Upload-Grant: <grant>` on every request."
)
class UploadGrant:
    upload: Upload = strawberry.field(description="The upload granted.")
    grant: str = strawberry.field(description="Send as the `Upload-Grant` header (or tus metadata `grant`).")
    creation_url: str = strawberry.field(description="The tus creation endpoint (POST with Upload-Length).")
    upload_url: str = strawberry.field(description="This upload's tus resource: HEAD for the offset, PATCH bytes.")
    expires_at: datetime = strawberry.field(description="The grant and the upload end then.")


@strawberry.type(description="A short-lived link to a document's bytes (Range requests resume a download).")
class DocumentLink:
    url: str = strawberry.field(description="GET it (no token needed) before `expiresAt`.")
    expires_at: datetime = strawberry.field(description="The link stops working then (10 minutes).")
    document: Document = strawberry.field(description="The document.")
