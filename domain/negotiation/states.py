"""Competitive negotiation (竞争性谈判) and consultation (竞争性磋商) as data.

After the opening of the first responses closes and the committee is drawn, the panel negotiates with each
supplier separately over rounds, then calls for sealed final offers (最后报价), due from every supplier in one
window; the suppliers hand their keys over after it; the panel's experts judge (and, for a consultation, score)
the final offers, and the last sheet makes the report and the candidates that domain/results awards.

Facts the services pass: `lot_status`, `opening_status`, `committee_complete`, `suppliers` and `min_bids`
(suppliers whose first response opened, and how many the lot needs), `round` / `rounds_min` / `rounds_max`,
`called` (final offers were called), `opens_at` / `closes_at` / `now` (the final-offer window and server time),
`offers` (final offers standing or decrypted), `member` (the expert sits on the panel).
"""

from __future__ import annotations

from enum import StrEnum

from domain.common.actors import Role
from domain.common.errors import DomainError, InvalidTransition
from domain.common.lifecycle import SYSTEM, Facts, Lifecycle, fact_in, guard, move
from domain.evaluation.errors import (
    CommitteeIncomplete,
    EvaluationFinished,
    NotCommitteeMember,
    OpeningNotClosed,
)
from domain.negotiation.errors import (
    FinalOfferOutsideWindow,
    FinalOffersNotCalled,
    NegotiationClosed,
    PanelComposition,
    RoundLimitReached,
    RoundsNotHeld,
    TooFewInvited,
    TooFewSuppliers,
)
from domain.publication.states import LotStatus
from domain.tendering.opening import DecryptionClosed


class NegotiationStatus(StrEnum):
    NEGOTIATING = "negotiating"  # rounds with each supplier separately
    FINAL_OFFERS = "final_offers"  # the window for sealed final offers (最后报价)
    DECRYPTING = "decrypting"  # suppliers hand their keys over
    SCORING = "scoring"  # the panel's experts judge the final offers
    REPORTED = "reported"  # the report and its candidates exist
    FAILED = "failed"  # too few final offers, or none compliant: the lot fails


class FinalOfferStatus(StrEnum):
    SUBMITTED = "submitted"
    SUPERSEDED = "superseded"  # replaced inside the window
    DECRYPTED = "decrypted"
    INVALID = "invalid"  # not decrypted in time


@guard("the lot's opening closed (OpeningNotClosed)")
def opening_closed(facts: Facts) -> DomainError | None:
    return None if facts["opening_status"] == "closed" else OpeningNotClosed()


@guard("every draw round revealed and the committee complete (CommitteeIncomplete)")
def committee_complete(facts: Facts) -> DomainError | None:
    return None if facts["committee_complete"] else CommitteeIncomplete()


# 政府采购法 第三十八条(三): 不少于三家的供应商参加谈判 (财库〔2014〕214号 第二十一条: 2 in its cases: min_bids)
@guard("at least min_bids suppliers' first responses opened (TooFewSuppliers)")
def enough_suppliers(facts: Facts) -> DomainError | None:
    return None if facts["suppliers"] >= facts["min_bids"] else TooFewSuppliers(size=facts["min_bids"])


# 政府采购法 第三十八条(一), 财政部令第74号 第七条, 财库〔2014〕214号 第十四条, as procedures.panel_rule holds them
@guard("the panel (experts and purchaser's representatives) meets the procedure's panel rule (PanelComposition)")
def panel_composed(facts: Facts) -> DomainError | None:
    fault = facts["panel_fault"]
    if fault is None:
        return None
    return PanelComposition(
        minimum=facts["panel_minimum"],
        experts=facts["experts"],
        representatives=facts["representatives"],
        fault=fault,
        basis=facts["panel_basis"],
    )


# 财政部令第74号 第十二条 / 财库〔2014〕214号 第六条: at least min_bids qualified suppliers invited
@guard("at least min_bids suppliers on the invitation list (TooFewInvited)")
def enough_invited(facts: Facts) -> DomainError | None:
    if facts["invited"] >= facts["min_bids"]:
        return None
    return TooFewInvited(size=facts["min_bids"], count=facts["invited"], basis=facts["invitation_basis"])


@guard("fewer rounds held than the documents allow (RoundLimitReached)")
def rounds_left(facts: Facts) -> DomainError | None:
    return None if facts["round"] < facts["rounds_max"] else RoundLimitReached(size=facts["rounds_max"])


@guard("at least the rounds the documents require were held (RoundsNotHeld)")
def rounds_held(facts: Facts) -> DomainError | None:
    return None if facts["round"] >= facts["rounds_min"] else RoundsNotHeld(size=facts["rounds_min"])


# 财政部令第74号 第三十三条 / 财库〔2014〕214号 第二十一条: final offers within the set time, the same for all
@guard(
    "final offers were called and the window is open, on server time (FinalOffersNotCalled, FinalOfferOutsideWindow)"
)
def in_offer_window(facts: Facts) -> DomainError | None:
    if not facts["called"]:
        return FinalOffersNotCalled()
    opens_at, closes_at, now = facts["opens_at"], facts["closes_at"], facts["now"]
    return None if opens_at <= now < closes_at else FinalOfferOutsideWindow(opens_at=opens_at, closes_at=closes_at)


@guard("at least min_bids final offers (财政部令第74号 第三十三条: 不得少于3家) (TooFewSuppliers)")
def enough_offers(facts: Facts) -> DomainError | None:
    return None if facts["offers"] >= facts["min_bids"] else TooFewSuppliers(size=facts["min_bids"])


@guard("fewer than min_bids final offers")
def too_few_offers(facts: Facts) -> DomainError | None:
    return None if facts["offers"] < facts["min_bids"] else InvalidTransition(state="enough offers")


@guard("the expert sits on the panel (NotCommitteeMember)")
def member(facts: Facts) -> DomainError | None:
    return None if facts["member"] else NotCommitteeMember()


N = NegotiationStatus
TABLE: Lifecycle[NegotiationStatus] = Lifecycle(
    name="Negotiation",
    states=NegotiationStatus,
    doc="A competitive negotiation or consultation after the opening of the first responses: rounds with each "
    "supplier apart (政府采购法 第三十八条), one window for sealed final offers, keys, the panel's sheets, the report.",
    transitions=(
        move(
            "start",
            None,
            N.NEGOTIATING,
            by={Role.OPERATOR, SYSTEM},
            guards=[
                fact_in("lot_status", {LotStatus.EVALUATING}),
                opening_closed,
                committee_complete,
                panel_composed,
                enough_invited,
                enough_suppliers,
            ],
            note="round 1 opens with the invited suppliers whose first responses opened; starting again returns the "
            "same negotiation",
        ),
        move(
            "exchange",
            N.NEGOTIATING,
            N.NEGOTIATING,
            refusal=lambda _: NegotiationClosed(),
            note="the panel sends a supplier a document of the round, or the supplier its revised response",
        ),
        move(
            "eliminate",
            N.NEGOTIATING,
            N.NEGOTIATING,
            refusal=lambda _: NegotiationClosed(),
            note="the panel eliminates a supplier between rounds, with its reason; it takes no further part",
        ),
        move("open_round", N.NEGOTIATING, N.NEGOTIATING, guards=[rounds_left], note="the panel opens the next round"),
        move(
            "call_final_offers",
            N.NEGOTIATING,
            N.FINAL_OFFERS,
            guards=[rounds_held],
            note="the panel ends the rounds; final offers are due within final_offer_window_minutes",
        ),
        move(
            "submit_offer",
            N.FINAL_OFFERS,
            N.FINAL_OFFERS,
            by={Role.BIDDER},
            guards=[in_offer_window],
            note="a supplier seals its final offer (replacing its earlier one) inside the window",
        ),
        move(
            "close_offers",
            N.FINAL_OFFERS,
            N.DECRYPTING,
            by={SYSTEM},
            timed=True,
            guards=[enough_offers],
            note="the window ended: suppliers hand their keys over for decryption_window_minutes",
        ),
        move(
            "decrypt_offer",
            N.DECRYPTING,
            N.DECRYPTING,
            by={Role.BIDDER},
            refusal=lambda _: DecryptionClosed(),
            note="a supplier hands over the key of its final offer",
        ),
        move(
            "close_decryption",
            N.DECRYPTING,
            N.SCORING,
            by={SYSTEM},
            timed=True,
            guards=[enough_offers],
            note="the key window ended: offers not decrypted are invalid",
        ),
        move(
            "fail",
            {N.FINAL_OFFERS, N.DECRYPTING},
            N.FAILED,
            by={SYSTEM},
            timed=True,
            guards=[too_few_offers],
            note="too few final offers (or decrypted offers): the lot fails with a termination announcement",
        ),
        move(
            "submit_sheet",
            N.SCORING,
            N.SCORING,
            by={Role.EXPERT},
            guards=[member],
            refusal=lambda _: EvaluationFinished(),
            note="a panel expert's complete sheet, replacing its previous one",
        ),
        move("report", N.SCORING, N.REPORTED, by={SYSTEM}, note="the last sheet: candidates (成交候选人) ranked"),
        move(
            "reject_all",
            N.SCORING,
            N.FAILED,
            by={SYSTEM},
            note="the last sheet: no final offer complies, the lot fails",
        ),
    ),
    initial=frozenset({N.NEGOTIATING}),
    final=frozenset({N.REPORTED, N.FAILED}),
)


F = FinalOfferStatus
OFFER: Lifecycle[FinalOfferStatus] = Lifecycle(
    name="FinalOffer",
    states=FinalOfferStatus,
    doc="A supplier's sealed final offer (最后报价): ciphertext until its supplier hands its key over.",
    transitions=(
        move("submit", None, F.SUBMITTED, by={Role.BIDDER}, note="inside the final-offer window"),
        move(
            "supersede",
            F.SUBMITTED,
            F.SUPERSEDED,
            by={Role.BIDDER},
            note="the same supplier offers again in the window",
        ),
        move("decrypt", F.SUBMITTED, F.DECRYPTED, by={Role.BIDDER}, note="its supplier's key, in the key window"),
        move("invalidate", F.SUBMITTED, F.INVALID, by={SYSTEM}, timed=True, note="no key when the key window ends"),
    ),
    initial=frozenset({F.SUBMITTED}),
    final=frozenset({F.SUPERSEDED, F.DECRYPTED, F.INVALID}),
)
