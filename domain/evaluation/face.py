"""Face verification (刷脸) for signing without a certificate: the provider behind one small interface.

An expert with no certificate signs a sheet or a report by passing the provider's liveness and identity check
(活体检测 and comparison with the photo of the identity card on record). The platform starts a verification with the
SHA-256 of the content to sign as the provider's pass-through field (Tencent FaceID DetectAuth `Extra`), the expert
completes it on the phone at the provider's link, and the platform then fetches the provider's result
(GetDetectInfoEnhanced) and accepts it only when the verification passed, its pass-through field is the content's
SHA-256 and the identity number verified is the expert's own (compared as the keyed hash the pool keeps).
The adapter (api/faceid.py, Tencent Cloud FaceID through its official SDK) is wired at the composition root.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class FaceSession:
    """A verification started at the provider: its token and the link the expert opens."""

    token: str
    url: str


@dataclass(frozen=True, slots=True)
class FaceResult:
    """What the provider attests of a finished verification (code "0": passed)."""

    code: str
    message: str
    id_number: str | None
    name: str | None
    extra: str | None
    similarity: str | None
    request_id: str | None

    @property
    def passed(self) -> bool:
        return self.code == "0"


class FaceProviderError(Exception):
    """The provider could not be asked (network, authentication, its own error)."""


class FaceVerifier(Protocol):
    name: str

    async def start(self, *, extra: str, name: str | None) -> FaceSession:
        """Starts a verification carrying `extra` back in its result."""
        ...

    async def result(self, token: str) -> FaceResult:
        """The provider's result of a verification (FaceProviderError when it cannot be had)."""
        ...


@dataclass
class Deps:
    verifier: FaceVerifier | None = None


deps = Deps()


def configure(verifier: FaceVerifier | None) -> None:
    """Wires the face-verification provider (None: signing by face is unavailable)."""
    deps.verifier = verifier
