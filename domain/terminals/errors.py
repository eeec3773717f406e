"""Typed failures of terminals and their QR sign-in."""

from __future__ import annotations

from domain.common.errors import DomainError


class TerminalCredentialsInvalid(DomainError):
    """An unknown device, a wrong secret or a deactivated terminal: one answer for all three."""

    code = "TERMINAL_CREDENTIALS_INVALID"
    message_zh = "终端编号或密钥错误，或终端已停用"
    message_en = "Wrong device id or secret, or the terminal is deactivated"


class QrChallengeUnknown(DomainError):
    code = "QR_CHALLENGE_UNKNOWN"
    message_zh = "二维码无效，请在终端上重新获取"
    message_en = "Unknown sign-in code; ask the terminal for a new one"


class QrChallengeExpired(DomainError):
    code = "QR_CHALLENGE_EXPIRED"
    message_zh = "二维码已过期，请在终端上重新获取"
    message_en = "The sign-in code has expired; ask the terminal for a new one"


class QrChallengeAlreadyApproved(DomainError):
    code = "QR_CHALLENGE_ALREADY_APPROVED"
    message_zh = "该二维码已被确认，不能再次确认"
    message_en = "This sign-in code was already approved"


class QrChallengeRedeemed(DomainError):
    code = "QR_CHALLENGE_REDEEMED"
    message_zh = "该二维码已使用，请重新获取"
    message_en = "This sign-in code was already used; ask for a new one"
