"""Why a venue step was refused: one stable code each, in Chinese and English."""

from __future__ import annotations

from typing import ClassVar

from domain.common.errors import DomainError


class RoomNameTaken(DomainError):
    code = "ROOM_NAME_TAKEN"
    message_zh = "已有同名场地"
    message_en = "A room of that name exists already"


class VenueConflict(DomainError):
    code = "VENUE_CONFLICT"
    message_zh = "该场地在 {starts_at} 至 {ends_at} 已被预约"
    message_en = "The room is already booked between {starts_at} and {ends_at}"
    exposed: ClassVar[dict[str, str]] = {"starts_at": "datetime", "ends_at": "datetime"}


class NoRoomAvailable(DomainError):
    code = "NO_ROOM_AVAILABLE"
    message_zh = "{starts_at} 至 {ends_at} 没有空闲且座位足够的场地"
    message_en = "No free room with enough seats between {starts_at} and {ends_at}"
    exposed: ClassVar[dict[str, str]] = {"starts_at": "datetime", "ends_at": "datetime"}


class RoomUnfit(DomainError):
    code = "ROOM_UNFIT"
    message_zh = "所选场地类型不符、已停用或座位不足"
    message_en = "The chosen room is of another kind, out of use or has too few seats"


class LotAlreadyBooked(DomainError):
    code = "LOT_ALREADY_BOOKED"
    message_zh = "该标段已预约场地，请先取消原预约"
    message_en = "The lot has its rooms booked already: cancel them first"


class LotNotBookable(DomainError):
    code = "LOT_NOT_BOOKABLE"
    message_zh = "该标段不是已发布、有投标截止时间的标段"
    message_en = "The lot is not a published lot with a bid deadline"


class BookingCancelledAlready(DomainError):
    code = "BOOKING_CANCELLED_ALREADY"
    message_zh = "该预约已取消"
    message_en = "The booking is cancelled already"
