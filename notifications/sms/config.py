"""The SMS providers a deployment configured (SMS_PROVIDERS, ALIYUN_SMS_*, TENCENT_SMS_*; README: SMS)."""

from __future__ import annotations

from collections.abc import Mapping

from domain.sms.services import SIGN_NAME, TEMPLATES
from notifications.sms.base import SmsProvider


class SmsConfigError(ValueError):
    """A provider named in SMS_PROVIDERS lacks a setting it needs."""


def templates(value: str | None, provider: str) -> dict[str, str]:
    """`login_code=SMS_123,expert_login_code=SMS_456` -> {key: provider template}; every key must be a template
    the platform has (domain/sms/services.py), and every platform template must be mapped."""
    pairs = {}
    for item in (value or "").split(","):
        key, _, code = item.strip().partition("=")
        if key:
            if key not in TEMPLATES or not code.strip():
                raise SmsConfigError(f"{provider.upper()}_SMS_TEMPLATES: {item.strip()!r} is not key=template-code")
            pairs[key] = code.strip()
    missing = sorted(set(TEMPLATES) - set(pairs))
    if missing:
        raise SmsConfigError(f"{provider.upper()}_SMS_TEMPLATES lacks {', '.join(missing)}")
    return pairs


def _need(values: Mapping[str, str], *names: str) -> list[str]:
    absent = [n for n in names if not values.get(n)]
    if absent:
        raise SmsConfigError(f"SMS: {', '.join(absent)} must be set")
    return [values[n] for n in names]


def providers(names: tuple[str, ...], values: Mapping[str, str]) -> list[SmsProvider]:
    """The providers in failover order, each built with its official SDK client."""
    built: list[SmsProvider] = []
    for name in names:
        if name == "aliyun":
            from notifications.sms.aliyun import AliyunSms

            key_id, secret = _need(values, "ALIYUN_SMS_ACCESS_KEY_ID", "ALIYUN_SMS_ACCESS_KEY_SECRET")
            built.append(
                AliyunSms(
                    key_id,
                    secret,
                    values.get("ALIYUN_SMS_SIGN_NAME", SIGN_NAME),
                    templates(values.get("ALIYUN_SMS_TEMPLATES"), "aliyun"),
                    endpoint=values.get("ALIYUN_SMS_ENDPOINT", "dysmsapi.aliyuncs.com"),
                    protocol=values.get("ALIYUN_SMS_PROTOCOL", "https"),
                )
            )
        elif name == "tencent":
            from notifications.sms.tencent import TencentSms

            secret_id, secret_key, app_id = _need(
                values, "TENCENT_SMS_SECRET_ID", "TENCENT_SMS_SECRET_KEY", "TENCENT_SMS_SDK_APP_ID"
            )
            built.append(
                TencentSms(
                    secret_id,
                    secret_key,
                    app_id,
                    values.get("TENCENT_SMS_SIGN_NAME", SIGN_NAME),
                    templates(values.get("TENCENT_SMS_TEMPLATES"), "tencent"),
                    {key: t.params for key, t in TEMPLATES.items()},
                    endpoint=values.get("TENCENT_SMS_ENDPOINT", "sms.tencentcloudapi.com"),
                    scheme=values.get("TENCENT_SMS_SCHEME", "https"),
                )
            )
    return built
