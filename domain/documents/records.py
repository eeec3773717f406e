"""The lot's records as files: the opening record, the evaluation report, the award notice and each signed witness
record (见证记录), rendered to PDF (domain/documents/rendering.py) once their facts are final and kept as documents of
the lot (and so in its electronic archive, domain/supervision/archive.py), their SHA-256 on the audit chain. The
chronograph makes them (a render costs about a second of CPU, so never in a request), on the CPU pool
(domain/common/cpu.py)."""

from __future__ import annotations

import io
from datetime import datetime
from typing import cast

from domain.accounts.models import Organisation, User
from domain.certificates.models import ActSignature
from domain.common import cpu
from domain.common.clock import SHANGHAI
from domain.documents import rendering
from domain.documents.models import Document
from domain.documents.storing import Made, keep_file
from domain.evaluation.models import Evaluation
from domain.evaluation.records import WitnessRecord
from domain.publication.models import Lot, Project
from domain.results.models import Award
from domain.tendering.models import Opening, OpeningObjection, SealedBid

RECORDED_BIDS = ("decrypted", "invalid", "platform_fault")


async def _names(org_ids: set[int]) -> dict[int, str]:
    return {o.id: o.name for o in await Organisation.filter(id__in=list(org_ids))}


async def _missing(purpose: str, lot_ids: list[int]) -> list[int]:
    done = set(
        cast(list[int], await Document.filter(purpose=purpose, lot_id__in=lot_ids).values_list("lot_id", flat=True))
    )
    return [lot_id for lot_id in lot_ids if lot_id not in done]


async def _keep(pdf: bytes, name: str, purpose: str, lot_id: int) -> Document:
    return await keep_file(
        io.BytesIO(pdf), Made(name=name, purpose=purpose, owner_type="Lot", owner_id=lot_id, lot_id=lot_id)
    )


async def opening_record(opening: Opening) -> Document:
    """The closed opening's record (开标记录) as a PDF document of the lot."""
    lot = await Lot.get(id=opening.lot_id)
    bids = await SealedBid.filter(lot_id=lot.id, status__in=RECORDED_BIDS).order_by("id")
    objections = await OpeningObjection.filter(opening_id=opening.id).order_by("id")
    names = await _names({b.organisation_id for b in bids} | {o.organisation_id for o in objections})
    data = rendering.OpeningRecordData(
        trade_code=lot.trade_code,
        lot_name=lot.name,
        opened_at=opening.started_at or opening.deadline,
        closed_at=opening.closed_at,
        lines=tuple(
            rendering.OpeningLine(
                bidder=names.get(b.organisation_id, ""),
                status=rendering.BidLineStatus(b.status),
                receipt_sha256=b.ciphertext_sha256,
                price_fen=b.price_fen,
            )
            for b in bids
        ),
        objections=tuple(
            rendering.OpeningObjectionData(
                bidder=names.get(o.organisation_id, ""),
                text=o.text,
                raised_at=o.raised_at,
                answer=o.answer,
                answered_at=o.answered_at,
            )
            for o in objections
        ),
    )
    pdf = await cpu.run(rendering.opening_record_pdf, data)
    return await _keep(pdf, f"开标记录-{lot.trade_code}.pdf", "opening_record", lot.id)


async def evaluation_report(evaluation: Evaluation) -> Document:
    """The committee's report (评标报告) as a PDF document of the lot."""
    lot = await Lot.get(id=evaluation.lot_id)
    report = dict(evaluation.report or {})
    names = await _names({int(line["organisation_id"]) for line in report.get("bids", [])})
    data = rendering.EvaluationReportData.from_report(
        report,
        trade_code=lot.trade_code,
        lot_name=lot.name,
        report_sha256=str(evaluation.report_sha256),
        reported_at=evaluation.reported_at or evaluation.started_at,
        bidders=names,
    )
    pdf = await cpu.run(rendering.evaluation_report_pdf, data)
    return await _keep(pdf, f"评标报告-{lot.trade_code}.pdf", "evaluation_report", lot.id)


async def award_notice(award: Award) -> Document:
    """The award notice (中标通知书) as a PDF document of the lot."""
    lot = await Lot.get(id=award.lot_id)
    project = await Project.get(id=lot.project_id)
    names = await _names({award.organisation_id, project.tenderer_id})
    data = rendering.AwardNoticeData(
        notice_no=award.confirmation_no,
        trade_code=lot.trade_code,
        lot_name=lot.name,
        tenderer=names.get(project.tenderer_id, ""),
        winner=names.get(award.organisation_id, ""),
        price_fen=award.price_fen,
        issued_on=award.awarded_at.astimezone(SHANGHAI).date(),
        contract_due_on=award.contract_due_at.astimezone(SHANGHAI).date(),
    )
    pdf = await cpu.run(rendering.award_notice_pdf, data)
    return await _keep(pdf, f"中标通知书-{award.confirmation_no}.pdf", "award_notice", lot.id)


async def witness_record(record: WitnessRecord) -> Document:
    """A witness's signed record (见证记录) as a PDF document of the lot, owned by the record (one per witness)."""
    lot = await Lot.get(id=record.lot_id)
    user = await User.get_or_none(id=record.user_id)
    names = await _names({record.organisation_id})
    signature = await ActSignature.get_or_none(id=record.signature_id) if record.signature_id else None
    assert record.signed_at is not None
    assert record.content_sha256 is not None
    data = rendering.WitnessRecordData(
        trade_code=lot.trade_code,
        lot_name=lot.name,
        witness=user.name if user is not None else "",
        organisation=names.get(record.organisation_id, ""),
        entries=tuple(
            rendering.WitnessEntryData(
                seq=int(e["seq"]),
                stage=str(e["stage"]),
                kind=str(e["kind"]),
                text=str(e["text"]),
                at=datetime.fromisoformat(str(e["at"])),
            )
            for e in record.entries or []
        ),
        content_sha256=record.content_sha256,
        signer=signature.subject if signature is not None else "",
        signed_at=record.signed_at,
    )
    pdf = await cpu.run(rendering.witness_record_pdf, data)
    made = Made(
        name=f"见证记录-{lot.trade_code}-{record.id}.pdf",
        purpose="witness_record",
        owner_type="WitnessRecord",
        owner_id=record.id,
        lot_id=lot.id,
        organisation_id=record.organisation_id,
    )
    return await keep_file(io.BytesIO(pdf), made)


async def render_due(now: datetime) -> int:
    """Renders the records whose facts are final and not yet kept: closed openings, reported evaluations, awards,
    signed witness records (a few per run; the next run takes the rest)."""
    made = 0
    openings = await Opening.filter(status="closed").order_by("-id").limit(50)
    for lot_id in (await _missing("opening_record", [o.lot_id for o in openings]))[:5]:
        await opening_record(next(o for o in openings if o.lot_id == lot_id))
        made += 1
    evaluations = (
        await Evaluation.filter(status__in=["reported", "failed"], report__not_isnull=True).order_by("-id").limit(50)
    )
    for lot_id in (await _missing("evaluation_report", [e.lot_id for e in evaluations]))[:5]:
        await evaluation_report(next(e for e in evaluations if e.lot_id == lot_id))
        made += 1
    awards = await Award.all().order_by("-id").limit(50)
    for lot_id in (await _missing("award_notice", [a.lot_id for a in awards]))[:5]:
        await award_notice(next(a for a in awards if a.lot_id == lot_id))
        made += 1
    # a witness record once signed (见证记录): one file per record, owned by it
    signed = await WitnessRecord.filter(status="signed").order_by("-id").limit(50)
    kept = set(
        cast(
            list[int],
            await Document.filter(
                purpose="witness_record", owner_type="WitnessRecord", owner_id__in=[r.id for r in signed]
            ).values_list("owner_id", flat=True),
        )
    )
    for record in [r for r in signed if r.id not in kept][:5]:
        await witness_record(record)
        made += 1
    return made
