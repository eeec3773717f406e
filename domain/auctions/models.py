"""Online auctions (网络竞价): one auction per lot, its qualified entries with bidder numbers, and bids."""

from __future__ import annotations

from tortoise import fields

from domain.db import Model


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
    # 反向竞价 (procurement): the price goes down by steps, the lowest wins, reserve_price_fen is the sealed ceiling
    # (最高限价) and a bid above it is refused
    descending = fields.BooleanField(default=False, db_default=False)
    # 挂牌转竞价: made at a listing's end with its offerers as entries and its highest offer leading
    from_listing = fields.BooleanField(default=False, db_default=False)
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
    """An accepted bid: seq strictly increases within an auction, and the price with it (down in a reverse auction)."""

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


class Listing(Model):
    """A listing (挂牌) of a lot: offers at the listing price or above during the listing period.

    The listing price (挂牌起始价) moves up with each offer (the current price plus whole increments); the reserve
    (底价) is never shown before the end. At ends_at (the lot's bid deadline) it is sold to a lone offerer at its offer,
    turned into an online auction with the same bidders when two or more offered (auction_id), or failed.
    """

    id = fields.BigIntField(primary_key=True)
    lot: fields.OneToOneRelation[Model] = fields.OneToOneField(
        "palmtrade.Lot", related_name="listing", on_delete=fields.RESTRICT
    )
    lot_id: int
    listing_price_fen = fields.BigIntField()
    increment_fen = fields.BigIntField()
    reserve_price_fen = fields.BigIntField()
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    auction_gap_minutes = fields.IntField()
    auction_free_minutes = fields.IntField()
    auction_countdown_seconds = fields.IntField()
    status = fields.CharField(max_length=16)
    seq = fields.IntField(default=0)
    current_price_fen = fields.BigIntField(null=True)
    leading_offer_id = fields.BigIntField(null=True)
    leading_bidder_no = fields.CharField(max_length=8, null=True)
    winner_organisation_id = fields.BigIntField(null=True)
    auction_id = fields.BigIntField(null=True)
    confirmation_no = fields.CharField(max_length=40, null=True)
    closed_at = fields.DatetimeField(null=True)
    next_check_at = fields.DatetimeField(null=True, db_index=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "listing"


class ListingOffer(Model):
    """An accepted listing offer (报价单): seq and price strictly increase, the offerer keeps one bidder number."""

    id = fields.BigIntField(primary_key=True)
    listing: fields.ForeignKeyRelation[Listing] = fields.ForeignKeyField(
        "palmtrade.Listing", related_name="offers", on_delete=fields.CASCADE
    )
    listing_id: int
    organisation_id = fields.BigIntField()
    registration_id = fields.BigIntField()
    bidder_no = fields.CharField(max_length=8)
    seq = fields.IntField()
    amount_fen = fields.BigIntField()
    placed_at = fields.DatetimeField()

    class Meta:
        table = "listing_offer"
        unique_together = (("listing_id", "seq"),)
