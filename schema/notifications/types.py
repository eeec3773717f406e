"""Notifications, devices and preferences as the app sees them."""

from datetime import datetime
from typing import TypeAlias

import strawberry
from strawberry.types import Info

from domain.common.errors import DomainError
from domain.notifications import models
from domain.notifications import services as notifications
from schema.describe import describe_values
from schema.relay import Node, node_resolver

NotificationKind: TypeAlias = notifications.Kind
strawberry.enum(
    NotificationKind, name="NotificationKind", description="What a notification is about; pushes can be muted per kind."
)
describe_values(
    NotificationKind,
    {
        "SAVED_SEARCH_MATCHED": "A new announcement matches one of the caller's saved searches.",
        "ENTITY_REVIEWED": "The trading centre approved or rejected the caller's organisation.",
        "CREDIT_RECORDED": "A credit record (good or bad conduct) was added to the caller's organisation.",
        "PUNISHMENT_LISTED": "The caller's organisation was put on, or taken off, the joint punishment list.",
        "REGISTRATION_RESULT": "The outcome of the caller's registration for a lot.",
        "AUCTION_STARTING_SOON": "An auction the caller registered for starts in ten minutes.",
        "AUCTION_OUTBID": "Another bidder outbid the caller in a live auction.",
        "AUCTION_ENDED": "An auction the caller took part in has ended (sold or failed).",
        "AUCTION_WON": "The caller won an auction: the price and what happens next.",
        "LISTING_ENDED": "A listing (挂牌) the caller registered for ended: sold, turned into an auction (when it "
        "starts), or not sold.",
        "DEPOSIT_RECEIVED": "The bank reported the caller's bid deposit as paid.",
        "DEPOSIT_REFUNDED": "The caller's bid deposit was refunded.",
        "GUARANTEE": "A step of a bid guarantee (保函): applied, issued, declined, claimed, paid or released.",
        "EVALUATION_REPORTED": "The evaluation committee has reported on a lot.",
        "CANDIDATE_PUBLICITY": "The winning-bid candidates of a lot the caller bid on are publicised.",
        "AWARD_NOTICE": "The caller's organisation won the lot (中标通知).",
        "RESULT_NOTICE": "The result of a lot the caller bid on and did not win (中标结果通知).",
        "CONTRACT_OVERDUE": "No contract was recorded within 30 days of the award.",
        "OBJECTION": "An objection (异议) was raised, answered or withdrawn.",
        "OBJECTION_OVERDUE": "An objection was not answered in time.",
        "COMPLAINT": "A step of a complaint (投诉): filed, accepted, refused, decided or withdrawn.",
        "COMPLAINT_OVERDUE": "A complaint was not handled in the time the rules allow.",
        "LOT_SUSPENSION": "A supervisor suspended a lot, or lifted its suspension.",
        "REPORT_STATUS": "A report (举报) changed status.",
        "COLLUSION_ALERT": "The platform flagged signs of collusion on a lot the caller supervises.",
        "TENDER_DOCUMENT_CHANGED": "The tender documents of a lot the caller registered for were changed or clarified.",
        "DECRYPTION_WINDOW": "The opening has started: decrypt your sealed bid within the window (time-critical).",
        "DECRYPTION_REMINDER": "The last 15 minutes to decrypt a bid that is still sealed (time-critical).",
        "BID_DEADLINE_APPROACHING": "The bid deadline of a lot the caller registered for is a day away.",
        "DEPOSIT_DUE": "The deposit of a lot the caller registered for is due within a day and has not arrived.",
        "LOT_CHANGED": "A change notice was published for a lot the caller registered for.",
        "LOT_ENDED": "A lot the caller registered for failed or was terminated.",
        "EXPERT_REPLACEMENT_NEEDED": "A drawn expert declined or did not answer: draw a replacement.",
        "COMMITTEE_COMPLETE": "Every seat of a lot's evaluation committee has a confirmed expert.",
        "EXPERT_DRAWN": "The caller (an expert) was drawn for an evaluation committee: when and where to report.",
        "AWARD_WITHDRAWN": "An award left its winner (declined or disqualified), or no candidate remained.",
        "CONTRACT": "A contract awaits the caller's signature, or was changed, accepted, paid or terminated.",
        "BID_CONFIRMATION_REQUIRED": "A change of the documents came after the caller's sealed bid: confirm or replace "
        "it before the deadline, or it is not opened (time-critical).",
        "LOT_INVITATION": "The caller's organisation was invited to an invited tender (投标邀请书).",
        "QUESTION_ASKED": "A bidder asked a question (答疑) on a lot the caller manages.",
        "NEGOTIATION": "A negotiation round opened, or a document of a round (谈判/磋商) came for the caller.",
        "FINAL_OFFER": "Final offers (最后报价) are called, or their keys are due: within a window (time-critical).",
        "STATISTICS_REPORT": "A scheduled statistics report of the supervisor's categories is ready (never public).",
        "ACCOUNT_SECURITY": "The caller's password was changed and its other sign-ins ended (a security notice).",
    },
)
NotificationChannel: TypeAlias = notifications.Channel
strawberry.enum(
    NotificationChannel,
    name="NotificationChannel",
    description="Where a notification goes besides the inbox, which always keeps it.",
)
describe_values(
    NotificationChannel,
    {
        "PUSH": "Pushes to the caller's registered devices.",
        "LIVE": "Live delivery to the caller's open app over WebSocket.",
    },
)
PushProvider: TypeAlias = notifications.Provider
strawberry.enum(PushProvider, name="PushProvider", description="The push service a device is registered with.")
describe_values(
    PushProvider,
    {
        "FCM": "Firebase Cloud Messaging: Android phones with Google services, outside mainland China.",
        "APNS": "Apple Push Notification service: iPhones and iPads.",
        "JPUSH": (
            "JPush (极光推送): mainland Android phones, routed to the Huawei, Honor, Xiaomi, OPPO or vivo channel."
        ),
        "HUAWEI": "Huawei Push Kit, a token registered directly with Huawei.",
        "HONOR": "Honor Push, a token registered directly with Honor.",
        "XIAOMI": "Xiaomi Push (MiPush), a token registered directly with Xiaomi.",
        "OPPO": "OPPO Push, a token registered directly with OPPO.",
        "VIVO": "vivo Push, a token registered directly with vivo.",
    },
)
DevicePlatform: TypeAlias = notifications.Platform
strawberry.enum(DevicePlatform, name="DevicePlatform", description="The device's operating system.")
describe_values(
    DevicePlatform,
    {
        "ANDROID": "Android phones and tablets (with or without Google services).",
        "IOS": "Apple iOS or iPadOS.",
        "HARMONY": "Huawei HarmonyOS.",
    },
)


@strawberry.type(description="A notification in the caller's inbox, in the caller's language.")
class Notification(Node):
    message_id: str = strawberry.field(description="Stable across redeliveries; the push carries it as data.messageId.")
    kind: NotificationKind = strawberry.field(
        description="What the notification is about; pushes can be muted per kind."
    )
    title: str = strawberry.field(
        description="Short title in the caller's language, as shown in the inbox and the push."
    )
    body: str = strawberry.field(description="The text of the notification in the caller's language.")
    object_type: str = strawberry.field(description="What it is about, e.g. Announcement, Organisation.")
    object_id: str = strawberry.field(description="The database id of that object.")
    time_critical: bool = strawberry.field(description="Pushed even during quiet hours.")
    created_at: datetime = strawberry.field(description="When the notification was made.")
    read_at: datetime | None = strawberry.field(description="When the caller marked it read; null while unread.")

    @classmethod
    def from_model(cls, m: models.Notification, locale: str) -> "Notification":
        title, body = notifications.text(m, locale)
        return cls(
            _pk=m.id,
            message_id=str(m.message_id),
            kind=NotificationKind(m.kind),
            title=title,
            body=body,
            object_type=m.object_type,
            object_id=m.object_id,
            time_critical=m.time_critical,
            created_at=m.created_at,
            read_at=m.read_at,
        )


@strawberry.type(description="A device of the caller that receives pushes.")
class Device(Node):
    provider: PushProvider = strawberry.field(description="The push service the device is registered with.")
    platform: DevicePlatform = strawberry.field(description="The device's operating system.")
    token_suffix: str = strawberry.field(description="The last 6 characters of the push token.")
    installation_id: str | None = strawberry.field(
        description="The app's own id of this installation, if it sent one; a new token for it replaces the old."
    )
    app_version: str = strawberry.field(description="The app version the device last reported, e.g. 3.2.0.")
    locale: str = strawberry.field(description="The language of pushes to this device: zh-CN or en.")
    created_at: datetime = strawberry.field(description="When the device was first registered.")
    last_seen_at: datetime = strawberry.field(description="When the device last registered or refreshed its token.")

    @classmethod
    def from_model(cls, m: models.Device) -> "Device":
        return cls(
            _pk=m.id,
            provider=PushProvider(m.provider),
            platform=DevicePlatform(m.platform),
            token_suffix=m.token[-6:],
            installation_id=m.installation_id,
            app_version=m.app_version,
            locale=m.locale,
            created_at=m.created_at,
            last_seen_at=m.last_seen_at,
        )


@strawberry.type(description="A kind of notification muted on a channel.")
class MutedKind:
    kind: NotificationKind = strawberry.field(description="The kind of notification muted.")
    channel: NotificationChannel = strawberry.field(
        description="The channel it is muted on; the inbox always keeps it."
    )


@strawberry.type(description="Quiet hours in Beijing time; only time-critical pushes go out during them.")
class QuietHours:
    starts: str = strawberry.field(description="HH:MM")
    ends: str = strawberry.field(description="HH:MM; may be earlier than starts (over midnight).")


@strawberry.type(description="What the caller wants pushed and when.")
class NotificationPreferences:
    muted: list[MutedKind] = strawberry.field(description="The kinds of notification muted, each on one channel.")
    quiet_hours: QuietHours | None = strawberry.field(
        description="When pushes wait (only time-critical ones go out); null when none are set."
    )

    @classmethod
    def from_domain(cls, p: notifications.Preferences) -> "NotificationPreferences":
        quiet = None
        if p.quiet_from is not None and p.quiet_to is not None:
            quiet = QuietHours(starts=notifications.hhmm(p.quiet_from) or "", ends=notifications.hhmm(p.quiet_to) or "")
        return cls(
            muted=[MutedKind(kind=NotificationKind(k), channel=NotificationChannel(c)) for k, c in sorted(p.muted)],
            quiet_hours=quiet,
        )


@node_resolver("Notification")
async def _notification_node(info: Info, pk: str) -> Notification | None:
    if not pk.isdigit():
        return None
    try:
        found = await notifications.inbox(info.context.actor).get_or_none(id=int(pk))
    except DomainError:
        return None
    return Notification.from_model(found, info.context.locale) if found else None


@node_resolver("Device")
async def _device_node(info: Info, pk: str) -> Device | None:
    if not pk.isdigit():
        return None
    try:
        found = await notifications.devices_of(info.context.actor).get_or_none(id=int(pk))
    except DomainError:
        return None
    return Device.from_model(found) if found else None
