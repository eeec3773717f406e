"""The platform's credit commitment texts (信用承诺书), versioned: a published version never changes, a new one is
added with the moment it takes force (published ahead, so that bidders can read it before it binds).

The rule (issue 23): a commitment is signed against the version in force when it is signed (creditCommitmentSign
refuses another, COMMITMENT_VERSION_OUTDATED), and each stage that asks for a commitment (registration, a sealed bid)
checks that its commitment was signed against the version in force at that stage (CREDIT_COMMITMENT_STALE otherwise,
domain/registration/commitments). An earlier commitment is not undone by a new version: it stays on record and binds
for what it was signed for (a registration made under it stands, and a breach of it is recorded against it); it only no
longer lets a later stage through, whose commitment must be signed again on the version in force.

Below registration and credit_public in the layers: registration checks versions, credit_public signs them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class CommitmentText:
    version: int
    title: str
    body: str
    in_force_from: datetime | None = None  # None: in force since the platform began

    @property
    def sha256(self) -> str:
        return hashlib.sha256(f"{self.title}\n{self.body}".encode()).hexdigest()


# The commitment texts by version; a new version is one more entry with its in_force_from (aware, UTC).
TEXTS: dict[int, CommitmentText] = {
    1: CommitmentText(
        1,
        "公共资源交易信用承诺书",
        "本单位自愿参加本项目交易活动，郑重承诺：\n"
        "一、所提交的营业执照、资质、业绩、人员、财务等全部材料真实、合法、有效，不存在弄虚作假、"
        "以他人名义投标或者提供虚假材料的行为；\n"
        "二、不与其他投标人、招标人或者招标代理机构串通投标，不以行贿等不正当手段谋取中标；\n"
        "三、投标截止后不撤销投标文件；中标后不放弃中标，按照招标文件和投标文件在规定期限内订立合同、"
        "提交履约保证金，全面履行合同义务；\n"
        "四、不捏造事实、伪造材料或者以非法手段取得证明材料进行投诉；\n"
        "五、自愿接受行政监督部门和交易平台的监督检查。违背上述承诺的，愿意承担相应法律责任，"
        "同意将违诺行为作为不良行为记录，按规定期限公开并纳入信用记录。",
    ),
}


def in_force(now: datetime) -> CommitmentText:
    """The version in force at `now`: the newest whose in_force_from has come."""
    return max(
        (t for t in TEXTS.values() if t.in_force_from is None or t.in_force_from <= now), key=lambda t: t.version
    )
