"""Abnormal evaluation alerts (专家评审异常行为预警, Wuhan 二(四)4): raised when a lot's report is made (the outbox
consumer, on evaluation.reported), into the supervisors' alert queue (domain/supervision/alerts.py) with their
evidence, seen by the supervisors of the lot's category only. One alert per lot and signal; its evidence names
each expert concerned.

- expert_outlier (comprehensive scoring): on at least `outlier_min_share` of the bids, an expert's points
  (technical + commercial) lie further from the committee's median than `outlier_iqr_factor` times the
  interquartile range, and at least `outlier_min_centi`;
- expert_identical_scores (comprehensive scoring): an expert gave at least `identical_min_bids` bids exactly the
  same points while the rest of the committee told them apart;
- expert_too_fast: an expert handed its sheet in less than `fast_seconds_per_bid` a bid after it first opened the
  bids (or after the evaluation started, when it never opened them through the platform);
- expert_favouritism: across the lots an expert scored, it put the same bidder first in at least `favour_min_lots`
  lots where the committee did not rank that bidder first.
The thresholds are data (`EvaluationThresholds`); none of them is a legal figure.
"""

from __future__ import annotations

import statistics
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from domain.common import clock, events
from domain.common.actors import SYSTEM
from domain.common.events import Audience
from domain.evaluation.models import Evaluation, Score
from domain.evaluation.records import ScoreSheet
from domain.publication.models import Lot, Project
from domain.publication.procedures import EvaluationMethod
from domain.supervision import alerts as queue
from domain.supervision.models import CollusionAlert
from domain.tendering.models import SealedBid

_NAMESPACE = uuid.UUID("0b6f3b0e-23a4-4c5e-9d0c-5b7f1d2c8e41")


@dataclass(frozen=True, slots=True)
class EvaluationThresholds:
    outlier_iqr_factor: float = 1.5
    outlier_min_centi: int = 1000  # 10 points
    outlier_min_share: float = 0.5
    identical_min_bids: int = 3
    fast_seconds_per_bid: int = 300
    favour_min_lots: int = 3


THRESHOLDS = EvaluationThresholds()


def _points(s: Score) -> int:
    return int(s.technical_centi or 0) + int(s.commercial_centi or 0)


def outliers(sheets: dict[int, dict[int, int]], t: EvaluationThresholds = THRESHOLDS) -> list[dict[str, Any]]:
    """Experts far from the committee: `sheets` maps expert -> bid -> points. Pure."""
    members = sorted(sheets)
    if len(members) < 3:
        return []
    bids = sorted(set.intersection(*(set(s) for s in sheets.values())))
    found = []
    stats: dict[int, tuple[float, float]] = {}
    for bid in bids:
        values = sorted(sheets[m][bid] for m in members)
        q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
        stats[bid] = (median, q3 - q1)
    for m in members:
        far = []
        for bid in bids:
            median, iqr = stats[bid]
            limit = max(t.outlier_iqr_factor * iqr, t.outlier_min_centi)
            if abs(sheets[m][bid] - median) > limit:
                far.append({"sealedBidId": bid, "points": sheets[m][bid], "median": median, "iqr": stats[bid][1]})
        if bids and far and len(far) >= t.outlier_min_share * len(bids):
            found.append({"expertId": m, "bids": far, "ofBids": len(bids)})
    return found


def identical(
    sheets: dict[int, dict[int, tuple[int, int]]], t: EvaluationThresholds = THRESHOLDS
) -> list[dict[str, Any]]:
    """Experts who gave every bid the same points while the others did not: expert -> bid -> (technical, commercial)."""
    found = []
    for m, sheet in sorted(sheets.items()):
        if len(sheet) < t.identical_min_bids or len(set(sheet.values())) != 1:
            continue
        others = [s for e, s in sheets.items() if e != m]
        if others and all(len(set(s.values())) == 1 for s in others):
            continue  # the whole committee could not tell the bids apart: nothing singles this expert out
        technical, commercial = next(iter(sheet.values()))
        found.append({"expertId": m, "bids": len(sheet), "technicalCenti": technical, "commercialCenti": commercial})
    return found


def too_fast(
    timings: dict[int, tuple[datetime, datetime, bool]], bids: int, t: EvaluationThresholds = THRESHOLDS
) -> list[dict[str, Any]]:
    """Experts whose sheet took less than the threshold: expert -> (start, submitted, opened the bids)."""
    limit = t.fast_seconds_per_bid * max(bids, 1)
    found = []
    for m, (start, submitted, opened) in sorted(timings.items()):
        seconds = (submitted - start).total_seconds()
        if seconds < limit:
            found.append(
                {"expertId": m, "seconds": int(seconds), "minimumSeconds": limit, "openedBids": opened, "bids": bids}
            )
    return found


async def _favouritism(members: list[int], t: EvaluationThresholds) -> list[dict[str, Any]]:
    found = []
    for m in members:
        evaluation_ids = {
            int(str(e)) for e in await Score.filter(expert_id=m).distinct().values_list("evaluation_id", flat=True)
        }
        finished = await Evaluation.filter(
            id__in=sorted(evaluation_ids), method=EvaluationMethod.COMPREHENSIVE.value, report__not_isnull=True
        )
        favoured: dict[int, list[int]] = defaultdict(list)
        for evaluation in finished:
            scores = await Score.filter(evaluation_id=evaluation.id, expert_id=m)
            if not scores or not evaluation.report:
                continue
            mine = max(scores, key=lambda s: (_points(s), -s.sealed_bid_id)).sealed_bid_id
            ranking = evaluation.report.get("ranking") or []
            if ranking and ranking[0] == mine:
                continue
            bid = await SealedBid.get_or_none(id=mine)
            if bid is not None:
                favoured[bid.organisation_id].append(evaluation.lot_id)
        for org, lots in sorted(favoured.items()):
            if len(lots) >= t.favour_min_lots:
                found.append({"expertId": m, "organisationId": org, "lots": sorted(lots)})
    return found


async def _raise(lot: Lot, project: Project, signal: queue.Signal, evidence: dict[str, Any], orgs: list[int]) -> None:
    if await CollusionAlert.exists(lot_id=lot.id, signal=signal.value):
        return
    names = await queue._names(orgs)
    now = clock.now()
    alert = await CollusionAlert.create(
        lot_id=lot.id,
        signal=signal.value,
        category=project.category,
        region_code=project.region_code,
        organisations=[{"id": o, "name": names.get(o, "")} for o in sorted(set(orgs))],
        evidence=evidence,
        status=queue.AlertStatus.NEW.value,
        history=[],
        raised_at=now,
        updated_at=now,
    )
    await events.record(
        queue.AlertRaised(
            object_id=str(alert.id),
            lot_id=lot.id,
            signal=alert.signal,
            category=project.category,
            audience=Audience(orgs=await queue.supervisor_orgs(project.category), roles=()),
        ),
        SYSTEM,
        event_id=uuid.uuid5(_NAMESPACE, f"{lot.id}:{alert.signal}"),
    )


async def evaluate_lot(lot_id: int, t: EvaluationThresholds = THRESHOLDS) -> None:
    """Raises the abnormal-evaluation alerts the sheets of the lot's reported evaluation show (once per signal)."""
    evaluation = await Evaluation.get_or_none(lot_id=lot_id)
    lot = await Lot.get_or_none(id=lot_id)
    if evaluation is None or lot is None or evaluation.report is None:
        return
    project = await Project.get(id=lot.project_id)
    members = [int(m) for m in evaluation.committee]
    scores = list(await Score.filter(evaluation_id=evaluation.id, expert_id__in=members))
    by_member: dict[int, list[Score]] = defaultdict(list)
    for s in scores:
        by_member[s.expert_id].append(s)
    bids = len({s.sealed_bid_id for s in scores})
    base = {"thresholds": asdict(t), "evaluationId": evaluation.id, "members": len(members)}
    if evaluation.method == EvaluationMethod.COMPREHENSIVE.value:
        points = {m: {s.sealed_bid_id: _points(s) for s in ss} for m, ss in by_member.items()}
        far = outliers(points, t)
        if far:
            await _raise(lot, project, queue.Signal.EXPERT_OUTLIER, {**base, "experts": far}, [])
        pairs = {
            m: {s.sealed_bid_id: (int(s.technical_centi or 0), int(s.commercial_centi or 0)) for s in ss}
            for m, ss in by_member.items()
        }
        same = identical(pairs, t)
        if same:
            await _raise(lot, project, queue.Signal.EXPERT_IDENTICAL_SCORES, {**base, "experts": same}, [])
        favour = await _favouritism(members, t)
        if favour:
            orgs = [f["organisationId"] for f in favour]
            await _raise(lot, project, queue.Signal.EXPERT_FAVOURITISM, {**base, "experts": favour}, orgs)
    timings: dict[int, tuple[datetime, datetime, bool]] = {}
    for sheet in await ScoreSheet.filter(evaluation_id=evaluation.id, submitted_at__not_isnull=True):
        if sheet.submitted_at is None or sheet.expert_id not in members:
            continue
        start = sheet.opened_at or evaluation.started_at
        timings[sheet.expert_id] = (start, sheet.submitted_at, sheet.opened_at is not None)
    fast = too_fast(timings, bids, t)
    if fast:
        await _raise(lot, project, queue.Signal.EXPERT_TOO_FAST, {**base, "experts": fast}, [])
