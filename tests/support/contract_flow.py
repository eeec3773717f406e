"""The contract phase of any procedure over HTTP, as the parties' apps make it: the tenderer hands in the contract file
through the documents flow and drafts the contract at the awarded price, the winner and the tenderer sign it with
certificates they bound (from a CA the operator recognises), the platform announces it; the acceptance (验收) is
recorded and the performance information (履约信息) published.

    parties = await contract_parties(api, clock, tenderer_phone, winner_phone)
    contract = await signed_contract(api, parties, tmp_path, lot_id, trade_code, amount_fen)
    done = await accepted_and_performed(api, clock, parties, tmp_path, lot_id)

or `concluded(...)` for all three. Tokens are taken afresh at each step (the manual clock moves past them)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.x509.oid import NameOID

from api.seed import credit_code
from domain.accounts.models import Organisation, User
from mobile_contract.signing import contract_sign_content
from tests import factories as f
from tests.scenarios.test_certificates import ME, bind, recognise
from tests.scenarios.test_deposits import operator_phone
from tests.support import documents as docs
from tests.support.pki import Leaf, TestCA

CONTRACT = """fragment C on Contract { id contractNo status originalFen amountFen documentsSha256 toSign
  buyerSignedAt supplierSignedAt signatureIds signedOn announcementId
  changes { seq ground basis beforeFen afterFen announcementId }
  acceptedOn acceptancePassed acceptanceSummary payments { amountFen paidOn milestone reference } paidFen
  terminatedAt terminationGround origin
  proposals { seq kind status changeGround endGround beforeFen afterFen documentsSha256 toSign proposedBy
    buyerSignedAt supplierSignedAt decidedAt decisionNote announcementId } }"""
DRAFT = (
    """mutation($input: ContractDraftInput!) { contractDraft(input: $input) {
  __typename ... on ContractUpdated { contract { ...C } } ... on Error { code message }
  ... on FieldError { field } } }"""
    + CONTRACT
)
SIGN = (
    """mutation($input: ContractSignInput!) { contractSign(input: $input) {
  __typename ... on ContractUpdated { contract { ...C } } ... on Error { code message } } }"""
    + CONTRACT
)
ACCEPT = (
    """mutation($input: ContractAcceptInput!) { contractAccept(input: $input) {
  __typename ... on ContractUpdated { contract { ...C } } ... on Error { code message } } }"""
    + CONTRACT
)
CHANGE = (
    """mutation($input: ContractChangeInput!) { contractChange(input: $input) {
  __typename ... on ContractUpdated { contract { ...C } } ... on Error { code message }
  ... on ContractChangeTooLarge { limitFen } ... on ContractChangePending { seq } } }"""
    + CONTRACT
)
TERMINATE = (
    """mutation($input: ContractTerminateInput!) { contractTerminate(input: $input) {
  __typename ... on ContractUpdated { contract { ...C } } ... on Error { code message }
  ... on ContractChangePending { seq } } }"""
    + CONTRACT
)
CHANGE_SIGN = (
    """mutation($input: ContractChangeSignInput!) { contractChangeSign(input: $input) {
  __typename ... on ContractUpdated { contract { ...C } } ... on Error { code message }
  ... on ContractChangeDecided { status } } }"""
    + CONTRACT
)
CHANGE_DECLINE = (
    """mutation($input: ContractChangeDeclineInput!) { contractChangeDecline(input: $input) {
  __typename ... on ContractUpdated { contract { ...C } } ... on Error { code message }
  ... on ContractChangeDecided { status } } }"""
    + CONTRACT
)
PAY = (
    """mutation($input: ContractPaymentRecordInput!) { contractPaymentRecord(input: $input) {
  __typename ... on ContractUpdated { contract { ...C } } ... on Error { code message }
  ... on PaymentsExceedContract { amountFen } } }"""
    + CONTRACT
)
PERFORMANCE = """mutation($input: PerformanceRecordInput!) { performanceRecord(input: $input) {
  __typename ... on PerformanceRecorded { result { award { status } } } ... on Error { code message } } }"""
PUBLIC = "query($lotId: ID!) { lotResult(lotId: $lotId) { contract { ...C } } }" + CONTRACT
ANNOUNCEMENT = """query($id: ID!) { node(id: $id) { ... on Announcement { type title } } }"""
ANNOUNCEMENTS = ANNOUNCEMENT
LOT_STATUS = """query($id: ID!) { node(id: $id) { ... on Lot { status } } }"""

_numbers = itertools.count(1)
OPERATOR_CODE = "12370200MB1234567"  # api.seed.create_operator's


def pdf(path: Path, text: str) -> Path:
    """A small PDF file at `path`."""
    path.write_bytes(b"%PDF-1.7\n" + text.encode() + b"\n%%EOF\n")
    return path


async def upload(api: Any, token: str, lot_id: str, path: Path, purpose: str = "CONTRACT") -> str:
    """A PDF handed in for the lot through the resumable endpoint; its document's global id."""
    granted = await docs.grant(api, token, purpose, lot_id, path)
    assert granted["__typename"] == "UploadGrant", granted
    await docs.tus_upload(granted, path)
    done = (await api.gql(docs.UPLOAD, {"id": granted["upload"]["id"]}, token=token))["data"]["documentUpload"]
    assert done["status"] == "COMPLETE", done
    return str(done["documentId"])


def today(clock: Any) -> str:
    """The manual clock's day in Beijing, as the API takes dates."""
    from domain.common.clock import to_shanghai

    return to_shanghai(clock.now()).date().isoformat()


@dataclass
class Parties:
    """The tenderer's side and the winner, each with a phone to sign in with and a certificate it bound."""

    api: Any
    tenderer_phone: str
    winner_phone: str
    leaves: dict[str, Leaf] = field(default_factory=dict)  # "tenderer", "winner"

    async def token(self, who: str) -> str:
        """A fresh token of "tenderer" or "winner"."""
        return await f.login(self.api, self.tenderer_phone if who == "tenderer" else self.winner_phone)

    def signature(self, who: str, text: str) -> dict[str, str]:
        """A SignatureInput of `who` over `text`."""
        leaf = self.leaves[who]
        return {"certificate": leaf.pem, "signature": leaf.sign(text)}


async def _operator(api: Any) -> str:
    """A token of the platform's operator: its first user, or a new operator when there is none yet."""
    org = await Organisation.filter(credit_code=credit_code(OPERATOR_CODE)).first()
    user = await User.filter(organisation_id=org.id).order_by("id").first() if org else None
    return await f.login(api, user.phone if user else await operator_phone())


async def contract_parties(api: Any, clock: Any, tenderer_phone: str, winner_phone: str) -> Parties:
    """A CA the operator recognises, and a certificate bound by each party's user."""
    operator = await _operator(api)
    ca = TestCA(f"合同测试CA{next(_numbers)}", key_kind="rsa", code_attribute=NameOID.ORGANIZATIONAL_UNIT_NAME)
    await recognise(api, operator, ca, at=clock.now())
    parties = Parties(api, tenderer_phone, winner_phone)
    for who in ("tenderer", "winner"):
        token = await parties.token(who)
        org = (await api.gql(ME, token=token))["data"]["me"]["organisation"]
        parties.leaves[who] = ca.issue(org["name"], org["creditCode"])
        bound = await bind(api, token, parties.leaves[who])
        assert bound["__typename"] == "CertificateBound", bound
    return parties


async def draft(
    api: Any, parties: Parties, tmp_path: Path, lot_id: str, amount_fen: int, contract_no: str | None = None
) -> dict[str, Any]:
    """contractDraft by the tenderer with a contract file it uploaded; the mutation's result."""
    tenderer = await parties.token("tenderer")
    path = pdf(tmp_path / f"合同-{next(_numbers)}.pdf", f"contract of lot {lot_id}")
    contract_file = await upload(api, tenderer, lot_id, path)
    form = {
        "lotId": lot_id,
        "contractNo": contract_no or f"HT-{next(_numbers):04d}",
        "amountFen": amount_fen,
        "documentIds": [contract_file],
    }
    return (await api.gql(DRAFT, {"input": form}, token=tenderer))["data"]["contractDraft"]  # type: ignore[no-any-return]


async def sign(
    api: Any, parties: Parties, lot_id: str, who: str, content: str, token: str | None = None
) -> dict[str, Any]:
    """contractSign by `who` ("tenderer" or "winner") over `content` (with `token` instead of who's own, to try
    another's hand); the mutation's result."""
    variables = {"input": {"lotId": lot_id, "signature": parties.signature(who, content)}}
    body = await api.gql(SIGN, variables, token=token or await parties.token(who))
    return body["data"]["contractSign"]  # type: ignore[no-any-return]


async def signed_contract(
    api: Any,
    parties: Parties,
    tmp_path: Path,
    lot_id: str,
    trade_code: str,
    amount_fen: int,
    contract_no: str | None = None,
) -> dict[str, Any]:
    """Drafted at `amount_fen`, signed by the winner then the tenderer over the content the draft shows: in force,
    announced as 合同公告, the lot contracted. The contract as the tenderer reads it."""
    drafted = await draft(api, parties, tmp_path, lot_id, amount_fen, contract_no)
    assert drafted["__typename"] == "ContractUpdated", drafted
    contract = drafted["contract"]
    content = contract_sign_content(trade_code, contract["contractNo"], amount_fen, contract["documentsSha256"])
    assert contract["toSign"] == content
    first = await sign(api, parties, lot_id, "winner", content)
    assert (first["__typename"], first["contract"]["status"]) == ("ContractUpdated", "PENDING"), first
    last = await sign(api, parties, lot_id, "tenderer", content)
    assert last["__typename"] == "ContractUpdated", last
    contract = last["contract"]
    assert (contract["status"], len(contract["signatureIds"])) == ("ACTIVE", 2), contract
    notice = (await api.gql(ANNOUNCEMENT, {"id": contract["announcementId"]}))["data"]["node"]
    assert notice["type"] == "CONTRACT", notice
    assert (await api.gql(LOT_STATUS, {"id": lot_id}))["data"]["node"]["status"] == "CONTRACTED"
    return contract  # type: ignore[no-any-return]


async def propose_change(
    api: Any,
    parties: Parties,
    tmp_path: Path,
    lot_id: str,
    who: str,
    ground: str,
    amount_fen: int,
    rationale: str = "补充协议",
) -> dict[str, Any]:
    """contractChange by `who` with an agreement file it uploaded; the mutation's result."""
    token = await parties.token(who)
    agreement = await upload(api, token, lot_id, pdf(tmp_path / f"补充协议-{next(_numbers)}.pdf", rationale))
    form = {"lotId": lot_id, "ground": ground, "rationale": rationale, "amountFen": amount_fen}
    body = await api.gql(CHANGE, {"input": {**form, "documentIds": [agreement]}}, token=token)
    return body["data"]["contractChange"]  # type: ignore[no-any-return]


async def propose_termination(
    api: Any, parties: Parties, tmp_path: Path, lot_id: str, who: str, ground: str, explanation: str = "协商解除"
) -> dict[str, Any]:
    """contractTerminate by `who` with a file it uploaded; the mutation's result."""
    token = await parties.token(who)
    paper = await upload(api, token, lot_id, pdf(tmp_path / f"解除协议-{next(_numbers)}.pdf", explanation))
    form = {"lotId": lot_id, "ground": ground, "explanation": explanation, "documentIds": [paper]}
    return (await api.gql(TERMINATE, {"input": form}, token=token))["data"]["contractTerminate"]  # type: ignore[no-any-return]


def proposal(contract: dict[str, Any], seq: int) -> dict[str, Any]:
    """The contract's proposal `seq`."""
    [found] = [p for p in contract["proposals"] if p["seq"] == seq]
    return found  # type: ignore[no-any-return]


async def sign_change(
    api: Any, parties: Parties, lot_id: str, who: str, seq: int, content: str, token: str | None = None
) -> dict[str, Any]:
    """contractChangeSign by `who` over `content` (with `token` instead of who's own, to try another's hand)."""
    variables = {"input": {"lotId": lot_id, "seq": seq, "signature": parties.signature(who, content)}}
    body = await api.gql(CHANGE_SIGN, variables, token=token or await parties.token(who))
    return body["data"]["contractChangeSign"]  # type: ignore[no-any-return]


async def decline_change(api: Any, parties: Parties, lot_id: str, who: str, seq: int, note: str) -> dict[str, Any]:
    """contractChangeDecline by `who`: a decline by the other party, a withdrawal by the proposer's side."""
    body = await api.gql(
        CHANGE_DECLINE, {"input": {"lotId": lot_id, "seq": seq, "note": note}}, token=await parties.token(who)
    )
    return body["data"]["contractChangeDecline"]  # type: ignore[no-any-return]


async def agreed_change(
    api: Any, parties: Parties, tmp_path: Path, lot_id: str, ground: str, amount_fen: int, rationale: str = "补充协议"
) -> dict[str, Any]:
    """A change the tenderer proposes and both parties sign (the tenderer, then the winner): in force. The contract."""
    proposed = await propose_change(api, parties, tmp_path, lot_id, "tenderer", ground, amount_fen, rationale)
    assert proposed["__typename"] == "ContractUpdated", proposed
    seq = max(p["seq"] for p in proposed["contract"]["proposals"])
    content = proposal(proposed["contract"], seq)["toSign"]
    for who in ("tenderer", "winner"):
        signed = await sign_change(api, parties, lot_id, who, seq, content)
        assert signed["__typename"] == "ContractUpdated", signed
    assert proposal(signed["contract"], seq)["status"] == "EFFECTIVE", signed
    return signed["contract"]  # type: ignore[no-any-return]


async def accept(
    api: Any, clock: Any, parties: Parties, tmp_path: Path, lot_id: str, summary: str = "履约验收合格。"
) -> dict[str, Any]:
    """contractAccept by the tenderer today, passed, with an acceptance report it uploaded; the mutation's result."""
    tenderer = await parties.token("tenderer")
    report = await upload(api, tenderer, lot_id, pdf(tmp_path / f"验收报告-{next(_numbers)}.pdf", "acceptance"))
    form = {"lotId": lot_id, "acceptedOn": today(clock), "passed": True, "summary": summary, "documentIds": [report]}
    return (await api.gql(ACCEPT, {"input": form}, token=tenderer))["data"]["contractAccept"]  # type: ignore[no-any-return]


async def perform(
    api: Any, clock: Any, parties: Parties, lot_id: str, summary: str = "合同履行完毕。"
) -> dict[str, Any]:
    """performanceRecord by the tenderer today (履约信息, published); the mutation's result."""
    form = {"lotId": lot_id, "summary": summary, "completedOn": today(clock)}
    body = await api.gql(PERFORMANCE, {"input": form}, token=await parties.token("tenderer"))
    return body["data"]["performanceRecord"]  # type: ignore[no-any-return]


async def accepted_and_performed(
    api: Any, clock: Any, parties: Parties, tmp_path: Path, lot_id: str, days: int = 60
) -> dict[str, Any]:
    """`days` later, the acceptance passed and the performance information published: the contract COMPLETED, as
    anyone reads it."""
    clock.advance(timedelta(days=days))
    accepted = await accept(api, clock, parties, tmp_path, lot_id)
    assert accepted["__typename"] == "ContractUpdated", accepted
    performed = await perform(api, clock, parties, lot_id)
    assert performed["__typename"] == "PerformanceRecorded", performed
    public = (await api.gql(PUBLIC, {"lotId": lot_id}))["data"]["lotResult"]["contract"]
    assert (public["status"], public["acceptancePassed"]) == ("COMPLETED", True), public
    return public  # type: ignore[no-any-return]


async def concluded(
    api: Any,
    clock: Any,
    tmp_path: Path,
    *,
    lot_id: str,
    trade_code: str,
    tenderer_phone: str,
    winner_phone: str,
    amount_fen: int,
) -> tuple[Parties, dict[str, Any]]:
    """An awarded lot taken to its end: the contract signed by both parties and announced, accepted, its performance
    published. The parties and the completed contract."""
    parties = await contract_parties(api, clock, tenderer_phone, winner_phone)
    await signed_contract(api, parties, tmp_path, lot_id, trade_code, amount_fen)
    return parties, await accepted_and_performed(api, clock, parties, tmp_path, lot_id)
