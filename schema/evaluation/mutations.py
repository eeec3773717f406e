"""The expert draw: commit, reveal, replace (operators). Decode, call one service, map the outcome."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.common.errors import InvalidInput
from domain.evaluation import draw as evaluation
from schema.errors import mutation, result_union
from schema.evaluation.queries import ExpertDraw, draw_view
from schema.permissions import IsOperator
from schema.relay import int_id


@strawberry.input(description="Commit the lot's expert draw before its bid deadline.")
class ExpertDrawCommitInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot the committee is drawn for.")
    specialty: str = strawberry.field(description="The specialty to draw from, as experts list it.")
    size: int = strawberry.field(description="Committee size: odd, at least 5.")
    commitment: str = strawberry.field(description="SHA-256 (hex) of the secret revealed after the deadline.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="Committed; reveal the secret after the bid deadline.")
class ExpertDrawCommitted:
    draw: ExpertDraw = strawberry.field(description="The draw with its published commitment.")


ExpertDrawCommitResult = result_union("ExpertDrawCommitResult", ExpertDrawCommitted, [evaluation.commit])


@strawberry.input(description="Reveal a round's secret after the bid deadline: by drawId, or by lotId and round.")
class ExpertDrawRevealInput:
    secret: str = strawberry.field(description="The secret whose SHA-256 was committed.")
    draw_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Global id of the round to reveal; or give lotId and round instead.",
    )
    lot_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Global id of the lot, with round, when drawId is not given.",
    )
    round: int | None = strawberry.field(
        default=None,
        description="With lotId: the round to reveal (1 for the first draw, then one per replacement round).",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="Revealed and drawn.")
class ExpertDrawRevealed:
    draw: ExpertDraw = strawberry.field(description="The draw with the experts drawn.")


ExpertDrawRevealResult = result_union(
    "ExpertDrawRevealResult", ExpertDrawRevealed, [evaluation.find, evaluation.reveal]
)


@strawberry.input(description="Replace members of the committee (补抽): a new round with its own commitment.")
class ExpertDrawReplaceInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot whose committee changes.")
    expert_ids: list[strawberry.ID] = strawberry.field(description="Global ids of the committee members replaced.")
    reason: str = strawberry.field(description="Why (declined, conflict found...).")
    commitment: str = strawberry.field(description="SHA-256 (hex) of the secret of the new round.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="The replacement round is committed; reveal it like the first.")
class ExpertDrawReplaceCommitted:
    draw: ExpertDraw = strawberry.field(description="The new round of the draw with its published commitment.")


ExpertDrawReplaceResult = result_union("ExpertDrawReplaceResult", ExpertDrawReplaceCommitted, [evaluation.replace])


async def _draw_id(input: ExpertDrawRevealInput) -> int:
    if input.draw_id is not None:
        return int_id(input.draw_id, "ExpertDraw", "drawId")
    if input.lot_id is None or input.round is None:
        raise InvalidInput(field="drawId")
    return await evaluation.find(int_id(input.lot_id, "Lot", "lotId"), input.round)


async def _shown(info: Info, draw_id: int) -> ExpertDraw:
    view = await draw_view(info, draw_id)
    assert view is not None  # the operator who changed it may see it
    return view


@strawberry.type
class EvaluationMutations:
    @mutation(
        ExpertDrawCommitResult,
        description="Commit a lot's expert draw (专家抽取) before the bid deadline (operator).",
        permission_classes=[IsOperator],
    )
    async def expert_draw_commit(
        self,
        info: Info,
        input: Annotated[
            ExpertDrawCommitInput,
            strawberry.argument(description="The lot, the specialty, the committee size and the commitment."),
        ],
    ) -> ExpertDrawCommitted:
        draw = await evaluation.commit(
            info.context.actor,
            int_id(input.lot_id, "Lot", "lotId"),
            input.specialty,
            input.size,
            input.commitment,
            input.idempotency_key,
        )
        return ExpertDrawCommitted(draw=await _shown(info, draw.id))

    @mutation(
        ExpertDrawRevealResult,
        description="Reveal a round's secret after the bid deadline and draw its experts (operator).",
        permission_classes=[IsOperator],
    )
    async def expert_draw_reveal(
        self,
        info: Info,
        input: Annotated[ExpertDrawRevealInput, strawberry.argument(description="The draw to reveal and its secret.")],
    ) -> ExpertDrawRevealed:
        draw = await evaluation.reveal(info.context.actor, await _draw_id(input), input.secret, input.idempotency_key)
        return ExpertDrawRevealed(draw=await _shown(info, draw.id))

    @mutation(
        ExpertDrawReplaceResult,
        description="Replace committee members by a new round (补抽), committed like the first (operator).",
        permission_classes=[IsOperator],
    )
    async def expert_draw_replace(
        self,
        info: Info,
        input: Annotated[
            ExpertDrawReplaceInput,
            strawberry.argument(description="The members to replace and the commitment of the new round."),
        ],
    ) -> ExpertDrawReplaceCommitted:
        draw = await evaluation.replace(
            info.context.actor,
            int_id(input.lot_id, "Lot", "lotId"),
            [int_id(e, "Expert", "expertIds") for e in input.expert_ids],
            input.reason,
            input.commitment,
            input.idempotency_key,
        )
        return ExpertDrawReplaceCommitted(draw=await _shown(info, draw.id))
