"""Single sign-on with a certificate (issue 24): an outside business system, with Authlib's OAuth 2.0 client, signs a
bidder in at PalmTrade's page with its certificate, once by a CA client's signature posted on the page and once by the
PalmTrade app approving the page's QR code (扫码登录) while the page polls, with an SM2 certificate; the ID token says
so (amr cert, level 1). The challenge is single use, short-lived and bound to its authorization request."""

from __future__ import annotations

import html
import json
import re
import warnings
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from authlib.common.security import generate_token
from joserfc import jwt
from joserfc.jwk import KeySet

from tests import factories as f
from tests.scenarios.test_certificates import ME, bind, recognise
from tests.scenarios.test_single_sign_on import REDIRECT, SCOPE, _action, _csrf, _register
from tests.support.pki import Leaf, TestCA
from tests.support.qr import read_page

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # as tests/scenarios/test_single_sign_on.py: Authlib 1.9 names httpx2
    from authlib.integrations.httpx_client import AsyncOAuth2Client

APPROVE = """mutation($input: SsoCertificateApproveInput!) { ssoCertificateApprove(input: $input) { __typename
  ... on SsoCertificateApproved { clientId clientName } ... on Error { code message } } }"""


def _shown(page: str) -> tuple[str, str]:
    """The challenge and the text to sign as the page shows them (and its QR code, where there is one, as scanned)."""
    to_sign = html.unescape(re.search(r'id="to-sign"[^>]*>([^<]+)</textarea>', page).group(1))  # type: ignore[union-attr]
    challenge = str(json.loads(to_sign)["challenge"])
    qr = re.search(r'data-qr="([^"]+)"', page)
    if qr is not None:
        payload = html.unescape(qr.group(1))
        assert read_page(page) == [payload]  # the app's camera reads the same payload off the page's QR code
        assert payload.startswith("palmtrade://sso/certificate-sign-in?")
        assert parse_qs(urlsplit(payload).query)["challenge"] == [challenge]
    return challenge, to_sign


async def _bidder_with_certificate(api: Any, operator: str, ca: TestCA) -> tuple[str, str, Leaf]:
    _, phone, token = await f.approved_org(api, operator)
    org = (await api.gql(ME, token=token))["data"]["me"]["organisation"]
    leaf = ca.issue(org["name"], org["creditCode"])
    assert (await bind(api, token, leaf))["__typename"] == "CertificateBound"
    return phone, token, leaf


async def _consent_to_token(
    api: Any, rp: Any, browser: httpx.AsyncClient, consent: httpx.Response, verifier: str
) -> Any:
    assert "同意 / Allow" in consent.text, consent.text
    back = await browser.post(
        _action(consent.text), data={"csrf": _csrf(consent.text), "step": "consent", "decision": "allow"}
    )
    assert back.status_code == 302, back.text
    return await rp.fetch_token(
        f"{api.base_url}/oidc/token", authorization_response=back.headers["location"], code_verifier=verifier
    )


async def test_a_business_system_signs_a_bidder_in_with_its_certificate(api: Any, manual_clock: Any) -> None:
    # given a registered engineering system, two recognised CAs, and two bidders with bound certificates (RSA, SM2)
    operator = await f.operator_token(api)
    registered = await _register(api, operator)
    client_id, secret = registered["client"]["clientId"], registered["clientSecret"]
    rsa_ca, sm2_ca = TestCA("山东CA"), TestCA("国密CA", key_kind="sm2")
    await recognise(api, operator, rsa_ca)
    await recognise(api, operator, sm2_ca)
    _, _, rsa_leaf = await _bidder_with_certificate(api, operator, rsa_ca)
    _, sm2_token, sm2_leaf = await _bidder_with_certificate(api, operator, sm2_ca)
    _, _, other_token = await f.approved_org(api, operator)
    keys = KeySet.import_key_set((await api.http.get("/oidc/jwks")).json())
    authorize = f"{api.base_url}/oidc/authorize"

    async with (
        AsyncOAuth2Client(client_id, secret, scope=SCOPE, redirect_uri=REDIRECT, code_challenge_method="S256") as rp,
        httpx.AsyncClient(base_url=api.base_url, follow_redirects=False) as browser,
    ):
        # when the first bidder chooses the certificate on the sign-in page, and its CA client signs the shown text
        verifier, nonce = generate_token(48), generate_token(20)
        url, _ = rp.create_authorization_url(authorize, code_verifier=verifier, nonce=nonce)
        page = await browser.get(url)
        assert 'value="cert_start"' in page.text, page.text
        qr = await browser.post(_action(page.text), data={"csrf": _csrf(page.text), "step": "cert_start"})
        assert qr.status_code == 200, qr.text
        assert 'http-equiv="refresh"' in qr.text  # the QR page polls
        form = await browser.post(_action(qr.text), data={"csrf": _csrf(qr.text), "step": "cert_form"})
        assert 'name="signature"' in form.text, form.text
        assert 'http-equiv="refresh"' not in form.text  # the form does not reload under the user's hands
        challenge, to_sign = _shown(form.text)
        assert challenge in to_sign
        signed = {"csrf": _csrf(form.text), "step": "cert", "certificate": rsa_leaf.pem}
        # a wrong signature is refused, and the challenge is used up: a new one is shown
        refused = await browser.post(_action(form.text), data={**signed, "signature": rsa_leaf.sign("other text")})
        assert refused.status_code == 400
        assert 'role="alert"' in refused.text
        fresh, fresh_text = _shown(refused.text)
        assert fresh != challenge
        consent = await browser.post(
            _action(refused.text), data={**signed, "csrf": _csrf(refused.text), "signature": rsa_leaf.sign(fresh_text)}
        )
        token = await _consent_to_token(api, rp, browser, consent, verifier)

        # then the ID token names the certificate (one factor: level 1)
        claims = jwt.decode(token["id_token"], keys, algorithms=["ES256"]).claims
        assert claims["nonce"] == nonce
        assert claims["amr"] == ["cert"]
        assert claims["acr"] == "urn:palmtrade:loa:1"
        assert claims["roles"] == ["bidder"]

    async with (
        AsyncOAuth2Client(client_id, secret, scope=SCOPE, redirect_uri=REDIRECT, code_challenge_method="S256") as rp,
        httpx.AsyncClient(base_url=api.base_url, follow_redirects=False) as browser,
    ):
        # when the second bidder's browser shows the QR code and the page polls
        verifier = generate_token(48)
        url, _ = rp.create_authorization_url(authorize, code_verifier=verifier, nonce=generate_token(20))
        page = await browser.get(url)
        qr = await browser.post(_action(page.text), data={"csrf": _csrf(page.text), "step": "cert_start"})
        challenge, to_sign = _shown(qr.text)
        waiting = await browser.get(url)
        assert waiting.status_code == 200
        assert 'http-equiv="refresh"' in waiting.text
        assert _shown(waiting.text)[0] == challenge

        approval = {"challenge": challenge, "certificate": sm2_leaf.pem, "signature": sm2_leaf.sign(to_sign)}
        # another user's app cannot approve with a certificate that is not its own
        stranger = await api.gql(APPROVE, {"input": approval}, token=other_token)
        assert stranger["data"]["ssoCertificateApprove"]["code"] == "SSO_CERTIFICATE_OTHER_USER"
        # and that attempt used the challenge up, as any certificate sign-in does: the page is shown a new one
        retry = await browser.post(_action(qr.text), data={"csrf": _csrf(qr.text), "step": "cert_start"})
        challenge, to_sign = _shown(retry.text)
        approval = {"challenge": challenge, "certificate": sm2_leaf.pem, "signature": sm2_leaf.sign(to_sign)}
        # an unknown challenge is refused
        unknown = await api.gql(APPROVE, {"input": {**approval, "challenge": "x" * 43}}, token=sm2_token)
        assert unknown["data"]["ssoCertificateApprove"]["code"] == "SSO_SIGN_IN_NOT_FOUND"
        # the holder's app approves with its SM2 certificate
        approved = await api.gql(APPROVE, {"input": approval}, token=sm2_token)
        assert approved["data"]["ssoCertificateApprove"] == {
            "__typename": "SsoCertificateApproved",
            "clientId": client_id,
            "clientName": "青岛工程建设交易系统",
        }
        again = await api.gql(APPROVE, {"input": approval}, token=sm2_token)
        assert again["data"]["ssoCertificateApprove"]["code"] == "SSO_SIGN_IN_USED"

        # then the page's next poll continues the authorization request, once
        consent = await browser.get(url)
        token = await _consent_to_token(api, rp, browser, consent, verifier)
        claims = jwt.decode(token["id_token"], keys, algorithms=["ES256"]).claims
        assert claims["amr"] == ["cert"]
        assert claims["acr"] == "urn:palmtrade:loa:1"
        assert claims["sub"]

        # a challenge shown for one authorization request does not continue another, and expires in 2 minutes
        url2, _ = rp.create_authorization_url(authorize, code_verifier=generate_token(48), prompt="login")
        page = await browser.get(url2)
        qr = await browser.post(_action(page.text), data={"csrf": _csrf(page.text), "step": "cert_start"})
        challenge, to_sign = _shown(qr.text)
        url3, _ = rp.create_authorization_url(authorize, code_verifier=generate_token(48), prompt="login")
        elsewhere = await browser.get(url3)
        assert "登录掌上交易" in elsewhere.text
        assert 'http-equiv="refresh"' not in elsewhere.text
        manual_clock.advance(timedelta(minutes=3))
        late = {"challenge": challenge, "certificate": sm2_leaf.pem, "signature": sm2_leaf.sign(to_sign)}
        expired = await api.gql(APPROVE, {"input": late}, token=sm2_token)
        assert expired["data"]["ssoCertificateApprove"]["code"] == "SSO_SIGN_IN_EXPIRED"


async def _certificate_on_page(browser: httpx.AsyncClient, url: str, leaf: Leaf) -> httpx.Response:
    """The sign-in page, the certificate, a CA client's signature of the shown text posted."""
    page = await browser.get(url)
    assert "登录掌上交易" in page.text, page.text
    qr = await browser.post(_action(page.text), data={"csrf": _csrf(page.text), "step": "cert_start"})
    form = await browser.post(_action(qr.text), data={"csrf": _csrf(qr.text), "step": "cert_form"})
    _, to_sign = _shown(form.text)
    signed = {"csrf": _csrf(form.text), "step": "cert", "certificate": leaf.pem, "signature": leaf.sign(to_sign)}
    return await browser.post(_action(form.text), data=signed)


async def test_a_system_asking_for_two_factors_gets_the_certificate_and_an_sms_code(
    api: Any, manual_clock: Any
) -> None:
    # given a registered system, a recognised CA and a bidder with a bound certificate, signed in there with it alone
    operator = await f.operator_token(api)
    registered = await _register(api, operator)
    client_id, secret = registered["client"]["clientId"], registered["clientSecret"]
    ca = TestCA("山东CA")
    await recognise(api, operator, ca)
    phone, _, leaf = await _bidder_with_certificate(api, operator, ca)
    keys = KeySet.import_key_set((await api.http.get("/oidc/jwks")).json())
    authorize = f"{api.base_url}/oidc/authorize"
    async with (
        AsyncOAuth2Client(client_id, secret, scope=SCOPE, redirect_uri=REDIRECT, code_challenge_method="S256") as rp,
        httpx.AsyncClient(base_url=api.base_url, follow_redirects=False) as browser,
    ):
        verifier = generate_token(48)
        url, _ = rp.create_authorization_url(authorize, code_verifier=verifier)
        consent = await _certificate_on_page(browser, url, leaf)
        one = await _consent_to_token(api, rp, browser, consent, verifier)
        assert jwt.decode(one["id_token"], keys, algorithms=["ES256"]).claims["acr"] == "urn:palmtrade:loa:1"

        # when the system asks for two factors (acr_values): the one-factor session does not answer it
        verifier = generate_token(48)
        url, _ = rp.create_authorization_url(authorize, code_verifier=verifier, acr_values="urn:palmtrade:loa:2")
        sms_page = await _certificate_on_page(browser, url, leaf)
        # and after the certificate the page asks for the SMS code texted to the bidder
        assert 'name="code"' in sms_page.text, sms_page.text
        text = [t for to, t in api.sms if to == phone][-1]
        code = re.search(r"(\d{6})", text).group(1)  # type: ignore[union-attr]
        back = await browser.post(
            _action(sms_page.text), data={"csrf": _csrf(sms_page.text), "step": "sms", "code": code}
        )
        # then the remembered consent lets it straight back, and the ID token says two factors
        assert back.status_code == 302, back.text
        two = await rp.fetch_token(
            f"{api.base_url}/oidc/token", authorization_response=back.headers["location"], code_verifier=verifier
        )
        claims = jwt.decode(two["id_token"], keys, algorithms=["ES256"]).claims
        assert claims["amr"] == ["cert", "mfa", "otp", "sms"]
        assert claims["acr"] == "urn:palmtrade:loa:2"
