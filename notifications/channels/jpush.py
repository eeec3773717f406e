"""JPush (极光推送) Push API v3 through JPush's official SDK `jpush`: mainland Android phones without Google services
(Huawei, Honor, Xiaomi, OPPO, vivo), which JPush reaches over its own connection or the phone vendor's channel, and
iOS through APNs.

One JPush push per Push, to {"registration_id": [token]}. message_id is extras["messageId"] (beside the push's data)
and the apns_collapse_id. Time-critical pushes are Android priority 2 (else 0) and carry the vendor classification
of `time_critical` in options.third_party_channel (Huawei/Honor importance and category, Xiaomi and OPPO channel
ids, OPPO category and notify_level, vivo classification and category), so the vendors deliver them as service
messages rather than quota-limited marketing. Every push carries a cid from JPush's cid pool (GET /v3/push/cid):
JPush answers a second push with a used cid with the first push's result and pushes nothing, so a push retried
after a timeout reaches the phone once. The cid of a push answered RETRY is kept in this process (for less than
JPush's one day) and sent again with the same message to the same device.

Outcomes, from JPush's answers (HTTP status and error.code) and the SDK's exceptions:
- SENT: 200 with msg_id; provider_id is the msg_id (a push with a used cid answers the first push's msg_id).
- INVALID_TOKEN: 1011 (400) "cannot find user by this audience or has been inactive for more than 255 days": with
  one registration id as the audience, that id is unknown to the app or dead.
- RETRY: 2002 / HTTP 429 (rate limit) with retry_after from X-Rate-Limit-Reset, and the rest of the batch, and
  sends until then, are held back without a request; 1000 (500), 1030 (503), any 5xx, timeouts and connection
  errors; 1012 (a vendor's quota is used up); credentials and account settings, fixed without changing the
  message (as FCM's 401): 1004 / HTTP 401 (wrong app key or master secret; the SDK raises Unauthorized and drops
  the body), 1008 (app key invalid), 2003 (app key blocked), 2004 (our IP is not in the app's allow list), 2005
  (too much sent to the device). A cid request that fails gives its outcome to the pushes that needed a cid.
- FAILED: anything else, never retried: 1002 (missing parameter), 1003 (invalid value: also an empty or malformed
  registration id, but JPush uses 1003 for any bad value, so the device is kept), 1005 (payload too long), 1009
  (unsupported key), other 4xx.
An error answer that is not JSON (a proxy's page: the SDK itself then raises TypeError) is judged by its HTTP
status, which each client's session hook keeps: 429 and 5xx RETRY, other 4xx FAILED.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import jpush
import requests
from jpush import common

from notifications.channels.base import Outcome, Push, PushResult

JPUSH_ENDPOINT = "https://api.jpush.cn"
MAX_BATCH = 500
IN_FLIGHT = 8
CID_LIFETIME = 23 * 3600.0  # JPush keeps a cid for one day; an hour's margin
CID_POOL_MAX = 1000  # the most cids one GET /v3/push/cid gives
REMEMBERED_CIDS = 100_000
RATE_LIMIT_WINDOW = 60.0  # JPush counts API calls per app key and minute
DISTRIBUTIONS = frozenset({"secondary_push", "first_ospush", "ospush", "jpush"})
INVALID_TOKEN_CODES = frozenset({1011})
RATE_LIMITED = 2002
RETRIED_CODES = frozenset({1000, 1004, 1008, 1012, 1030, 2002, 2003, 2004, 2005})
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Classification:
    """How one kind of notice is classified for JPush and each vendor's channel; a None field is left out."""

    classification: int  # options.classification: 1 a system (service) message, 0 an operational one
    android_channel_id: str | None = None  # the app's own Android NotificationChannel (JPush's connection)
    xiaomi_channel_id: str | None = None  # a channel the app registered at Xiaomi (its private-message class)
    oppo_channel_id: str | None = None  # a channel the app registered at OPPO (its private-message channel)
    oppo_category: str | None = None  # OPPO's message category (rules of 2024-11-20): TODO, ORDER, ACCOUNT, ...
    oppo_notify_level: int | None = None  # OPPO: 1 bar, 2 bar + lock screen, 16 + banner, vibration and sound
    huawei_importance: str | None = None  # NORMAL: service and communication; LOW: news and marketing
    huawei_category: str | None = None  # Huawei's self-classification category: WORK, SUBSCRIPTION, ...
    honor_importance: str | None = None  # NORMAL or LOW, as Huawei's
    vivo_category: str | None = None  # vivo's category: TODO, ORDER, ... for system messages

    def __post_init__(self) -> None:
        if self.classification not in (0, 1):
            raise ValueError("classification is 0 (operational) or 1 (system)")
        if self.oppo_notify_level is not None and self.oppo_category is None:
            raise ValueError("OPPO takes notify_level only with a category")
        for importance in (self.huawei_importance, self.honor_importance):
            if importance not in (None, "LOW", "NORMAL", "HIGH"):
                raise ValueError(f"unknown importance {importance!r}")

    def third_party_channel(self, distribution: str) -> dict[str, dict[str, Any]]:
        """options.third_party_channel: each vendor's distribution and classification fields."""
        return {
            "xiaomi": _present(distribution=distribution, channel_id=self.xiaomi_channel_id),
            "huawei": _present(
                distribution=distribution, importance=self.huawei_importance, category=self.huawei_category
            ),
            "honor": _present(distribution=distribution, importance=self.honor_importance),
            "oppo": _present(
                distribution=distribution,
                channel_id=self.oppo_channel_id,
                category=self.oppo_category,
                notify_level=self.oppo_notify_level,
            ),
            "vivo": _present(
                distribution=distribution, classification=self.classification, category=self.vivo_category
            ),
        }


# A bid opening or deadline reminder is a work item the user expects: Huawei WORK, vivo and OPPO TODO, shown on
# the lock screen with sound. Huawei trusts the category only once the app has its self-classification right; the
# Xiaomi and OPPO channel ids are the app's own (registered at each vendor) and so are not defaulted here.
TIME_CRITICAL = Classification(
    classification=1,
    huawei_importance="NORMAL",
    huawei_category="WORK",
    honor_importance="NORMAL",
    oppo_category="TODO",
    oppo_notify_level=16,
    vivo_category="TODO",
)
# Other notices are left to each vendor's own classification and quotas.
ORDINARY = Classification(classification=0)


def _present(**fields: Any) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


async def _ready(result: PushResult) -> PushResult:
    return result


class JPushChannel:
    """Sends pushes with `in_flight` JPush clients, each used by one worker thread at a time."""

    name = "jpush"
    max_batch = MAX_BATCH

    def __init__(
        self,
        app_key: str,
        master_secret: str,
        *,
        endpoint: str | None = None,
        production: bool = False,
        timeout: float = 10.0,
        in_flight: int = IN_FLIGHT,
        distribution: str = "secondary_push",
        time_critical: Classification = TIME_CRITICAL,
        ordinary: Classification = ORDINARY,
        deduplicate: bool = True,
    ) -> None:
        if not app_key or not master_secret:
            raise ValueError("JPushChannel needs an app key and a master secret")
        if not 1 <= in_flight <= MAX_BATCH:
            raise ValueError(f"in_flight must be between 1 and {MAX_BATCH}")
        if distribution not in DISTRIBUTIONS:
            raise ValueError(f"distribution must be one of {sorted(DISTRIBUTIONS)}")
        self.production = production
        self.distribution = distribution
        self.time_critical = time_critical
        self.ordinary = ordinary
        self.deduplicate = deduplicate
        self.zone = _zone(endpoint)
        # requests.Session is not documented as thread-safe: each client (and its Session) serves one thread at
        # a time, and the queue of idle clients bounds the requests in flight.
        self._all_clients = [
            _Client(jpush.JPush(app_key, master_secret, timeout=timeout, zone=self.zone)) for _ in range(in_flight)
        ]
        self._clients: asyncio.Queue[_Client] = asyncio.Queue()
        for client in self._all_clients:
            self._clients.put_nowait(client)
        self._executor = ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="jpush")
        self._cids: dict[tuple[str, str], tuple[str, float]] = {}  # (message id, token) -> (cid, expiry)
        self._held_until = 0.0  # time.monotonic() before which no push is sent (after a 429)
        self._closed = False

    @property
    def push_url(self) -> str:
        """Where the SDK posts pushes: the endpoint's /v3/push."""
        return str(common.get_url("push", self.zone)) + "push"

    async def send(self, pushes: Sequence[Push]) -> list[PushResult]:
        """One result per push, in order, `in_flight` requests at a time; raises only once closed."""
        if self._closed:
            raise RuntimeError("JPushChannel is closed")
        cids, refused = await self._cids_for(pushes)
        results = await asyncio.gather(
            *(
                _ready(refused) if cid is None and refused is not None else self._send_one(push, cid)
                for push, cid in zip(pushes, cids, strict=True)
            )
        )
        self._remember(pushes, cids, results)
        return list(results)

    async def close(self) -> None:
        """Waits for requests under way, closes the clients' sessions and forgets its endpoint; idempotent."""
        if self._closed:
            return
        self._closed = True
        await asyncio.to_thread(self._executor.shutdown, True)
        for client in self._all_clients:
            client.sdk.session.close()
        if self.zone != "DEFAULT":
            common.ZONES.pop(self.zone, None)

    async def _send_one(self, push: Push, cid: str | None) -> PushResult:
        body = payload(
            push,
            cid=cid,
            production=self.production,
            distribution=self.distribution,
            classification=self.time_critical if push.time_critical else self.ordinary,
        )
        client = await self._clients.get()
        held = self._held_until - time.monotonic()
        if held > 0:
            self._clients.put_nowait(client)
            return PushResult(Outcome.RETRY, retry_after=held, error=str(RATE_LIMITED))
        try:
            answer = await self._run(client, _post, body)
        except Exception as error:
            return self._failed(error)
        msg_id = answer.get("msg_id") if isinstance(answer, dict) else None
        if msg_id is None or msg_id == "":
            return PushResult(Outcome.RETRY, error="NO_MSG_ID")
        return PushResult(Outcome.SENT, provider_id=str(msg_id))

    async def _cids_for(self, pushes: Sequence[Push]) -> tuple[list[str | None], PushResult | None]:
        """Each push's cid (remembered, or new from the pool); the outcome of a failed cid request, if one failed."""
        now = time.monotonic()
        while self._cids:  # insertion order is expiry order
            key, (_, expiry) = next(iter(self._cids.items()))
            if expiry > now:
                break
            del self._cids[key]
        cids: list[str | None] = [
            remembered[0] if (remembered := self._cids.get((p.message_id, p.token))) else None for p in pushes
        ]
        missing = [i for i, cid in enumerate(cids) if cid is None]
        if not self.deduplicate or not missing:
            return cids, None
        held = self._held_until - now
        if held > 0:  # a cid request counts against the rate limit too
            return cids, PushResult(Outcome.RETRY, retry_after=held, error=str(RATE_LIMITED))
        fresh: list[str] = []
        try:
            for start in range(0, len(missing), CID_POOL_MAX):
                count = min(CID_POOL_MAX, len(missing) - start)
                fresh += await self._call(_cid_pool, count)
        except Exception as error:
            return cids, self._failed(error)
        if len(fresh) < len(missing):
            return cids, PushResult(Outcome.RETRY, error="CID_POOL_SHORT")
        for i, cid in zip(missing, fresh, strict=False):
            cids[i] = cid
        return cids, None

    def _remember(self, pushes: Sequence[Push], cids: Sequence[str | None], results: Sequence[PushResult]) -> None:
        """Keeps the cid of each push to be retried; forgets those of pushes that reached an end."""
        expiry = time.monotonic() + CID_LIFETIME
        for push, cid, result in zip(pushes, cids, results, strict=True):
            key = (push.message_id, push.token)
            if cid is None or result.outcome is not Outcome.RETRY:
                self._cids.pop(key, None)
            elif key not in self._cids:
                self._cids[key] = (cid, expiry)
        while len(self._cids) > REMEMBERED_CIDS:
            del self._cids[next(iter(self._cids))]

    def _failed(self, error: BaseException) -> PushResult:
        """The outcome of a failed request; a rate limit holds back every push until JPush's window resets."""
        result = outcome(error.error, error.response) if isinstance(error, RequestFailed) else outcome(error)
        if result.error == str(RATE_LIMITED):
            wait = result.retry_after or RATE_LIMIT_WINDOW
            self._held_until = max(self._held_until, time.monotonic() + wait)
        return result

    async def _call(self, work: Callable[..., _T], *args: Any) -> _T:
        return await self._run(await self._clients.get(), work, *args)

    async def _run(self, client: _Client, work: Callable[..., _T], *args: Any) -> _T:
        """work(sdk client, *args) in a worker thread; the client is idle again once the thread is done with it."""
        future: Future[_T] = self._executor.submit(_attempt, client, work, *args)
        try:
            return await asyncio.wrap_future(future)
        finally:
            if future.done():
                self._clients.put_nowait(client)
            else:
                loop = asyncio.get_running_loop()
                future.add_done_callback(lambda _: loop.call_soon_threadsafe(self._clients.put_nowait, client))


class _Client:
    """One SDK client (a requests.Session) and the last HTTP answer that session received."""

    def __init__(self, sdk: Any) -> None:
        self.sdk = sdk
        self.response: Any = None
        sdk.session.hooks["response"].append(self._keep)

    def _keep(self, response: Any, *args: Any, **kwargs: Any) -> None:
        self.response = response


class RequestFailed(Exception):
    """An SDK call that raised, with the last HTTP answer its session received (None if none came)."""

    def __init__(self, error: Exception, response: Any) -> None:
        super().__init__(str(error))
        self.error = error
        self.response = response


def _attempt(client: _Client, work: Callable[..., _T], *args: Any) -> _T:
    client.response = None
    try:
        return work(client.sdk, *args)
    except Exception as error:
        raise RequestFailed(error, client.response) from error


def payload(
    push: Push, *, cid: str | None, production: bool, distribution: str, classification: Classification
) -> dict[str, Any]:
    """The JPush push object for one push, built with the SDK's payload helpers."""
    critical = push.time_critical
    extras = {**push.data, "messageId": push.message_id}
    android = jpush.android(
        alert=push.body,
        title=push.title,
        priority=2 if critical else 0,
        category="reminder" if critical else None,  # Android's Notification.CATEGORY_REMINDER
        alert_type=-1 if critical else None,  # sound, vibration and lights
        channel_id=classification.android_channel_id,
        extras=extras,
    )
    ios = jpush.ios(
        alert={"title": push.title, "body": push.body},
        badge=None,
        sound="default",
        extras=extras,
        interruption_level="time-sensitive" if critical else None,
    )
    options: dict[str, Any] = {
        "apns_production": production,
        "classification": classification.classification,
        "third_party_channel": classification.third_party_channel(distribution),
    }
    if len(push.message_id.encode()) <= 64:  # JPush's limit for apns_collapse_id
        options["apns_collapse_id"] = push.message_id
    if push.ttl_seconds is not None:
        options["time_to_live"] = max(0, push.ttl_seconds)
    body: dict[str, Any] = {
        "platform": jpush.platform("android", "ios"),
        "audience": jpush.audience(jpush.registration_id(push.token)),
        "notification": jpush.notification(android=android, ios=ios),
        "options": options,
    }
    if cid is not None:
        body["cid"] = cid
    return body


def outcome(error: BaseException, response: Any = None) -> PushResult:
    """The outcome of an SDK exception, given the HTTP answer that came with it if any (see the module docstring)."""
    if isinstance(error, common.Unauthorized):
        return PushResult(Outcome.RETRY, error="1004")
    if isinstance(error, common.JPushFailure):
        status = int(error.response.status_code)
        code = _code(error.error_code)
        label = str(code) if code is not None else f"HTTP_{status}"
        if code in INVALID_TOKEN_CODES:
            return PushResult(Outcome.INVALID_TOKEN, error=label)
        if code == RATE_LIMITED or status == 429:
            return PushResult(Outcome.RETRY, retry_after=_reset(error.response.headers), error=str(RATE_LIMITED))
        if code in RETRIED_CODES or status >= 500:
            return PushResult(Outcome.RETRY, error=label)
        return PushResult(Outcome.FAILED, error=label)
    if isinstance(error, common.APIConnectionException | common.APIRequestException):
        # the SDK wraps every requests error; the one it caught is the exception's context
        timed_out = isinstance(error.__context__, requests.Timeout)
        return PushResult(Outcome.RETRY, error="TIMEOUT" if timed_out else "CONNECTION_ERROR")
    status = int(response.status_code) if response is not None else 200
    if status == 429:
        return PushResult(Outcome.RETRY, retry_after=_reset(response.headers), error=str(RATE_LIMITED))
    if 400 <= status < 500:
        return PushResult(Outcome.FAILED, error=f"HTTP_{status}")
    # a 5xx the SDK could not read (it raises TypeError on an error body that is not JSON: a proxy's HTML page),
    # a 200 without JSON, no answer at all
    return PushResult(Outcome.RETRY, error=f"HTTP_{status}" if status >= 500 else type(error).__name__)


def _code(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _reset(headers: Any) -> float | None:
    """Seconds until JPush's rate-limit window resets (X-Rate-Limit-Reset, else Retry-After), when given."""
    for name in ("X-Rate-Limit-Reset", "Retry-After"):
        value = headers.get(name)
        try:
            return max(0.0, float(value))
        except (TypeError, ValueError):
            continue
    return None


def _post(client: Any, body: dict[str, Any]) -> Any:
    """POST /v3/push through the SDK (in a worker thread); the answer's JSON."""
    push = jpush.Push(client)
    push.platform = body["platform"]
    push.audience = body["audience"]
    push.notification = body["notification"]
    push.options = body["options"]
    push.cid = body.get("cid")
    return push.send().payload


def _cid_pool(client: Any, count: int) -> list[str]:
    """GET /v3/push/cid through the SDK (in a worker thread): `count` new cids."""
    answer = jpush.Push(client).get_cid(count, "push").payload
    return [str(cid) for cid in answer.get("cidlist") or []]


def _zone(endpoint: str | None) -> str:
    """The SDK zone whose URLs start at `endpoint` (JPush's own when None); close() removes it again."""
    # the SDK builds every URL from jpush.common.ZONES[zone], so another endpoint (the Beijing data centre,
    # https://bjapi.push.jiguang.cn, or a local stub) is a zone of its own, named for one channel
    if endpoint is None:
        return "DEFAULT"
    base = endpoint.rstrip("/")
    name = f"PALMTRADE-{uuid.uuid4().hex.upper()}"
    common.ZONES[name] = {key: base + urlsplit(url).path for key, url in common.ZONES["DEFAULT"].items()}
    return name


def channel_from_settings(
    app_key: str | None,
    master_secret: str | None,
    endpoint: str | None = None,
    production: bool = False,
    timeout: float = 10.0,
) -> JPushChannel | None:
    """A JPushChannel when an app key and a master secret are configured; None when JPush is off."""
    if not app_key or not master_secret:
        return None
    return JPushChannel(app_key, master_secret, endpoint=endpoint or None, production=production, timeout=timeout)
