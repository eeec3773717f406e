"""The voice dispatcher: places the due calls of drawn experts' notices (domain/evaluation/notices.py) through the
configured voice provider, one attempt each, retried with backoff when the provider is unavailable."""

from __future__ import annotations

import asyncio
import logging

from domain.evaluation import notices
from domain.evaluation.models import ExpertNotice
from domain.publication.models import Lot
from domain.sms.services import mask
from notifications import metrics
from notifications.voice.base import VoiceCall, VoiceOutcome, VoiceProvider

log = logging.getLogger("palmtrade.voice")


class VoiceDispatcher:
    """One per worker process; notices are leased, so several processes never call one expert twice at once."""

    def __init__(self, provider: VoiceProvider, owner: str, batch: int = 20) -> None:
        self.provider = provider
        self.owner = owner
        self.batch = batch

    async def run_once(self) -> int:
        due = await notices.lease_calls(self.owner, self.batch)
        await asyncio.gather(*(self.call(n) for n in due))
        return len(due)

    async def call(self, notice: ExpertNotice) -> None:
        lot = await Lot.get(id=notice.lot_id)
        result = await self.provider.call(
            VoiceCall(
                call_id=f"en{notice.id}",
                phone=notice.phone,
                template="expert_drawn",
                params=notices.call_params(notice, lot),
            )
        )
        outcome = {VoiceOutcome.PLACED: "placed", VoiceOutcome.RETRY: "retry"}.get(result.outcome, "failed")
        await notices.call_outcome(notice, self.provider.name, outcome, result.provider_id)
        metrics.CALLS.labels(self.provider.name, outcome).inc()
        log.info("voice call for notice %s to %s: %s %s", notice.id, mask(notice.phone), outcome, result.code or "")

    async def close(self) -> None:
        await self.provider.close()


def provider_from_settings(values: dict[str, str]) -> VoiceProvider | None:
    """Aliyun's voice service when ALIYUN_VOICE_* are set; None otherwise (experts get the text and the app)."""
    from notifications.voice.aliyun import AliyunVoice

    key_id, secret = values.get("ALIYUN_VOICE_ACCESS_KEY_ID"), values.get("ALIYUN_VOICE_ACCESS_KEY_SECRET")
    show, template = values.get("ALIYUN_VOICE_SHOW_NUMBER"), values.get("ALIYUN_VOICE_TEMPLATE")
    if not (key_id and secret and show and template):
        return None
    return AliyunVoice(
        key_id,
        secret,
        show,
        {"expert_drawn": template},
        endpoint=values.get("ALIYUN_VOICE_ENDPOINT", "dyvmsapi.aliyuncs.com"),
        protocol=values.get("ALIYUN_VOICE_PROTOCOL", "https"),
    )
