"""Venue booking (场地预约) over HTTP: an operator keeps the rooms and books a lot's opening hall and evaluation room,
chosen automatically; a second lot asking for a taken hall is refused VENUE_CONFLICT; a clarification that moves the
deadline moves both bookings; a bidder sees the opening hall's booking, never the evaluation room; the hall's kiosk
shows the day's schedule; an operator cancels a booking (once; never a bidder); the lot failing at its deadline
gives its rooms back."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from domain.common import chronograph
from domain.common.actors import Role
from domain.common.clock import ManualClock, to_shanghai
from domain.tendering import clarifications
from schema.relay import to_global_id
from tests.domain.factories import organisation
from tests.schema.test_scoring import token
from tests.support.tendering import OPERATOR, person, published_tender

ROOM = """mutation($input: RoomSaveInput!) { roomSave(input: $input) { __typename
  ... on RoomSaved { room { id name kind seats } } ... on Error { code } } }"""
BOOK = """mutation($input: VenueBookInput!) { venueBook(input: $input) { __typename
  ... on VenueBooked { bookings { id roomId purpose status startsAt endsAt } } ... on Error { code message } } }"""
CANCEL = """mutation($input: VenueCancelInput!) { venueCancel(input: $input) { __typename
  ... on VenueCancelled { booking { status cancelReason } } ... on Error { code } } }"""
BOOKINGS = """query($lotId: ID!) { lotBookings(lotId: $lotId) { id roomId purpose status startsAt cancelReason } }"""
ROOMS = "{ rooms { name kind } }"
SCHEDULE = "query($day: Date) { hallSchedule(day: $day) { hall lotName tradeCode startsAt timeText } }"


async def room(api: Any, op: str, name: str, kind: str, seats: int) -> str:
    body = await api.gql(
        ROOM, {"input": {"name": name, "kind": kind, "seats": seats, "equipment": ["录音录像"]}}, token=op
    )
    assert body["data"]["roomSave"]["__typename"] == "RoomSaved", body
    return body["data"]["roomSave"]["room"]["id"]  # type: ignore[no-any-return]


async def book(api: Any, op: str, lot: int, seats: int, **rooms: str) -> dict[str, Any]:
    variables = {
        "input": {
            "lotId": to_global_id("Lot", lot),
            "seats": seats,
            "evaluationSeats": 7,
            "idempotencyKey": f"b-{lot}",
            **rooms,
        }
    }
    return (await api.gql(BOOK, variables, token=op))["data"]["venueBook"]  # type: ignore[no-any-return]


async def test_a_lot_is_booked_moved_with_its_deadline_hidden_from_bidders_and_released(api, manual_clock: ManualClock):
    # given two opening halls, an evaluation room and an open tender with a registered bidder
    op = token(api, OPERATOR)
    small = await room(api, op, "第一开标室", "OPENING_HALL", 20)
    big = await room(api, op, "第二开标室", "OPENING_HALL", 80)
    isolated = await room(api, op, "一号评标室", "EVALUATION_ROOM", 9)
    t = await published_tender()
    other = await published_tender()
    org = await organisation(kinds=["bidder"])
    bidder = token(api, person(org, Role.BIDDER))

    # when the operator books the lot for 30 people (the small hall is too small)
    booked = await book(api, op, t.lot.id, 30)
    replay = await book(api, op, t.lot.id, 30)

    # then the big hall and the evaluation room are held from the deadline, the retry answers the same
    assert booked["__typename"] == "VenueBooked", booked
    assert replay == booked
    opening, evaluation = booked["bookings"]
    assert (opening["purpose"], opening["roomId"], evaluation["purpose"], evaluation["roomId"]) == (
        "OPENING",
        big,
        "EVALUATION",
        isolated,
    )
    deadline = t.lot.config["bid_deadline"]
    assert opening["startsAt"][:19] == deadline[:19]
    assert opening["endsAt"] == evaluation["startsAt"]

    # and another lot at the same time asking for the taken hall is refused, with nothing booked
    clash = await book(api, op, other.lot.id, 10, openingRoomId=big)
    assert clash["__typename"] == "VenueConflict", clash
    assert await api.gql(BOOKINGS, {"lotId": to_global_id("Lot", other.lot.id)}, token=op) == {
        "data": {"lotBookings": []}
    }
    # nor is a free evaluation room left for it: the small hall is, but both go or neither
    nothing = await book(api, op, other.lot.id, 10)
    assert nothing["__typename"] == "NoRoomAvailable", nothing
    assert small != big

    # when a clarification moves the deadline by a week
    later = t.lot.config["bid_deadline"]
    moved_to = datetime.fromisoformat(later) + timedelta(days=7)
    await clarifications.publish(
        t.tenderer,
        clarifications.ClarificationForm(
            t.lot.id, changes_documents=True, title="澄清公告", body_html="<p>修改</p>", bid_deadline=moved_to
        ),
    )
    await api.dispatch()

    # then both bookings follow it, in the same rooms
    seen = (await api.gql(BOOKINGS, {"lotId": to_global_id("Lot", t.lot.id)}, token=op))["data"]["lotBookings"]
    assert [(b["purpose"], b["roomId"], b["status"]) for b in seen] == [
        ("OPENING", big, "BOOKED"),
        ("EVALUATION", isolated, "BOOKED"),
    ]
    assert datetime.fromisoformat(seen[0]["startsAt"]) == moved_to

    # and a bidder sees the opening hall only: no evaluation booking, no evaluation room
    by_bidder = (await api.gql(BOOKINGS, {"lotId": to_global_id("Lot", t.lot.id)}, token=bidder))["data"]
    assert [b["purpose"] for b in by_bidder["lotBookings"]] == ["OPENING"]
    rooms_seen = (await api.gql(ROOMS, token=bidder))["data"]["rooms"]
    assert {r["kind"] for r in rooms_seen} == {"OPENING_HALL"}
    assert "一号评标室" not in str(rooms_seen)
    assert "一号评标室" in str((await api.gql(ROOMS, token=op))["data"]["rooms"])

    # when the hall's kiosk asks for the schedule of the opening day
    day = to_shanghai(moved_to).date().isoformat()
    schedule = (await api.gql(SCHEDULE, {"day": day}))["data"]["hallSchedule"]

    # then it lists the lot's opening in the big hall, and never the evaluation room
    assert [(s["hall"], s["tradeCode"]) for s in schedule] == [("第二开标室", t.lot.trade_code)]
    assert (await api.gql(SCHEDULE, {"day": "2020-01-01"}))["data"]["hallSchedule"] == []
    far = await api.gql(SCHEDULE, {"day": "9999-12-31"}, expect_errors=True)
    assert [e["extensions"]["code"] for e in far["errors"]] == ["INVALID_INPUT"]

    # when the other lot, free again at its own deadline, is booked and the operator cancels its opening hall
    rebooked = await book(api, op, other.lot.id, 10)
    assert rebooked["__typename"] == "VenueBooked", rebooked
    hall = rebooked["bookings"][0]
    assert (hall["purpose"], hall["roomId"]) == ("OPENING", small)  # the smallest hall that fits
    cancel = {"input": {"bookingId": hall["id"], "idempotencyKey": "c-1"}}
    cancelled = (await api.gql(CANCEL, cancel, token=op))["data"]["venueCancel"]
    replayed = (await api.gql(CANCEL, cancel, token=op))["data"]["venueCancel"]
    again = {"input": {"bookingId": hall["id"], "idempotencyKey": "c-2"}}
    twice = (await api.gql(CANCEL, again, token=op))["data"]["venueCancel"]
    by_a_bidder = await api.gql(CANCEL, {"input": {"bookingId": hall["id"]}}, token=bidder, expect_errors=True)

    # then it is cancelled once (the retry answers the same), a second cancel and a bidder are refused
    assert cancelled == {"__typename": "VenueCancelled", "booking": {"status": "CANCELLED", "cancelReason": "operator"}}
    assert replayed == cancelled
    assert twice == {"__typename": "BookingCancelledAlready", "code": "BOOKING_CANCELLED_ALREADY"}
    assert [e["extensions"]["code"] for e in by_a_bidder["errors"]] == ["FORBIDDEN"]
    other_seen = (await api.gql(BOOKINGS, {"lotId": to_global_id("Lot", other.lot.id)}, token=bidder))["data"]
    assert other_seen == {"lotBookings": []}

    # when the deadline passes with no bid, the lot fails (流标) and gives its rooms back
    manual_clock.set(moved_to + timedelta(seconds=1))
    await chronograph.fire_due()
    await api.dispatch()
    await api.dispatch()
    op, bidder = token(api, OPERATOR), token(api, person(org, Role.BIDDER))  # access tokens last 15 minutes
    seen = (await api.gql(BOOKINGS, {"lotId": to_global_id("Lot", t.lot.id)}, token=op))["data"]["lotBookings"]
    assert [(b["status"], b["cancelReason"]) for b in seen] == [("CANCELLED", "lot_ended"), ("CANCELLED", "lot_ended")]

    # and the other lot, failed at the same deadline, can no longer be booked
    late = await book(api, op, other.lot.id, 10)
    assert late["__typename"] == "LotNotBookable", late
