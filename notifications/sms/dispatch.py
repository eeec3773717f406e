"""The SMS dispatcher: sends queued messages (domain/sms/services.py) through the providers in order,
failing over to the next when one errors, times out or refuses for its own reasons (a template or account
problem there); an invalid number or a per-number limit ends the message. Every try is recorded."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from domain.sms import services as sms
from domain.sms.models import SmsMessage
from notifications import metrics
from notifications.sms.base import SmsMessage as Outgoing
from notifications.sms.base import SmsOutcome, SmsProvider

log = logging.getLogger("palmtrade.sms")

FINAL_FOR_MESSAGE = (SmsOutcome.INVALID_NUMBER, SmsOutcome.RATE_LIMITED)


class SmsDispatcher:
    """Implements the domain's SmsOutbox over real providers; one per process, any number of processes."""

    def __init__(self, providers: Sequence[SmsProvider], secret: bytes, owner: str, batch: int = 50) -> None:
        if not providers:
            raise ValueError("an SMS dispatcher needs at least one provider")
        self.providers = list(providers)
        self.secret = secret
        self.owner = owner
        self.batch = batch

    async def send_now(self, message_id: int) -> None:
        for message in await sms.lease(self.owner, 1, [message_id]):
            await self.deliver(message)

    async def run_once(self) -> int:
        """Sends the due queued messages (a batch); the count handled."""
        messages = await sms.lease(self.owner, self.batch)
        await asyncio.gather(*(self.deliver(m) for m in messages))
        return len(messages)

    async def deliver(self, message: SmsMessage) -> None:
        """One round over the providers for one message, recorded."""
        params = sms.unseal(message.params_sealed or "", self.secret, str(message.id))
        if set(params) != set(sms.TEMPLATES[message.template].params):
            await sms.record(message, [sms.Tried(provider="-", outcome="failed", code="PARAMS_UNREADABLE")], self.owner)
            return
        outgoing = Outgoing(message_id=str(message.id), phone=message.phone, template=message.template, params=params)
        tries: list[sms.Tried] = []
        for provider in self.providers:
            try:
                result = await provider.send(outgoing)
            except Exception as err:  # an adapter's bug must not stop the others
                log.exception("SMS provider %s raised for message %s", provider.name, message.id)
                tries.append(sms.Tried(provider=provider.name, outcome="retry", code=type(err).__name__))
                continue
            tries.append(
                sms.Tried(
                    provider=provider.name,
                    outcome=result.outcome.value,
                    provider_id=result.provider_id,
                    code=result.code,
                )
            )
            if result.outcome is SmsOutcome.SENT or result.outcome in FINAL_FOR_MESSAGE:
                break
        done = await sms.record(message, tries, self.owner)
        metrics.count(metrics.TEXTS, ((t.provider, t.outcome) for t in tries))
        log.info(
            "SMS %s to %s: %s (%s)",
            message.id,
            sms.mask(message.phone),
            done.status,
            ", ".join(f"{t.provider}={t.outcome}{':' + t.code if t.code else ''}" for t in tries),
        )

    async def close(self) -> None:
        for provider in self.providers:
            await provider.close()
