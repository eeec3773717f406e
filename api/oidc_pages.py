"""The provider's few server-rendered pages (sign-in, the SMS step, consent, errors), in Chinese and English; every
form carries the CSRF token of its double-submit cookie."""

from __future__ import annotations

from html import escape

import segno
from starlette.responses import HTMLResponse

SCOPE_LABELS = {
    "openid": ("你的平台账号标识", "your platform account identifier"),
    "profile": ("姓名", "your name"),
    "organisation": ("所属市场主体（名称、统一社会信用代码）", "your organisation (name, unified social credit code)"),
    "roles": ("你在平台上的角色", "your roles on the platform"),
    "offline_access": ("在你离开后继续保持登录（刷新令牌）", "staying signed in while you are away (refresh token)"),
}
KIND_LABELS = {
    "engineering": ("工程建设", "engineering construction"),
    "procurement": ("政府采购", "government procurement"),
    "property_rights": ("产权交易", "property rights"),
    "other": ("其他", "other"),
}
SECURITY_HEADERS = {
    "cache-control": "no-store",
    "x-frame-options": "DENY",
    # no form-action: the consent form's answer redirects to the client system
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "referrer-policy": "no-referrer",
}
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}"
    "label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.5rem;box-sizing:border-box}"
    "button{margin-top:1rem;padding:.6rem 1.2rem}.error{color:#b00020}small{color:#555}"
)


def _page(title_zh: str, title_en: str, body: str, status: int = 200, head: str = "") -> HTMLResponse:
    html = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">{head}'
        f"<title>{escape(title_zh)} / {escape(title_en)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(title_zh)}<br><small>{escape(title_en)}</small></h1>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def _error(message: str | None) -> str:
    return f'<p class="error" role="alert">{escape(message)}</p>' if message else ""


def sign_in(action: str, csrf: str, client_name: str, message: str | None = None, status: int = 200) -> HTMLResponse:
    body = (
        f"<p>{escape(client_name)} 请求使用你的掌上交易账号登录<br><small>"
        f"{escape(client_name)} asks you to sign in with your PalmTrade account</small></p>{_error(message)}"
        f'<form method="post" action="{escape(action)}">'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}"><input type="hidden" name="step" value="password">'
        '<label for="phone">手机号 / Phone number</label>'
        '<input id="phone" name="phone" inputmode="numeric" autocomplete="username" required>'
        '<label for="password">密码 / Password</label>'
        '<input id="password" name="password" type="password" autocomplete="current-password" required>'
        '<button type="submit">下一步 / Next</button></form>'
        f'<form method="post" action="{escape(action)}">'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}"><input type="hidden" name="step" value="cert_start">'
        '<button type="submit">数字证书登录（扫码或证书客户端） / Sign in with a certificate</button></form>'
    )
    return _page("登录掌上交易", "Sign in to PalmTrade", body, status)


POLL_SECONDS = 3


def qr_code(payload: str) -> str:
    """The payload as a QR code the app's camera reads off the screen: inline SVG (the page loads nothing, so the
    content security policy stays default-src 'none'), error correction M, a 4-module quiet zone."""
    svg = segno.make(payload, error="m", micro=False).svg_inline(scale=4, border=4, dark="#000", light="#fff")
    return f'<div id="qr-code" role="img" aria-label="二维码 / QR code">{svg}</div>'


def certificate(
    action: str,
    csrf: str,
    client_name: str,
    to_sign: str,
    qr_payload: str,
    poll: bool,
    message: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The certificate sign-in: the one-time text to sign and its QR payload for the PalmTrade app (扫码登录), the page
    reloading itself (no script) until the app approved it (`poll`); or the form for a CA client's signature."""
    hidden = f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
    shown = (
        f'<label for="to-sign">待签内容 / Text to sign</label><textarea id="to-sign" readonly rows="3" '
        f'style="width:100%">{escape(to_sign)}</textarea>'
    )
    if poll:
        body = (
            "<p>请用持有数字证书的掌上交易 App 扫码并确认<br><small>Scan the code with the PalmTrade app holding "
            "your certificate and approve</small></p>"
            f"{qr_code(qr_payload)}"
            f'<pre id="qr" data-qr="{escape(qr_payload)}">{escape(qr_payload)}</pre>{shown}'
            f'<form method="post" action="{escape(action)}">{hidden}<input type="hidden" name="step" value="cert_form">'
            '<button type="submit">改用证书客户端签名 / Sign with a CA client instead</button></form>'
            "<p><small>二维码 2 分钟内有效，本页自动刷新 / The code is valid for 2 minutes; this page refreshes "
            "itself</small></p>"
        )
    else:
        body = (
            "<p>请用证书客户端（U 盾）签署下列内容并粘贴证书和签名<br><small>Sign the text below with your CA "
            "client (USB key) and paste the certificate and the signature</small></p>"
            f'{shown}<form method="post" action="{escape(action)}">{hidden}'
            '<input type="hidden" name="step" value="cert">'
            '<label for="certificate">证书（PEM 或 Base64） / Certificate (PEM or base64)</label>'
            '<textarea id="certificate" name="certificate" rows="6" style="width:100%" required></textarea>'
            '<label for="signature">签名（Base64） / Signature (base64)</label>'
            '<textarea id="signature" name="signature" rows="3" style="width:100%" required></textarea>'
            '<button type="submit">登录 / Sign in</button></form>'
        )
    intro = (
        f"<p>{escape(client_name)} 请求使用你的数字证书登录<br><small>"
        f"{escape(client_name)} asks you to sign in with your certificate</small></p>{_error(message)}"
    )
    head = f'<meta http-equiv="refresh" content="{POLL_SECONDS};url={escape(action)}">' if poll else ""
    return _page("数字证书登录", "Certificate sign-in", intro + body, status, head)


def sms_step(action: str, csrf: str, phone_masked: str, message: str | None = None, status: int = 200) -> HTMLResponse:
    body = (
        f"<p>验证码已发送至 {escape(phone_masked)}<br><small>A code was texted to {escape(phone_masked)}</small></p>"
        f'{_error(message)}<form method="post" action="{escape(action)}">'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}"><input type="hidden" name="step" value="sms">'
        '<label for="code">短信验证码 / SMS code</label>'
        '<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required>'
        '<button type="submit">登录 / Sign in</button></form>'
    )
    return _page("短信验证", "Second factor", body, status)


def consent(action: str, csrf: str, client_name: str, kind: str, scopes: list[str]) -> HTMLResponse:
    kind_zh, kind_en = KIND_LABELS.get(kind, KIND_LABELS["other"])
    items = "".join(
        f"<li>{escape(SCOPE_LABELS[s][0])} <small>{escape(SCOPE_LABELS[s][1])}</small></li>"
        for s in scopes
        if s in SCOPE_LABELS
    )
    body = (
        f"<p>{escape(kind_zh)}系统「{escape(client_name)}」请求获取：<br><small>The {escape(kind_en)} system "
        f"“{escape(client_name)}” asks for:</small></p><ul>{items}</ul>"
        f'<form method="post" action="{escape(action)}">'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}"><input type="hidden" name="step" value="consent">'
        '<button type="submit" name="decision" value="allow">同意 / Allow</button> '
        '<button type="submit" name="decision" value="deny">拒绝 / Deny</button></form>'
        "<p><small>你可以随时在掌上交易中撤销此授权 / "
        "You can withdraw this consent in PalmTrade at any time</small></p>"
    )
    return _page("授权", "Consent", body)


def failure(message_zh: str, message_en: str, status: int = 400) -> HTMLResponse:
    return _page(
        "无法继续", "Cannot continue", f"<p>{escape(message_zh)}<br><small>{escape(message_en)}</small></p>", status
    )


def signed_out() -> HTMLResponse:
    return _page(
        "已退出登录", "Signed out", "<p>你已退出掌上交易登录<br><small>You are signed out of PalmTrade</small></p>"
    )


def logout_confirm(action: str, csrf: str) -> HTMLResponse:
    body = (
        f'<form method="post" action="{escape(action)}"><input type="hidden" name="csrf" value="{escape(csrf)}">'
        '<button type="submit">退出登录 / Sign out</button></form>'
    )
    return _page("退出掌上交易登录？", "Sign out of PalmTrade?", body)
