"""Signed callbacks from banks (deposit payments and refunds): POST /callbacks/bank.

The body is the compact JWS itself (application/jose or text/plain), signed with the bank's
registered `bank_callback` key; no bearer token. The answer is JSON:

- 200 `{"status": "accepted"}`: credited.
- 200 `{"status": "rejected", "code", "message_zh", "message_en"}` for a business rejection
  (UNKNOWN_REFERENCE, DEPOSIT_AMOUNT_MISMATCH, DEPOSIT_TOO_LATE, DEPOSIT_ALREADY_PAID,
  REFUND_NOT_DUE): the callback was understood and the answer will not change, so the bank must
  not retry; the money goes back to the payer. CALLBACK_REPLAYED (also 200) means the same bank
  transaction was credited before: nothing to send back, stop retrying.
- 400 with the same body for SIGNATURE_INVALID and INVALID_CALLBACK: the bank's side must fix
  its key or message (retrying the same bytes cannot succeed either).

Every callback, accepted or rejected, is recorded in bank_callback. Before anything is read or
recorded, each sending address is limited to CALLBACKS_PER_MINUTE (429 above it), so a flood of
forged callbacks cannot fill the table.
"""

import hmac

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from domain.accounts import keys
from domain.common.errors import DomainError
from domain.deposits import services as deposits
from domain.sms import services as sms

_MALFORMED = frozenset({keys.SignatureInvalid.code, deposits.InvalidCallback.code})
CALLBACKS_PER_MINUTE = 600


async def _body(request: Request) -> str:
    """The body as text, read no further than one character past the largest JWS accepted."""
    limit = keys.MAX_JWS_LENGTH + 1
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit].decode("utf-8", "replace")


async def bank_callback(request: Request) -> JSONResponse:
    ip = request.client.host if request.client else None
    services = getattr(request.app.state, "services", None)
    if services is not None:
        allowed, reset = await services.limiter.hit(f"callback:{ip}", CALLBACKS_PER_MINUTE)
        if not allowed:
            return JSONResponse(
                {"status": "rejected", "code": "RATE_LIMITED", "message_zh": "请求过于频繁", "message_en": "Too many"},
                status_code=429,
                headers={"Retry-After": str(reset)},
            )
    try:
        await deposits.receive_callback(await _body(request), ip=ip)
    except DomainError as err:
        return JSONResponse(
            {
                "status": "rejected",
                "code": err.code,
                "message_zh": err.message("zh"),
                "message_en": err.message("en"),
            },
            status_code=400 if err.code in _MALFORMED else 200,
        )
    return JSONResponse({"status": "accepted"})


async def treasury_callback(request: Request) -> JSONResponse:
    """Signed status callbacks of the treasury's centralised payment system: POST /callbacks/treasury, the body a
    compact JWS signed with the treasury's key (TREASURY_PUBLIC_JWK). 200 {"status": "applied" | "replayed"} (a
    callback id seen before changes nothing); 200 rejected for a business refusal (UNKNOWN_PAYMENT_REQUEST,
    INVALID_TRANSITION: do not retry); 400 for SIGNATURE_INVALID and INVALID_CALLBACK. Every callback is kept in
    treasury_callback."""
    from domain.settlement import treasury

    ip = request.client.host if request.client else None
    services = getattr(request.app.state, "services", None)
    if services is not None:
        allowed, reset = await services.limiter.hit(f"treasury-callback:{ip}", CALLBACKS_PER_MINUTE)
        if not allowed:
            return JSONResponse(
                {"status": "rejected", "code": "RATE_LIMITED"}, status_code=429, headers={"Retry-After": str(reset)}
            )
    try:
        outcome = await treasury.receive_callback(await _body(request))
    except DomainError as err:
        body = {
            "status": "rejected",
            "code": err.code,
            "message_zh": err.message("zh"),
            "message_en": err.message("en"),
        }
        return JSONResponse(body, status_code=400 if err.code in _MALFORMED else 200)
    return JSONResponse({"status": outcome})


SMS_RECEIPT_MAX_BYTES = 1_000_000


async def sms_receipts(request: Request) -> Response:
    """Delivery receipts pushed by an SMS provider: POST /callbacks/sms/{aliyun|tencent}?token=SMS_CALLBACK_TOKEN
    (the URL registered in the provider's console). Each receipt marks its message delivered or undelivered; the
    answer is the body the provider expects, so it stops pushing them."""
    services = request.app.state.services
    provider = request.path_params["provider"]
    token = services.settings.sms_callback_token
    given = request.query_params.get("token", "")
    if provider not in ("aliyun", "tencent") or not token or not hmac.compare_digest(given, token):
        return JSONResponse({"error": "not found"}, status_code=404)
    ip = request.client.host if request.client else None
    allowed, reset = await services.limiter.hit(f"sms-callback:{ip}", CALLBACKS_PER_MINUTE)
    if not allowed:
        return JSONResponse({"error": "rate limited"}, status_code=429, headers={"Retry-After": str(reset)})
    body = (await _body_bytes(request, SMS_RECEIPT_MAX_BYTES)) or b"[]"
    if provider == "aliyun":
        from notifications.sms.aliyun import RECEIPT_ACK_BODY as ack
        from notifications.sms.aliyun import parse_receipts
    else:
        from notifications.sms.tencent import CALLBACK_ANSWER as ack
        from notifications.sms.tencent import parse_receipts
    try:
        receipts = parse_receipts(body)
    except ValueError:
        return JSONResponse({"error": "not a receipt batch"}, status_code=400)
    for receipt in receipts:
        await sms.apply_receipt(provider, receipt.provider_id, receipt.delivered, receipt.code)
    return Response(ack, media_type="application/json")


async def voice_reports(request: Request) -> Response:
    """Call reports pushed by the voice provider: POST /callbacks/voice/aliyun?token=SMS_CALLBACK_TOKEN. A key an
    expert pressed answers its notice (1 confirms, 2 declines); an unanswered call counts once the window ends."""
    from domain.evaluation import notices
    from notifications.voice.aliyun import REPORT_ACK_BODY, parse_reports
    from notifications.voice.base import Answer

    services = request.app.state.services
    token = services.settings.sms_callback_token
    given = request.query_params.get("token", "")
    if request.path_params["provider"] != "aliyun" or not token or not hmac.compare_digest(given, token):
        return JSONResponse({"error": "not found"}, status_code=404)
    ip = request.client.host if request.client else None
    allowed, reset = await services.limiter.hit(f"voice-callback:{ip}", CALLBACKS_PER_MINUTE)
    if not allowed:
        return JSONResponse({"error": "rate limited"}, status_code=429, headers={"Retry-After": str(reset)})
    try:
        reports = parse_reports((await _body_bytes(request, SMS_RECEIPT_MAX_BYTES)) or b"[]")
    except ValueError:
        return JSONResponse({"error": "not a report batch"}, status_code=400)
    answers = {Answer.CONFIRMED: "confirmed", Answer.DECLINED: "declined", Answer.NO_ANSWER: "no_answer"}
    for report in reports:
        if report.answer in answers:
            await notices.apply_call_report("aliyun", report.provider_id, answers[report.answer])
    return Response(REPORT_ACK_BODY, media_type="application/json")


async def _body_bytes(request: Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            break
    return b"".join(chunks)[:limit]
