"""Online auctions (网络竞价): one auction per lot, its qualified entries with bidder numbers, and bids."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Auction(Model):
    """The live state of one lot auction. Every accepted bid updates this row under a lock.

    reserve_price_fen is never shown before the end. ends_at is set when timed bidding starts
    and moved by each bid in timed bidding. seq counts accepted bids. The lot's bidder rules
    (require_signed_bids, require_two_factor_for_bids) are copied here when bidding starts, when the
    lot's configuration can no longer change, so a bid reads them from the row it locks anyway.
    """

    id = fields.BigIntField(primary_key=True)
    lot: fields.OneToOneRelation[Model] = fields.OneToOneField(
        "palmtrade.Lot", related_name="auction", on_delete=fields.RESTRICT
    )
    lot_id: int
    starting_price_fen = fields.BigIntField()
    increment_fen = fields.BigIntField()
    reserve_price_fen = fields.BigIntField()
    starts_at = fields.DatetimeField()
    free_ends_at = fields.DatetimeField()
    countdown_seconds = fields.IntField()
    entry_deadline = fields.DatetimeField()
    phase = fields.CharField(max_length=16)
    ends_at = fields.DatetimeField(null=True)
    seq = fields.IntField(default=0)
    current_price_fen = fields.BigIntField(null=True)
    leading_entry_id = fields.BigIntField(null=True)
    leading_bidder_no = fields.CharField(max_length=8, null=True)
    winner_entry_id = fields.BigIntField(null=True)
    confirmation_no = fields.CharField(max_length=40, null=True)
    reminded_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)
    next_check_at = fields.DatetimeField(null=True, db_index=True)
    require_signed_bids = fields.BooleanField(default=False, db_default=False)
    require_two_factor_for_bids = fields.BooleanField(default=False, db_default=False)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "auction"


class AuctionEntry(Model):
    """A qualified bidder of one auction, known to others only by its bidder number (竞买号)."""

    id = fields.BigIntField(primary_key=True)
    auction: fields.ForeignKeyRelation[Auction] = fields.ForeignKeyField(
        "palmtrade.Auction", related_name="entries", on_delete=fields.CASCADE
    )
    auction_id: int
    organisation_id = fields.BigIntField()
    registration_id = fields.BigIntField()
    bidder_no = fields.CharField(max_length=8)
    qualified_at = fields.DatetimeField()

    class Meta:
        table = "auction_entry"
        unique_together = (("auction_id", "organisation_id"), ("auction_id", "bidder_no"))


class AuctionBid(Model):
    """An accepted bid: seq and price both strictly increase within an auction."""

    id = fields.BigIntField(primary_key=True)
    auction: fields.ForeignKeyRelation[Auction] = fields.ForeignKeyField(
        "palmtrade.Auction", related_name="bids", on_delete=fields.CASCADE
    )
    auction_id: int
    entry_id = fields.BigIntField()
    bidder_no = fields.CharField(max_length=8)
    seq = fields.IntField()
    amount_fen = fields.BigIntField()
    placed_at = fields.DatetimeField()
    ends_at = fields.DatetimeField(null=True)
    phase = fields.CharField(max_length=16)

    class Meta:
        table = "auction_bid"
        unique_together = (("auction_id", "seq"),)
