"""A sign-in's answer names the user's organisation from the row the access token was issued on: the organisation is
read once per sign-in (the request's organisation loader starts with it), and the answer is the same."""

from __future__ import annotations

from domain.accounts.models import Organisation, User
from tests import factories as f
from tests.domain.registration.statements import statements

SIGN_IN = """mutation($input: AuthLoginInput!) { authLogin(input: $input) {
  __typename
  ... on SignedIn { session { user { id name organisation { id name status kinds } } } }
  ... on Error { code message }
} }"""
ME = "query { me { organisation { id name status kinds } } }"


def _organisation_reads(sent: list[str]) -> list[str]:
    return [q for q in sent if q.lstrip().upper().startswith("SELECT") and 'FROM "organisation"' in q]


async def test_signing_in_reads_the_organisation_once_and_answers_it(api, monkeypatch):
    operator = await f.operator_token(api)
    _, phone, token = await f.approved_org(api, operator)

    with statements(monkeypatch) as sent:
        body = await api.gql(SIGN_IN, {"input": {"phone": phone, "password": f.PASSWORD}})

    answer = body["data"]["authLogin"]
    assert answer["__typename"] == "SignedIn"
    org = await Organisation.get(id=(await User.get(phone=phone)).organisation_id)
    named = answer["session"]["user"]["organisation"]
    assert (named["name"], named["status"], named["kinds"]) == (org.name, "APPROVED", ["BIDDER"])
    assert len(_organisation_reads(sent)) == 1
    # and where no session is in hand the loader reads it, with the same answer
    me = await api.gql(ME, token=token)
    assert me["data"]["me"]["organisation"] == named
