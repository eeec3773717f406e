"""The typed per-request context every resolver receives."""

from dataclasses import dataclass, field
from typing import Any

from strawberry.dataloader import DataLoader

from domain.accounts.models import Organisation
from domain.common.actors import ANONYMOUS, Actor
from domain.common.events import EventBus


async def _load_organisations(keys: list[int]) -> list[Organisation | None]:
    found = {o.id: o for o in await Organisation.filter(id__in=keys)}
    return [found.get(k) for k in keys]


@dataclass
class Loaders:
    """DataLoaders live for one request (or one subscription), never longer."""

    organisation: DataLoader[int, Organisation | None] = field(
        default_factory=lambda: DataLoader(load_fn=_load_organisations)
    )


@dataclass
class Context:
    request: Any
    response: Any
    actor: Actor = ANONYMOUS
    locale: str = "zh"
    request_id: str = "-"
    bus: EventBus | None = None
    max_page_size: int = 100
    services: Any = None
    loaders: Loaders = field(default_factory=Loaders)
    connection_params: dict[str, Any] | None = None


def locale_from(accept_language: str | None) -> str:
    """zh-CN unless the caller's first preference is English."""
    if not accept_language:
        return "zh"
    first = accept_language.split(",")[0].strip().lower()
    return "en" if first.startswith("en") else "zh"
