"""A message to the provincial platform as data.

    queued -> sent
      |  \\-> held -> queued (the lot is clean again)
      \\-> dead (every try failed) -> queued (an operator)

A message is queued when its announcement is published; each failed try (no answer, a 5xx, an error receipt) leaves
it queued with a later due time, the last one makes it dead; a lot with a blocking data-quality finding holds it.
A sent message the province lacks or holds otherwise at reconciliation is queued again, under the same message id.
"""

from __future__ import annotations

from enum import StrEnum

from domain.common.actors import Role
from domain.common.lifecycle import SYSTEM, Lifecycle, move


class MessageStatus(StrEnum):
    QUEUED = "queued"  # due at due_at; the worker's provincial loop sends it
    SENT = "sent"  # the province's receipt (回执) came, with its id
    HELD = "held"  # a blocking data-quality finding on its lot
    DEAD = "dead"  # every try failed: an operator sends it again


S = MessageStatus
TABLE: Lifecycle[MessageStatus] = Lifecycle(
    name="ProvincialMessage",
    states=MessageStatus,
    doc="A published announcement on its way to the provincial platform (实时交互至省公共资源交易网).",
    transitions=(
        move("queue", None, S.QUEUED, by={SYSTEM}, note="its announcement was published (a reaction)"),
        move("deliver", S.QUEUED, S.SENT, by={SYSTEM}, note="the province answered a receipt"),
        move("fail", S.QUEUED, S.QUEUED, by={SYSTEM}, note="no answer, a 5xx or an error receipt: tried again later"),
        move("give_up", S.QUEUED, S.DEAD, by={SYSTEM}, note="the last of PROVINCIAL_MAX_ATTEMPTS tries failed"),
        move("hold", S.QUEUED, S.HELD, by={SYSTEM}, note="its lot has a blocking data-quality finding"),
        move("release", S.HELD, S.QUEUED, by={SYSTEM}, note="the nightly check found its lot clean"),
        move("retry", {S.QUEUED, S.HELD, S.DEAD}, S.QUEUED, by={Role.OPERATOR}, note="an operator sends it now"),
        move("resend", S.SENT, S.QUEUED, by={SYSTEM}, note="reconciliation: the province lacks it or holds another"),
    ),
    initial=frozenset({S.QUEUED}),
)
