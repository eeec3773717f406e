"""The expert draw in public: its inputs and results, the experts named only where they may be."""

from datetime import datetime
from typing import Annotated, TypeAlias

import strawberry
from strawberry.types import Info

from domain.common.errors import DomainError
from domain.evaluation import draw as evaluation
from domain.evaluation.models import ExpertDraw as ExpertDrawModel
from schema import fields
from schema.describe import describe_values
from schema.relay import Node, int_id, node_resolver, to_global_id

ExpertDrawState: TypeAlias = evaluation.DrawStatus
strawberry.enum(
    ExpertDrawState, name="ExpertDrawState", description="Committed (the secret still hidden), or revealed (drawn)."
)
describe_values(
    ExpertDrawState,
    {
        "COMMITTED": "The commitment is published; the secret, and so who is drawn, is still hidden.",
        "REVEALED": "The secret is revealed after the bid deadline and the experts are drawn.",
    },
)


@strawberry.type(
    description="An expert in a draw. Everyone sees its number in a round's eligible list; operators and "
    "supervisors, and everyone once the lot is awarded, also see who it is."
)
class DrawnExpert:
    round: int = strawberry.field(description="The round in whose eligible list the expert is numbered.")
    number: int = strawberry.field(description="1-based position in that round's eligible list.")
    pool_number: int | None = strawberry.field(
        description="The expert's number in the pool: the message of the rank HMAC. Null while hidden."
    )
    expert_id: strawberry.ID | None = strawberry.field(description="The expert's global id. Null while hidden.")
    name: str | None = strawberry.field(description="The expert's name. Null while hidden.")


@strawberry.type(
    description="One round of a lot's expert draw (专家抽取): committed before the bid deadline, revealed after "
    "it; recompute it as mobile_contract/EXPERT_DRAW.md says."
)
class ExpertDraw(Node):
    round: int = strawberry.field(description="1 for the first draw, then one per replacement (补抽).")
    specialty: str = strawberry.field(description="The specialty drawn from.")
    size: int = strawberry.field(description="How many experts the round draws.")
    status: ExpertDrawState = strawberry.field(description="Committed or revealed.")
    commitment: str = strawberry.field(description="SHA-256 (hex) of the secret, published when committed.")
    committed_at: datetime = strawberry.field(description="Server time of the commitment.")
    revealed_at: datetime | None = strawberry.field(description="Server time of the reveal.")
    secret: str | None = strawberry.field(description="The secret, once revealed.")
    receipts_digest: str | None = strawberry.field(
        description="SHA-256 (hex) of the sorted receipts of the bids standing at the deadline, joined by newlines."
    )
    seed: str | None = strawberry.field(description="HMAC-SHA256(secret, receiptsDigest), hex.")
    eligible: list[DrawnExpert] | None = strawberry.field(
        description="The eligible experts, by ascending pool number, once revealed."
    )
    selected: list[DrawnExpert] | None = strawberry.field(description="The experts drawn, in rank order.")
    replaces: list[DrawnExpert] = strawberry.field(description="For a replacement round: the experts it replaces.")
    reason: str | None = strawberry.field(description="Why experts are replaced. Null while experts are hidden.")
    experts_shown: bool = strawberry.field(description="Whether the caller sees who the experts are.")


def _expert(shown: evaluation.Disclosure, expert: int, round_no: int, number: int) -> DrawnExpert:
    if not shown.experts_shown:
        return DrawnExpert(round=round_no, number=number, pool_number=None, expert_id=None, name=None)
    return DrawnExpert(
        round=round_no,
        number=number,
        pool_number=expert,
        expert_id=strawberry.ID(to_global_id("Expert", expert)),
        name=shown.names.get(expert),
    )


def draws_of(models: list[ExpertDrawModel], shown: evaluation.Disclosure) -> list[ExpertDraw]:
    """A lot's rounds as GraphQL objects; a replaced expert is numbered in the round that drew it."""
    where: dict[int, tuple[int, int]] = {}
    for m in models:
        numbers = {int(e): n for n, e in enumerate(m.eligible or [], start=1)}
        for e in m.selected or []:
            where[int(e)] = (m.round, numbers[int(e)])
    out = []
    for m in models:
        numbers = {int(e): n for n, e in enumerate(m.eligible or [], start=1)}
        revealed = m.status == evaluation.DrawStatus.REVEALED.value
        out.append(
            ExpertDraw(
                _pk=m.id,
                round=m.round,
                specialty=m.specialty,
                size=m.size,
                status=ExpertDrawState(m.status),
                commitment=m.commitment,
                committed_at=m.committed_at,
                revealed_at=m.revealed_at,
                secret=m.secret,
                receipts_digest=m.receipts_digest,
                seed=m.seed,
                eligible=[_expert(shown, int(e), m.round, numbers[int(e)]) for e in m.eligible or []]
                if revealed
                else None,
                selected=[_expert(shown, int(e), m.round, numbers[int(e)]) for e in m.selected or []]
                if revealed
                else None,
                replaces=[_expert(shown, int(e), *where.get(int(e), (0, 0))) for e in m.replaces or []],
                reason=m.reason if shown.experts_shown else None,
                experts_shown=shown.experts_shown,
            )
        )
    return out


async def draw_view(info: Info, draw_id: int) -> ExpertDraw | None:
    """One round as the caller may see it."""
    m = await ExpertDrawModel.get_or_none(id=draw_id)
    if m is None:
        return None
    try:
        models, shown = await evaluation.lot_draws(info.context.actor, m.lot_id)
    except DomainError:
        return None
    return next((d for d in draws_of(models, shown) if d._pk == draw_id), None)


@node_resolver("ExpertDraw")
async def _draw_node(info: Info, pk: str) -> ExpertDraw | None:
    if not pk.isascii() or not pk.isdigit() or len(pk) > 18:
        return None
    return await draw_view(info, int(pk))


@strawberry.type
class EvaluationQueries:
    @fields.field(
        description="A lot's expert draws, in round order, for anyone to recompute; the experts are numbered, "
        "not named, until the lot is awarded (operators and the supervisors of its category always see them)."
    )
    async def expert_draws(
        self,
        info: Info,
        lot_id: Annotated[
            strawberry.ID, strawberry.argument(description="Global id of the lot whose expert draws to list.")
        ],
    ) -> list[ExpertDraw]:
        try:
            models, shown = await evaluation.lot_draws(info.context.actor, int_id(lot_id, "Lot", "lotId"))
        except DomainError:
            return []
        return draws_of(models, shown)
