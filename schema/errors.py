"""Business failures as data: one GraphQL type per domain error class, all implementing Error."""

import functools
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, ParamSpec, TypeVar, Union, cast, get_args

import strawberry
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission
from strawberry.types import Info
from strawberry.types.union import StrawberryUnion

from domain.common.errors import COMMON, DomainError, declared
from schema.scalars import Fen


@strawberry.interface(
    description="A business failure: a stable code and a message in the caller's language "
    "(zh-CN by default, English with Accept-Language: en)."
)
class Error:
    code: str = strawberry.field(description="Stable machine-readable code, e.g. BID_TOO_LOW.")
    message: str = strawberry.field(description="Human-readable explanation.")


@strawberry.interface(description="A failure caused by one input field, named as the client sent it.")
class FieldError(Error):
    field: str = strawberry.field(description="The input field at fault, e.g. creditCode.")


_KINDS: dict[str, Any] = {"str": str, "int": int, "datetime": datetime, "fen": Fen}

# What each exposed parameter of a domain error tells the client, by parameter name; where one name
# means different things in different errors, _PARAMS_OF gives the error's own wording.
_PARAMS: dict[str, str] = {
    "field": "The input field at fault, named as the client sent it (e.g. creditCode).",
    "state": "The state the object is in, which does not allow the action.",
    "deadline": "The deadline that decides the outcome (Beijing time offset, +08:00).",
    "reason": "Why, in words for people.",
    "rule": "The text of the eligibility rule at stake.",
    "amount_fen": "The amount at stake, in fen.",
    "current_price_fen": "The auction's current price when the bid arrived, in fen.",
    "min_next_fen": "The lowest bid accepted next (current price plus one increment), in fen.",
    "max_next_fen": "Reverse auction: the highest bid accepted next (current price less one increment), in fen.",
    "seq": "The auction's sequence number when the bid was refused: bids after it are newer.",
    "retry_at": "When the next attempt is allowed.",
    "locked_until": "When the account can sign in again.",
    "phase": "The auction's phase: scheduled, free, timed, sold or failed.",
    "stage": "The stage the objection concerns (tender documents, opening or evaluation result).",
    "days": "The number of days the rule allows.",
    "subject": "What the complaint is about.",
    "max_bytes": "The largest file allowed for this purpose, in bytes.",
    "max_count": "The most files of this purpose one object may have.",
    "eligible": "How many experts of the pool are eligible for the draw.",
    "size": "How many experts the committee needs.",
    "missing": "How many valid bids the sheet does not judge.",
    "unexpected": "How many entries of the sheet name an unknown bid or repeat one.",
    "max_centi": "The highest value allowed, in hundredths of a point.",
    "required_fen": "The lot's bid security, the least a guarantee may cover, in fen.",
    "required_until": "The earliest end of validity accepted: the bid deadline plus the bid validity days.",
    "letter_no": "The letter number already used by another guarantee.",
    "limit": "The most items one request may name.",
    "cap_fen": "The largest bid security this lot may ask for (2% of the estimate), in fen.",
    "total": "What the weights add up to now.",
    "opens_at": "When registration opens.",
    "closes_at": "When registration closes.",
    "ends_at": "When the candidate publicity ends.",
    "confirmed_at": "When the winner acknowledged the result confirmation.",
    "price_fen": "The winning price, which the contract amount must equal, in fen.",
    "count": "How many there are now.",
    "name": "The name of the organisation at stake.",
    "basis": "The law or regulation that sets the rule.",
    "rank": "The candidate's rank in the committee's report.",
    "next_rank": "The rank of the candidate to award next.",
    "limit_fen": "The most the supplements may add together (10% of the original amount), in fen.",
    "repairable_from": "When the minimum publicity period ends and credit repair may be applied for.",
}
_PARAMS_OF: dict[tuple[str, str], str] = {
    ("ClaimExceedsGuarantee", "amount_fen"): "The guaranteed amount, the most a claim may ask for, in fen.",
    ("ContractAmountMismatch", "amount_fen"): "The contract amount sent, in fen.",
    (
        "PaymentsExceedContract",
        "amount_fen",
    ): "The contract's current amount, the most all payments may add to, in fen.",
    (
        "PaymentExceedsContract",
        "available_fen",
    ): "What may still be requested: the contract less live requests, in fen.",
    ("ComplaintTooLate", "deadline"): "When the period for complaining ended.",
    ("ComplaintTooLate", "days"): "The days a complaint is allowed after the complainant knew of the act.",
    ("RegistrationClosed", "opens_at"): "When registration opens (or opened).",
    ("CertificateInvalid", "reason"): "Why the certificate path does not validate.",
    ("LotPaused", "reason"): "What pauses the lot: an unanswered objection or a suspension by the supervisor.",
    ("LocalProtectionBanned", "rule"): "The eligibility rule that amounts to local protection.",
    ("NotEligible", "rule"): "The eligibility rule the organisation does not meet.",
    ("ListingNotOpen", "status"): "The listing's status: scheduled (not open yet), sold, auction or failed (ended).",
    ("RoundLimitReached", "size"): "The most negotiation rounds the lot's documents allow.",
    ("RoundsNotHeld", "size"): "The rounds the lot's documents require before the final offers.",
    ("TooFewSuppliers", "size"): "The fewest suppliers the negotiation needs (the lot's min_bids).",
    ("FinalOfferOutsideWindow", "opens_at"): "When the final-offer window opened.",
    ("FinalOfferOutsideWindow", "closes_at"): "When the final-offer window closed (or closes): server time.",
    ("ContractChangeDecided", "status"): "How the change was settled: in effect, declined or withdrawn.",
    ("PanelComposition", "minimum"): "The fewest members the panel needs (3, or 5 at the public-tender threshold).",
    ("PanelComposition", "experts"): "The drawn experts on the panel.",
    ("PanelComposition", "representatives"): "The purchaser's representatives named for the panel.",
    ("PanelComposition", "fault"): "What breaks the rule: too_few, even or too_few_experts.",
    ("PurchaserRecommendsTooMany", "purchaser"): "How many of the suppliers recommended the purchaser recommended.",
    ("PurchaserRecommendsTooMany", "total"): "How many suppliers were recommended in all.",
    ("TooFewInvited", "size"): "The fewest suppliers to invite (the lot's min_bids).",
    ("SupplierEliminated", "round"): "The round after which the panel eliminated the supplier.",
    ("RoundClosed", "round"): "The round whose deadline passed.",
    ("RoundClosed", "closes_at"): "When the round closed (roundClosesAt, moved on by a suspension's length).",
    ("VenueConflict", "starts_at"): "When the standing booking that holds the room begins.",
    ("VenueConflict", "ends_at"): "When the standing booking that holds the room ends.",
    ("NoRoomAvailable", "starts_at"): "The start of the time no fitting room is free.",
    ("NoRoomAvailable", "ends_at"): "The end of the time no fitting room is free.",
    ("CreditCommitmentRequired", "stage"): "The stage whose credit commitment is missing: registration or bid.",
    ("CreditCommitmentStale", "stage"): "The stage whose credit commitment was signed on an earlier text version.",
    ("CreditCommitmentStale", "signed"): "The text version the stage's commitment was signed against.",
    ("CreditCommitmentStale", "current"): "The text version in force now, which the commitment must be signed on.",
}
_CODE = "Stable machine-readable code, e.g. BID_TOO_LOW."
_MESSAGE = "Human-readable explanation, in the caller's language (zh-CN by default, English on request)."
_types: dict[type[DomainError], type] = {}
# The errors each result union may carry, by the union's GraphQL name (COMMON included).
_allowed: dict[str, tuple[type[DomainError], ...]] = {}
P = ParamSpec("P")
T = TypeVar("T")


def error_type(cls: type[DomainError]) -> type:
    """The GraphQL type of a domain error class, made once."""
    if cls in _types:
        return _types[cls]
    annotations: dict[str, Any] = {"code": str, "message": str}
    namespace: dict[str, Any] = {
        "code": strawberry.field(description=_CODE),
        "message": strawberry.field(description=_MESSAGE),
    }
    for name, kind in cls.exposed.items():
        annotations[name] = _KINDS[kind]
        described = _PARAMS_OF.get((cls.__name__, name)) or _PARAMS.get(name)
        namespace[name] = strawberry.field(description=described)
    base = FieldError if "field" in cls.exposed else Error
    namespace |= {"__annotations__": annotations, "__module__": __name__}
    made = strawberry.type(
        type(cls.__name__, (base,), namespace),
        description=f"{cls.code}: {cls.message_en}.",
    )
    _types[cls] = made
    return made


def result_union(
    name: str,
    success: type | tuple[type, ...],
    raised: Sequence[type[DomainError] | Callable[..., Any]],
    description: str | None = None,
) -> Any:
    """The union of a mutation's success type (or types: each an outcome that is not a failure) and every error it
    may answer: COMMON, and what the services it calls declare with @raises (an error class is named here only where
    the resolver itself raises it)."""
    errors: list[type[DomainError]] = []
    for source in raised:
        errors.extend([source] if isinstance(source, type) else declared(source))
    allowed = tuple(dict.fromkeys([*errors, *COMMON]))
    successes = success if isinstance(success, tuple) else (success,)
    members = [*successes, *(error_type(e) for e in allowed)]
    description = description or (
        f"The outcome of the mutation: {successes[0].__name__} when it succeeded, otherwise a business failure "
        "implementing Error (a stable code and a message), in which case nothing has changed."
    )
    _allowed[name] = allowed
    return Annotated[Union[tuple(members)], strawberry.union(name, description=description)]  # noqa: UP007


def mutation(
    result: Any,
    *,
    description: str,
    permission_classes: list[type[BasePermission]] | None = None,
    extensions: list[FieldExtension] | None = None,
    name: str | None = None,
) -> Callable[[Callable[P, Awaitable[T]]], Callable[P, Awaitable[T]]]:
    """A mutation answering the result union `result`: the resolver returns its success and lets the services raise;
    a DomainError becomes the union's error member (see as_error). The resolver must take `info`. Typed as the
    method itself, as schema/fields.py types strawberry's other decorators (strawberry.type puts it back)."""
    union = get_args(result)[1]
    if not isinstance(union, StrawberryUnion) or union.graphql_name not in _allowed:
        raise TypeError(f"{result!r} is not a result union made by result_union()")
    allowed = _allowed[union.graphql_name]

    def decorate(resolver: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        @functools.wraps(resolver)
        async def answer(*args: P.args, **kwargs: P.kwargs) -> Any:
            try:
                return await resolver(*args, **kwargs)
            except DomainError as err:
                return as_error(err, kwargs["info"], allowed)  # type: ignore[arg-type]

        answer.__allowed__ = allowed  # type: ignore[attr-defined]  # read by tests/schema/test_error_unions.py
        field = strawberry.mutation(
            resolver=answer,
            graphql_type=result,
            description=description,
            permission_classes=permission_classes,
            extensions=extensions,
            name=name,
        )
        return cast("Callable[P, Awaitable[T]]", field)

    return decorate


def as_error(err: DomainError, info: Info, allowed: Sequence[type[DomainError]]) -> Any:
    """The error as a member of a result union: its own type, else its nearest listed base."""
    permitted = set(allowed) | set(COMMON)
    for cls in type(err).__mro__:
        if cls in permitted:
            gql = error_type(cls)
            extra = {k: err.params.get(k) for k in cls.exposed}
            return gql(code=err.code, message=err.message(info.context.locale), **extra)
    raise err
