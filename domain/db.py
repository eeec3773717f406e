"""Database configuration shared by the server, the worker, migrations and tests."""

from __future__ import annotations

import os
from typing import Any

MODEL_MODULES = [
    "domain.common.models",
    "domain.audit.models",
    "domain.accounts.models",
    "domain.credit.models",
    "domain.publication.models",
    "domain.notifications.models",
    "domain.sms.models",
    "domain.registration.models",
    "domain.deposits.models",
    "domain.guarantees.models",
    "domain.auctions.models",
    "domain.tendering.models",
    "domain.evaluation.models",
    "domain.results.models",
    "domain.complaints.models",
    "domain.terminals.models",
    "domain.access.models",
    "domain.supervision.models",
    "domain.certificates.models",
    "domain.documents.models",
]
DEFAULT_DATABASE_URL = "sqlite://data/palmtrade.sqlite3"


def tortoise_config(database_url: str | None = None) -> dict[str, Any]:
    url = database_url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if url.startswith("postgresql://"):
        url = "postgres://" + url.removeprefix("postgresql://")
    return {
        "connections": {"default": url},
        "apps": {
            "palmtrade": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "domain.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def is_postgres(database_url: str) -> bool:
    return database_url.startswith(("postgres://", "postgresql://", "asyncpg://"))


# Read by the `tortoise` command line (`tortoise makemigrations`, `tortoise migrate`).
TORTOISE_ORM = tortoise_config()
