"""Money is integer fen (分); yuan only at the edges, for people to read."""

from __future__ import annotations

from dataclasses import dataclass

from domain.common.errors import InvalidInput


@dataclass(frozen=True, order=True, slots=True)
class Money:
    fen: int

    def __post_init__(self) -> None:
        if not isinstance(self.fen, int) or isinstance(self.fen, bool):
            raise TypeError("Money is integer fen")

    @classmethod
    def of_fen(cls, fen: int, field: str = "amountFen") -> Money:
        if fen < 0:
            raise InvalidInput(field=field)
        return cls(fen)

    def __add__(self, other: Money) -> Money:
        return Money(self.fen + other.fen)

    def __sub__(self, other: Money) -> Money:
        return Money(self.fen - other.fen)

    def percent(self, basis_points: int) -> Money:
        """This amount times basis_points / 10000, rounded down to the fen."""
        return Money(self.fen * basis_points // 10000)

    def yuan_text(self) -> str:
        sign = "-" if self.fen < 0 else ""
        yuan, fen = divmod(abs(self.fen), 100)
        return f"{sign}{yuan:,}.{fen:02d}"
