"""A ranked candidate's security held after the award until the contract, as its bidder sees it."""

from datetime import datetime

import strawberry
from strawberry.types import Info

from domain.results import holds


@strawberry.type(
    description="The security is held because its bidder is a ranked candidate (中标候选人) of an awarded lot: "
    "the award may still pass to it (实施条例 第五十五条), so it stays until the contract is signed and is due back "
    "within 5 days after (第五十七条), or when the lot fails or is cancelled."
)
class CandidateSecurityHold:
    rank: int = strawberry.field(description="The bidder's rank among the candidates (1 first).")
    winner: bool = strawberry.field(description="Whether the bidder is the one awarded now.")
    contract_due_at: datetime = strawberry.field(
        description="By when the winner's contract must be signed (30 days after the award)."
    )
    release_due_by: datetime = strawberry.field(
        description="The latest it falls due back if the contract is signed by its deadline: contractDueAt plus "
        "5 days; earlier when the contract comes earlier."
    )
    release_rule: str = strawberry.field(description="The release rule in the caller's language (zh-CN, or en).")

    @classmethod
    async def of(cls, info: Info, lot_id: int, org_id: int) -> "CandidateSecurityHold | None":
        hold = await holds.candidate_hold(lot_id, org_id)
        if hold is None:
            return None
        return cls(
            rank=hold.rank,
            winner=hold.winner,
            contract_due_at=hold.contract_due_at,
            release_due_by=hold.release_due_by,
            release_rule=hold.rule(info.context.locale),
        )
