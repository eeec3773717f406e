"""The credit commitment gate (信用承诺制): a lot with credit_commitment_required takes a registration only from an
organisation that signed the commitment for it at the registration stage, and a sealed bid only after it signed the
commitment at the bid stage (domain/credit_public/commitments signs; this module only checks, below it in the layers).

The setting defaults to on for public tenders (公开招标, Procedure.OPEN_TENDER) and off otherwise
(domain/publication/procedures.configure); a lot created before the setting existed has no key and requires nothing.
The Yunnan plan's 信用承诺制 asks it of every trading entity; other procedures may turn it on per lot. Basis
(unverified citation): 国务院办公厅关于加快推进社会信用体系建设构建以信用为基础的新型监管机制的指导意见
(国办发〔2019〕35号) 一(二) 信用承诺制度.
"""

from __future__ import annotations

from typing import Any

from domain.common import clock
from domain.credit.commitment_texts import in_force
from domain.credit.models import CreditCommitment
from domain.registration.errors import CreditCommitmentRequired, CreditCommitmentStale

SETTING = "credit_commitment_required"
REGISTRATION = "registration"  # domain/credit_public/commitments.Stage values
BID = "bid"


def required(config: dict[str, Any]) -> bool:
    return bool(config.get(SETTING, False))


async def ensure_signed(config: dict[str, Any], lot_id: int, org_id: int, stage: str) -> None:
    """Raises CreditCommitmentRequired unless the lot requires nothing or the organisation's commitment for this lot
    and stage is on record, and CreditCommitmentStale when that commitment was signed against a text version other
    than the one in force now (domain/credit/commitment_texts: a stage checks its own commitment's version)."""
    if not required(config):
        return
    row = await CreditCommitment.filter(organisation_id=org_id, lot_id=lot_id, stage=stage).first()
    if row is None:
        raise CreditCommitmentRequired(stage)
    current = in_force(clock.now()).version
    if row.version != current:
        raise CreditCommitmentStale(stage, row.version, current)
