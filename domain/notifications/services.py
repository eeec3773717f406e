"""Devices, the inbox and preferences; storing notifications and leasing their pushes.

Every notification lands in its user's inbox whatever happens to push; each of the user's
devices then gets a PushDelivery, unless the user muted that kind for push. Outside quiet hours
a push is due at once; inside them only time-critical ones are, the others wait for the end of
the quiet hours. A push not sent before it expires is dropped (the inbox still has it).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any, ClassVar

from tortoise import connections
from tortoise.expressions import F, Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from domain.accounts.models import Expert, User
from domain.common import clock
from domain.common.actors import Actor, Role
from domain.common.errors import InvalidInput, PermissionDenied, raises
from domain.common.queries import column
from domain.common.storage import claim, using_postgres
from domain.notifications.models import Device, Notification, NotificationPreference, PushDelivery

MESSAGE_NAMESPACE = uuid.UUID("5b0c3c9e-8f0a-4d7e-9a51-6f1d2b7c4e10")
MAX_DEVICES_PER_USER = 10
PUSH_TTL = timedelta(hours=24)
TIME_CRITICAL_PUSH_TTL = timedelta(hours=1)
MAX_IDS = 500


class Kind(StrEnum):
    """What a notification is about; users mute pushes per kind. Later issues add their kinds here."""

    SAVED_SEARCH_MATCHED = "saved_search_matched"
    ENTITY_REVIEWED = "entity_reviewed"
    CREDIT_RECORDED = "credit_recorded"
    PUNISHMENT_LISTED = "punishment_listed"
    REGISTRATION_RESULT = "registration_result"
    AUCTION_STARTING_SOON = "auction_starting_soon"
    AUCTION_OUTBID = "auction_outbid"
    AUCTION_ENDED = "auction_ended"
    AUCTION_WON = "auction_won"
    DEPOSIT_RECEIVED = "deposit_received"
    DEPOSIT_REFUNDED = "deposit_refunded"
    GUARANTEE = "guarantee"
    EVALUATION_REPORTED = "evaluation_reported"
    CANDIDATE_PUBLICITY = "candidate_publicity"
    AWARD_NOTICE = "award_notice"
    RESULT_NOTICE = "result_notice"
    CONTRACT_OVERDUE = "contract_overdue"
    OBJECTION = "objection"
    OBJECTION_OVERDUE = "objection_overdue"
    COMPLAINT = "complaint"
    COMPLAINT_OVERDUE = "complaint_overdue"
    LOT_SUSPENSION = "lot_suspension"
    REPORT_STATUS = "report_status"
    COLLUSION_ALERT = "collusion_alert"
    TENDER_DOCUMENT_CHANGED = "tender_document_changed"
    DECRYPTION_WINDOW = "decryption_window"
    DECRYPTION_REMINDER = "decryption_reminder"
    BID_DEADLINE_APPROACHING = "bid_deadline_approaching"
    DEPOSIT_DUE = "deposit_due"
    LOT_CHANGED = "lot_changed"
    LOT_ENDED = "lot_ended"
    EXPERT_REPLACEMENT_NEEDED = "expert_replacement_needed"
    COMMITTEE_COMPLETE = "committee_complete"
    EXPERT_DRAWN = "expert_drawn"
    LISTING_ENDED = "listing_ended"
    AWARD_WITHDRAWN = "award_withdrawn"
    CONTRACT = "contract"
    BID_CONFIRMATION_REQUIRED = "bid_confirmation_required"
    LOT_INVITATION = "lot_invitation"
    QUESTION_ASKED = "question_asked"
    NEGOTIATION = "negotiation"
    FINAL_OFFER = "final_offer"
    STATISTICS_REPORT = "statistics_report"
    ACCOUNT_SECURITY = "account_security"


class Channel(StrEnum):
    """Where a notification may go besides the inbox, which always has it."""

    PUSH = "push"
    LIVE = "live"


class Provider(StrEnum):
    """Push services a device can be registered with; README says which have a channel."""

    FCM = "fcm"  # abroad: Android with Google services
    APNS = "apns"  # iOS, straight to Apple
    JPUSH = "jpush"  # mainland Android through JPush, which routes to Huawei, Honor, Xiaomi, OPPO, vivo
    HUAWEI = "huawei"
    HONOR = "honor"
    XIAOMI = "xiaomi"
    OPPO = "oppo"
    VIVO = "vivo"


class Platform(StrEnum):
    ANDROID = "android"
    IOS = "ios"
    HARMONY = "harmony"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # refused for good by the provider
    INVALID_TOKEN = "invalid_token"  # the device was removed
    EXPIRED = "expired"  # not accepted before expires_at
    SKIPPED = "skipped"  # no channel for the device's provider, or the device is gone


LOCALES = ("zh-CN", "en")
_TOKEN = re.compile(r"^[\x21-\x7e]{1,512}$")
_APP_VERSION = re.compile(r"^\d{1,4}(\.\d{1,4}){0,3}([-+][0-9A-Za-z.-]{1,16})?$")
_INSTALLATION = re.compile(r"^[0-9A-Za-z_.:-]{1,64}$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class InvalidQuietHours(InvalidInput):
    code = "INVALID_QUIET_HOURS"
    message_zh = "免打扰时段须为两个不同的 HH:MM 时间（北京时间），或都不填"
    message_en = "Quiet hours need two different HH:MM times (Beijing time), or neither"

    def __init__(self) -> None:
        super().__init__(field="quietHours")


class TooManyIds(InvalidInput):
    code = "TOO_MANY_IDS"
    message_zh = "一次最多处理 {limit} 条"
    message_en = "At most {limit} items at a time"
    exposed: ClassVar[dict[str, str]] = {"field": "str", "limit": "int"}

    def __init__(self) -> None:
        super().__init__(field="ids", limit=MAX_IDS)


def normalise_locale(value: str | None) -> str:
    """zh, zh-Hans, zh_CN, zh-TW... -> zh-CN; en, en-GB... -> en; anything else -> zh-CN."""
    text = (value or "").strip().lower().replace("_", "-")
    return "en" if text == "en" or text.startswith("en-") else "zh-CN"


def message_id(event_id: uuid.UUID | str, user_id: int | None, expert_id: int | None = None) -> uuid.UUID:
    """The same event for the same recipient always gets the same message id."""
    if expert_id is not None:
        return uuid.uuid5(MESSAGE_NAMESPACE, f"{event_id}:expert:{expert_id}")
    return uuid.uuid5(MESSAGE_NAMESPACE, f"{event_id}:{user_id}")


def _user(actor: Actor) -> int:
    if actor.user_id is None:
        raise PermissionDenied()
    return actor.user_id


def _recipient(actor: Actor) -> dict[str, Any]:  # filter keywords: user_id or expert_id
    """Whose devices and inbox these are: a signed-in user's, or a drawn expert's (an expert session)."""
    if actor.user_id is not None:
        return {"user_id": actor.user_id}
    if actor.expert_id is not None and actor.has(Role.EXPERT):
        return {"expert_id": actor.expert_id}
    raise PermissionDenied()


# ---------------------------------------------------------------- devices


@raises()
async def register_device(
    actor: Actor,
    provider: str,
    token: str,
    platform: str,
    app_version: str,
    locale: str | None = None,
    installation_id: str | None = None,
) -> Device:
    """Registers the caller's device, or refreshes it: one row per (provider, token), moved to
    the caller if another account had it, and a new token replaces the old one of the same
    installation. At most MAX_DEVICES_PER_USER; the least recently seen go first. A drawn expert registers the
    expert app's device the same way, in its expert session."""
    owner = _recipient(actor)
    try:
        provider_ = Provider(provider)
    except ValueError:
        raise InvalidInput(field="provider") from None
    try:
        platform_ = Platform(platform)
    except ValueError:
        raise InvalidInput(field="platform") from None
    if not _TOKEN.fullmatch(token):
        raise InvalidInput(field="token")
    if not _APP_VERSION.fullmatch(app_version):
        raise InvalidInput(field="appVersion")
    if installation_id is not None and not _INSTALLATION.fullmatch(installation_id):
        raise InvalidInput(field="installationId")
    now = clock.now()
    values: dict[str, Any] = {
        "user_id": None,
        "expert_id": None,
        **owner,
        "platform": platform_.value,
        "app_version": app_version,
        "locale": normalise_locale(locale),
        "installation_id": installation_id,
        "last_seen_at": now,
    }
    async with in_transaction():
        device = await Device.get_or_none(provider=provider_.value, token=token)
        if device is None and installation_id is not None:
            device = await Device.get_or_none(**owner, installation_id=installation_id, provider=provider_.value)
            if device is not None:
                values["token"] = token
        if device is None:
            device = await Device.create(provider=provider_.value, token=token, created_at=now, **values)
        else:
            if installation_id is not None:
                # the same install signed in again under this account: its other rows are stale
                await Device.filter(**owner, installation_id=installation_id).exclude(id=device.id).delete()
            device.update_from_dict(values)
            await device.save()
        stale = await column(
            Device.filter(**owner)
            .order_by("-last_seen_at", "-id")
            .offset(MAX_DEVICES_PER_USER)
            .values_list("id", flat=True),
            int,
        )
        if stale:
            await remove_devices([int(i) for i in stale])
    return device


@raises()
async def unregister_device(actor: Actor, token: str) -> bool:
    """Removes the caller's device with this token; False when the caller has none (idempotent)."""
    owner = _recipient(actor)
    if not _TOKEN.fullmatch(token):
        return False  # never registered (register_device checks the same), and too long to look up
    ids = await column(Device.filter(**owner, token=token).values_list("id", flat=True), int)
    await remove_devices([int(i) for i in ids])
    return bool(ids)


async def remove_devices(device_ids: Sequence[int]) -> None:
    """Deletes devices; their pushes not yet sent are skipped."""
    if not device_ids:
        return
    await PushDelivery.filter(device_id__in=device_ids, status=DeliveryStatus.PENDING.value).update(
        status=DeliveryStatus.SKIPPED.value, last_error="device removed", lease_until=None
    )
    await Device.filter(id__in=device_ids).delete()


def devices_of(actor: Actor) -> QuerySet[Device]:
    return Device.filter(**_recipient(actor))


# ---------------------------------------------------------------- preferences


@dataclass(frozen=True, slots=True)
class Preferences:
    muted: frozenset[tuple[str, str]] = frozenset()  # (kind, channel)
    quiet_from: int | None = None  # minutes after midnight, Beijing time
    quiet_to: int | None = None

    def allows(self, kind: str, channel: Channel) -> bool:
        return (kind, channel.value) not in self.muted

    def quiet_until(self, now: datetime) -> datetime | None:
        """The end of the quiet hours `now` falls in, or None when it is outside them."""
        if self.quiet_from is None or self.quiet_to is None:
            return None
        local = clock.to_shanghai(now)
        minute = local.hour * 60 + local.minute
        start, end = self.quiet_from, self.quiet_to
        inside = start <= minute < end if start < end else minute >= start or minute < end
        if not inside:
            return None
        day = local.date() if minute < end else local.date() + timedelta(days=1)
        return datetime.combine(day, time(end // 60, end % 60), tzinfo=clock.SHANGHAI)


def _minutes(text: str | None) -> int | None:
    if text is None:
        return None
    match = _HHMM.fullmatch(text)
    if not match:
        raise InvalidQuietHours()
    return int(match.group(1)) * 60 + int(match.group(2))


def hhmm(minutes: int | None) -> str | None:
    return None if minutes is None else f"{minutes // 60:02d}:{minutes % 60:02d}"


def _from_row(row: NotificationPreference | None) -> Preferences:
    if row is None:
        return Preferences()
    return Preferences(
        muted=frozenset((str(k), str(c)) for k, c in row.muted),
        quiet_from=row.quiet_from,
        quiet_to=row.quiet_to,
    )


async def preferences(user_id: int) -> Preferences:
    return _from_row(await NotificationPreference.get_or_none(user_id=user_id))


@raises(InvalidQuietHours)
async def update_preferences(
    actor: Actor, muted: Iterable[tuple[str, str]], quiet_from: str | None, quiet_to: str | None
) -> Preferences:
    """Replaces the caller's preferences: muted (kind, channel) pairs and quiet hours (both or neither)."""
    user_id = _user(actor)
    pairs: set[tuple[str, str]] = set()
    for kind, channel in muted:
        try:
            pairs.add((Kind(kind).value, Channel(channel).value))
        except ValueError:
            raise InvalidInput(field="muted") from None
    start, end = _minutes(quiet_from), _minutes(quiet_to)
    if (start is None) != (end is None) or (start is not None and start == end):
        raise InvalidQuietHours()
    values: dict[str, Any] = {
        "muted": sorted([k, c] for k, c in pairs),
        "quiet_from": start,
        "quiet_to": end,
        "updated_at": clock.now(),
    }
    async with in_transaction():
        row = await NotificationPreference.get_or_none(user_id=user_id)
        if row is None:
            row = await NotificationPreference.create(user_id=user_id, **values)
        else:
            row.update_from_dict(values)
            await row.save()
    return _from_row(row)


_PREFERENCES = (
    "SELECT user_id, muted::text AS muted, quiet_from, quiet_to FROM notification_preference"
    " WHERE user_id = ANY($1::bigint[])"
)


async def preferences_of(user_ids: Iterable[int]) -> dict[int, Preferences]:
    ids = list(set(user_ids))
    if not ids:
        return {}
    if using_postgres():  # as the query below answers it, without building its models (the dispatcher's every batch)
        return {
            int(row["user_id"]): Preferences(
                muted=frozenset((str(k), str(c)) for k, c in json.loads(row["muted"] or "[]")),
                quiet_from=row["quiet_from"],
                quiet_to=row["quiet_to"],
            )
            for row in await connections.get("default").execute_query_dict(_PREFERENCES, [ids])
        }
    rows = await NotificationPreference.filter(user_id__in=ids)
    return {row.user_id: _from_row(row) for row in rows}


# ---------------------------------------------------------------- storing


@dataclass(frozen=True, slots=True)
class NewNotification:
    """What a rule makes of an event for one recipient (a user, or a drawn expert: exactly one of user_id and
    expert_id), rendered in both languages."""

    user_id: int | None
    kind: Kind
    title_zh: str
    body_zh: str
    title_en: str
    body_en: str
    object_type: str
    object_id: str
    event_id: uuid.UUID
    time_critical: bool = False
    data: dict[str, str] = field(default_factory=dict)
    expert_id: int | None = None

    def __post_init__(self) -> None:
        if (self.user_id is None) == (self.expert_id is None):
            raise ValueError("a notification goes to one user or one expert")

    @property
    def message_id(self) -> uuid.UUID:
        return message_id(self.event_id, self.user_id, self.expert_id)


_COLUMNS = (
    "message_id",
    "user_id",
    "expert_id",
    "kind",
    "title_zh",
    "body_zh",
    "title_en",
    "body_en",
    "object_type",
    "object_id",
    "event_id",
    "time_critical",
)
_TYPES = ("uuid", "bigint", "bigint", *["text"] * 7, "uuid", "boolean")
# the new ones of active recipients, in one statement: a message id already in an inbox (even hidden) is skipped
_INSERT = (
    f"INSERT INTO notification ({', '.join(_COLUMNS)}, created_at) SELECT n.*, $13::timestamptz"
    f" FROM unnest({', '.join(f'${i}::{t}[]' for i, t in enumerate(_TYPES, 1))}) AS n({', '.join(_COLUMNS)})"
    " WHERE EXISTS (SELECT 1 FROM app_user u WHERE u.id = n.user_id AND u.is_active)"
    " OR EXISTS (SELECT 1 FROM expert e WHERE e.id = n.expert_id AND e.is_active)"
    " ON CONFLICT (message_id) DO NOTHING RETURNING id, message_id"
)


# PostgreSQL, storing in one statement: the new notifications of active recipients (as _INSERT), and the push
# deliveries of each to every device of its user or expert, at the due time and expiry worked out from the recipient's
# preferences beforehand ($14-$16: the message ids whose push is allowed; a notification that is not new makes none)
_STORE = (
    f"WITH made AS ({_INSERT.replace(' RETURNING id, message_id', ' RETURNING id, message_id, user_id, expert_id')}),"
    " pushed AS (INSERT INTO push_delivery (notification_id, device_id, status, attempts, due_at, expires_at,"
    " created_at) SELECT made.id, d.id, 'pending', 0, w.due_at, w.expires_at, $13::timestamptz FROM made"
    " JOIN unnest($14::uuid[], $15::timestamptz[], $16::timestamptz[]) AS w(message_id, due_at, expires_at)"
    " ON w.message_id = made.message_id"
    " JOIN LATERAL (SELECT id FROM device WHERE device.user_id = made.user_id UNION ALL"
    " SELECT id FROM device WHERE made.expert_id IS NOT NULL AND device.expert_id = made.expert_id) AS d ON true"
    " ORDER BY made.id, d.id)"
    " SELECT id, message_id FROM made"
)


def _push_due(item: NewNotification | Notification, prefs: Mapping[int, Preferences], now: datetime) -> datetime | None:
    """When the notification's pushes are due, or None when its recipient muted them: at once, or at the end of the
    quiet hours for what is not time-critical. An expert has no preferences: what reaches an expert is the draw's
    notice, which nobody may mute."""
    pref = prefs.get(item.user_id, Preferences()) if item.user_id is not None else Preferences()
    if not pref.allows(item.kind, Channel.PUSH):
        return None
    quiet = None if item.time_critical else pref.quiet_until(now)
    return quiet or now


async def _store_in_one_statement(
    items: Sequence[NewNotification], prefs: Mapping[int, Preferences] | None, now: datetime
) -> list[Notification]:
    """PostgreSQL: the new notifications and their pushes in one round trip (three before: the insert, the devices,
    the deliveries); the same rows as the general path."""
    if prefs is None:
        prefs = await preferences_of(item.user_id for item in items if item.user_id is not None)
    columns: list[list[Any]] = [
        [item.message_id for item in items],
        [item.user_id for item in items],
        [item.expert_id for item in items],
        [item.kind.value for item in items],
        [item.title_zh[:200] for item in items],
        [item.body_zh for item in items],
        [item.title_en[:200] for item in items],
        [item.body_en for item in items],
        [item.object_type for item in items],
        [item.object_id for item in items],
        [item.event_id for item in items],
        [item.time_critical for item in items],
    ]
    pushed: list[tuple[uuid.UUID, datetime, datetime]] = []
    for item in items:
        due = _push_due(item, prefs, now)
        if due is not None:
            pushed.append((item.message_id, due, due + (TIME_CRITICAL_PUSH_TTL if item.time_critical else PUSH_TTL)))
    inserted = await connections.get("default").execute_query_dict(
        _STORE, [*columns, now, [p[0] for p in pushed], [p[1] for p in pushed], [p[2] for p in pushed]]
    )
    ids = {str(r["message_id"]): int(r["id"]) for r in inserted}
    created = []
    for item in items:
        if (found := ids.get(str(item.message_id))) is not None:
            row = _row(item, now)
            row.id = found
            row._saved_in_db = True
            created.append(row)
    return created


def _row(item: NewNotification, now: datetime) -> Notification:
    return Notification(
        message_id=item.message_id,
        user_id=item.user_id,
        expert_id=item.expert_id,
        kind=item.kind.value,
        title_zh=item.title_zh[:200],
        body_zh=item.body_zh,
        title_en=item.title_en[:200],
        body_en=item.body_en,
        object_type=item.object_type,
        object_id=item.object_id,
        event_id=item.event_id,
        time_critical=item.time_critical,
        created_at=now,
    )


async def _insert_new(items: Sequence[NewNotification], now: datetime) -> list[Notification]:
    """The notifications among `items` that are new, to an active user or expert, inserted with their ids: on
    PostgreSQL in one statement; on SQLite (its single writer, in this process) a read of the known and the active,
    then one insert a row."""
    rows = [_row(item, now) for item in items]
    if using_postgres():
        columns = [[getattr(row, name) for row in rows] for name in _COLUMNS]
        inserted = await connections.get("default").execute_query_dict(_INSERT, [*columns, now])
        ids = {str(r["message_id"]): int(r["id"]) for r in inserted}
        created = [row for row in rows if str(row.message_id) in ids]
        for row in created:
            row.id = ids[str(row.message_id)]
            row._saved_in_db = True
        return created
    known = {
        str(m)
        for m in await Notification.filter(message_id__in=[r.message_id for r in rows]).values_list(
            "message_id", flat=True
        )
    }
    fresh = [row for row in rows if str(row.message_id) not in known]
    users = {row.user_id for row in fresh if row.user_id is not None}
    experts = {row.expert_id for row in fresh if row.expert_id is not None}
    active = set(await column(User.filter(id__in=list(users), is_active=True).values_list("id", flat=True), int))
    active_experts = (
        set(await column(Expert.filter(id__in=list(experts), is_active=True).values_list("id", flat=True), int))
        if experts
        else set()
    )
    created = [row for row in fresh if row.user_id in active or row.expert_id in active_experts]
    for row in created:
        await row.save()
    return created


async def store(items: Sequence[NewNotification], prefs: Mapping[int, Preferences] | None = None) -> list[Notification]:
    """Puts each notification in its user's inbox once (by message id) and schedules its pushes;
    returns the ones that are new. Runs in the caller's transaction; a few queries whatever the number of items
    (`prefs`, the recipients' preferences when the caller has read them already, saves one)."""
    if not items:
        return []
    now = clock.now()
    if using_postgres():
        return await _store_in_one_statement(list({item.message_id: item for item in items}.values()), prefs, now)
    created = await _insert_new(list({item.message_id: item for item in items}.values()), now)
    if not created:
        return []
    users = {n.user_id for n in created if n.user_id is not None}
    experts = {n.expert_id for n in created if n.expert_id is not None}
    if prefs is None:
        prefs = await preferences_of(users)
    devices: dict[tuple[str, int | None], list[int]] = {}
    for device_id, user_id in await Device.filter(user_id__in=list(users)).values_list("id", "user_id"):
        devices.setdefault(("user", int(user_id)), []).append(int(device_id))
    if experts:
        for device_id, expert_id in await Device.filter(expert_id__in=list(experts)).values_list("id", "expert_id"):
            devices.setdefault(("expert", int(expert_id)), []).append(int(device_id))
    deliveries = []
    for notification in created:
        due = _push_due(notification, prefs, now)
        if due is None:
            continue
        ttl = TIME_CRITICAL_PUSH_TTL if notification.time_critical else PUSH_TTL
        recipient: tuple[str, int | None]
        if notification.user_id is not None:
            recipient = ("user", notification.user_id)
        else:
            recipient = ("expert", notification.expert_id)
        for device_id in devices.get(recipient, ()):
            deliveries.append(
                PushDelivery(
                    notification_id=notification.id,
                    device_id=device_id,
                    status=DeliveryStatus.PENDING.value,
                    attempts=0,
                    due_at=due,
                    expires_at=due + ttl,
                    created_at=now,
                )
            )
    if deliveries:
        await PushDelivery.bulk_create(deliveries, batch_size=500)
    return created


async def active_users_of(org_ids: Iterable[int]) -> list[int]:
    """The active users of these organisations, the recipients of what happens to them."""
    ids = list(set(org_ids))
    if not ids:
        return []
    rows = await column(
        User.filter(organisation_id__in=ids, is_active=True).order_by("id").values_list("id", flat=True), int
    )
    return [int(i) for i in rows]


async def active_users_by_org(org_ids: Iterable[int]) -> dict[int, list[int]]:
    """The active users of each of these organisations, in one query."""
    ids = list(set(org_ids))
    if not ids:
        return {}
    users: dict[int, list[int]] = {}
    rows = (
        await User.filter(organisation_id__in=ids, is_active=True).order_by("id").values_list("id", "organisation_id")
    )
    for user_id, org_id in rows:
        users.setdefault(int(org_id), []).append(int(user_id))
    return users


# ---------------------------------------------------------------- the inbox

LIVE_TYPE = "notification.created"  # the bus message type of a new notification


def live_notification(n: Notification) -> dict[str, Any]:
    """The message the `notifications` subscription of the notification's user receives."""
    return {
        "eventId": str(n.message_id),
        "type": LIVE_TYPE,
        "objectType": "Notification",
        "objectId": str(n.id),
        "occurredAt": n.created_at.isoformat(),
        "payload": {
            "id": n.id,
            "messageId": str(n.message_id),
            "userId": n.user_id,
            "kind": n.kind,
            "titleZh": n.title_zh,
            "bodyZh": n.body_zh,
            "titleEn": n.title_en,
            "bodyEn": n.body_en,
            "objectType": n.object_type,
            "objectId": n.object_id,
            "timeCritical": n.time_critical,
            "createdAt": n.created_at.isoformat(),
        },
        "audience": {"orgs": [], "users": [n.user_id], "roles": [], "public": False},
    }


def inbox(actor: Actor, unread_only: bool = False) -> QuerySet[Notification]:
    query = Notification.filter(**_recipient(actor), deleted_at=None)
    return query.filter(read_at=None) if unread_only else query


async def unread_count(actor: Actor) -> int:
    return await inbox(actor, unread_only=True).count()


def _ids(ids: Sequence[int]) -> list[int]:
    if len(ids) > MAX_IDS:
        raise TooManyIds()
    return list(ids)


@raises(TooManyIds)
async def mark_read(actor: Actor, ids: Sequence[int]) -> int:
    """Marks the caller's notifications read; others' ids are ignored. Returns how many changed."""
    return await inbox(actor, unread_only=True).filter(id__in=_ids(ids)).update(read_at=clock.now())


@raises()
async def mark_all_read(actor: Actor, up_to: int | None = None) -> int:
    """Marks every unread notification read, or only those up to the newest one the client showed."""
    query = inbox(actor, unread_only=True)
    if up_to is not None:
        query = query.filter(id__lte=up_to)
    return await query.update(read_at=clock.now())


@raises(TooManyIds)
async def delete(actor: Actor, ids: Sequence[int]) -> int:
    """Removes notifications from the caller's inbox (kept hidden, so a redelivery cannot revive them)."""
    return await inbox(actor).filter(id__in=_ids(ids)).update(deleted_at=clock.now())


def text(notification: Notification, locale: str) -> tuple[str, str]:
    """(title, body) in the reader's language."""
    if locale.startswith("en"):
        return notification.title_en, notification.body_en
    return notification.title_zh, notification.body_zh


# ---------------------------------------------------------------- pushing


@dataclass(frozen=True, slots=True)
class DuePush:
    delivery_id: int
    attempts: int
    expires_at: datetime
    provider: str
    token: str
    device_id: int
    message_id: str
    kind: str
    title: str
    body: str
    object_type: str
    object_id: str
    notification_id: int
    time_critical: bool


_DUE_FIELDS = (
    "id",
    "attempts",
    "expires_at",
    "device_id",
    "device__provider",
    "device__token",
    "device__locale",
    "notification_id",
    "notification__message_id",
    "notification__kind",
    "notification__title_zh",
    "notification__body_zh",
    "notification__title_en",
    "notification__body_en",
    "notification__object_type",
    "notification__object_id",
    "notification__time_critical",
)


async def lease_due(owner: str, limit: int, lease: timedelta) -> list[DuePush]:
    """Leases up to `limit` due pushes to `owner` for `lease`; no other sender gets them meanwhile."""
    now = clock.now()
    async with in_transaction():
        due = (
            PushDelivery.filter(status=DeliveryStatus.PENDING.value, due_at__lte=now)
            .filter(Q(lease_until=None) | Q(lease_until__lt=now))
            .order_by("due_at", "id")
            .limit(limit)
        )
        ids = [row.id for row in await claim(due)]
        if not ids:
            return []
        await PushDelivery.filter(id__in=ids).update(lease_until=now + lease, lease_owner=owner)
    rows = await PushDelivery.filter(id__in=ids).values(*_DUE_FIELDS)
    pushes = []
    orphans = []
    for row in rows:
        if row["device_id"] is None:
            orphans.append(row["id"])
            continue
        english = str(row["device__locale"]).startswith("en")
        pushes.append(
            DuePush(
                delivery_id=row["id"],
                attempts=row["attempts"],
                expires_at=row["expires_at"],
                provider=row["device__provider"],
                token=row["device__token"],
                device_id=row["device_id"],
                message_id=str(row["notification__message_id"]),
                kind=row["notification__kind"],
                title=row["notification__title_en" if english else "notification__title_zh"],
                body=row["notification__body_en" if english else "notification__body_zh"],
                object_type=row["notification__object_type"],
                object_id=row["notification__object_id"],
                notification_id=row["notification_id"],
                time_critical=bool(row["notification__time_critical"]),
            )
        )
    if orphans:
        await finish(owner, orphans, DeliveryStatus.SKIPPED, "device removed")
    return sorted(pushes, key=lambda p: p.delivery_id)


async def finish(owner: str, delivery_ids: Sequence[int], status: DeliveryStatus, error: str | None = None) -> int:
    """Records a final outcome for pushes this owner leased."""
    if not delivery_ids:
        return 0
    values: dict[str, Any] = {"status": status.value, "lease_until": None, "last_error": error}
    if status is DeliveryStatus.SENT:
        values["sent_at"] = clock.now()
    return await PushDelivery.filter(id__in=list(delivery_ids), lease_owner=owner).update(**values)


async def release_leases(owner: str) -> int:
    """Gives back the pending pushes this owner leased (a sender stopped before it sent them): other senders
    may take them at once instead of when the lease runs out."""
    return await PushDelivery.filter(
        lease_owner=owner, status=DeliveryStatus.PENDING.value, lease_until__isnull=False
    ).update(lease_until=None)


async def retry_later(owner: str, pushes: Sequence[DuePush], delay: timedelta, error: str) -> None:
    """Schedules another attempt after `delay`; a push whose next attempt would come after its expiry expires."""
    due = clock.now() + delay
    late = [p.delivery_id for p in pushes if due >= p.expires_at]
    again = [p.delivery_id for p in pushes if due < p.expires_at]
    await finish(owner, late, DeliveryStatus.EXPIRED, error[:200])
    if again:
        await PushDelivery.filter(id__in=again, lease_owner=owner).update(
            attempts=F("attempts") + 1, due_at=due, lease_until=None, last_error=error[:200]
        )


async def expire_overdue(owner: str, pushes: Sequence[DuePush]) -> list[DuePush]:
    """Expires the leased pushes past their expiry; returns the others."""
    now = clock.now()
    late = [p.delivery_id for p in pushes if p.expires_at <= now]
    await finish(owner, late, DeliveryStatus.EXPIRED, "expired before it could be sent")
    return [p for p in pushes if p.expires_at > now]
