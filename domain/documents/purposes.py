"""What a file may be for: its owner, the kinds of file accepted (sniffed from the bytes), its limits, and
whether it is scanned for malware before anyone else may fetch it."""

from __future__ import annotations

from dataclasses import dataclass

from domain.documents.errors import PurposeUnknown

MiB = 1024 * 1024

DOCUMENT_KINDS = frozenset({"pdf", "ofd", "docx", "xlsx", "pptx", "ole", "zip", "rar", "7z", "jpeg", "png"})
DRAWING_KINDS = frozenset({"dwg", "dxf"})


@dataclass(frozen=True, slots=True)
class Purpose:
    name: str
    owner_type: str
    kinds: frozenset[str]
    max_bytes: int
    max_count: int
    scanned: bool  # scanned before it may be published; a scanner that is down holds it
    uploadable: bool = True
    label_zh: str = ""


PURPOSES: dict[str, Purpose] = {
    p.name: p
    for p in (
        Purpose(
            "announcement_attachment",
            "Announcement",
            DOCUMENT_KINDS | DRAWING_KINDS,
            200 * MiB,
            20,
            True,
            label_zh="公告附件",
        ),
        Purpose(
            "tender_document",
            "Lot",
            DOCUMENT_KINDS | DRAWING_KINDS,
            1024 * MiB,
            50,
            True,
            label_zh="招标文件、图纸、工程量清单",
        ),
        # encrypted on the phone with a key derived from the bid's key (mobile_contract/BID_FILES.md)
        Purpose("bid_file", "Lot", frozenset({"age"}), 1024 * MiB, 20, False, label_zh="投标文件（密文）"),
        # made by the platform at the opening from a bid file and the key the bidder handed over
        Purpose(
            "bid_file_opened",
            "Document",
            DOCUMENT_KINDS | DRAWING_KINDS | frozenset({"unknown"}),
            1024 * MiB,
            1,
            False,
            uploadable=False,
            label_zh="投标文件（已解密）",
        ),
        Purpose("complaint_evidence", "Complaint", DOCUMENT_KINDS, 100 * MiB, 20, True, label_zh="投诉证明材料"),
        Purpose("objection_evidence", "Objection", DOCUMENT_KINDS, 100 * MiB, 20, True, label_zh="异议证明材料"),
        Purpose(
            "guarantee_letter",
            "Guarantee",
            frozenset({"pdf", "ofd"}),
            20 * MiB,
            5,
            True,
            label_zh="电子保函（版式文件）",
        ),
        Purpose(
            "organisation_licence",
            "Organisation",
            frozenset({"pdf", "ofd", "jpeg", "png"}),
            20 * MiB,
            20,
            True,
            label_zh="营业执照、资质证书",
        ),
        # an expert applicant's certificates (职称、执业资格证书), named by its application (domain/experts)
        Purpose(
            "expert_qualification",
            "User",
            frozenset({"pdf", "ofd", "jpeg", "png"}),
            20 * MiB,
            20,
            True,
            label_zh="评标专家资格证明材料",
        ),
        # what an organisation hands in to have a public credit record repaired (domain/credit_public/repair)
        Purpose(
            "credit_repair_evidence",
            "Organisation",
            DOCUMENT_KINDS,
            50 * MiB,
            20,
            True,
            label_zh="信用修复申请材料",
        ),
        # the contract, its changes and its acceptance report (domain/results/contracts)
        Purpose("contract", "Lot", frozenset({"pdf", "ofd"}), 200 * MiB, 50, True, label_zh="合同文件"),
        # listed on the termination announcement (domain/results/cancellation)
        Purpose("cancellation_document", "Lot", DOCUMENT_KINDS, 100 * MiB, 20, True, label_zh="终止（废标）文件"),
        # a negotiation's round documents and revisions between the panel and one supplier, and that supplier's
        # final-offer files (最后报价): owner its thread (domain/negotiation NegotiationSupplier); the supplier, the
        # panel and the category's supervisors only, never another supplier (政府采购法 第三十八条(四))
        Purpose(
            "negotiation_document",
            "NegotiationSupplier",
            DOCUMENT_KINDS | DRAWING_KINDS,
            200 * MiB,
            200,
            True,
            label_zh="谈判（磋商）文件",
        ),
        Purpose(
            "final_offer_file", "NegotiationSupplier", DOCUMENT_KINDS, 200 * MiB, 20, True, label_zh="最后报价文件"
        ),
        # rendered by the platform (records.py) and packed by it (archive.py): never uploaded
        Purpose("opening_record", "Lot", frozenset({"pdf"}), 50 * MiB, 1, False, uploadable=False, label_zh="开标记录"),
        Purpose(
            "evaluation_report", "Lot", frozenset({"pdf"}), 50 * MiB, 1, False, uploadable=False, label_zh="评标报告"
        ),
        Purpose("award_notice", "Lot", frozenset({"pdf"}), 50 * MiB, 1, False, uploadable=False, label_zh="中标通知书"),
        # a witness's signed record (domain/evaluation/witnesses), one per record, in the lot's archive
        Purpose(
            "witness_record",
            "WitnessRecord",
            frozenset({"pdf"}),
            50 * MiB,
            1,
            False,
            uploadable=False,
            label_zh="见证记录",
        ),
        # the file of an electronic invoice, as the tax-invoice provider delivered it (domain/settlement/invoices)
        Purpose(
            "invoice", "Invoice", frozenset({"pdf", "ofd"}), 20 * MiB, 1, False, uploadable=False, label_zh="电子发票"
        ),
        # a scheduled statistics report, as CSV and PDF (domain/supervision/reports): made by the platform for one
        # supervisor organisation; its users and operators only, never public (statistics are sensitive data)
        Purpose(
            "statistics_report",
            "StatisticsReport",
            frozenset({"csv", "pdf"}),
            50 * MiB,
            2,
            False,
            uploadable=False,
            label_zh="统计报表",
        ),
        Purpose(
            "lot_archive",
            "Lot",
            frozenset({"zip"}),
            64 * 1024 * MiB,
            1000,
            False,
            uploadable=False,
            label_zh="电子档案",
        ),
    )
}


def purpose_of(name: str) -> Purpose:
    """The purpose by name (as the client sends it, lower case); PurposeUnknown otherwise."""
    purpose = PURPOSES.get(name.strip().lower())
    if purpose is None or not purpose.uploadable:
        raise PurposeUnknown()
    return purpose


def purpose_label(purpose: Purpose) -> str:
    return purpose.label_zh
