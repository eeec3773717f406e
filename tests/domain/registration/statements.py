"""Counting the SQL statements code sends (either backend): every execute_* of every tortoise client class wrapped,
the outermost call counted once (BEGIN/COMMIT are not among them)."""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Iterator
from typing import Any

import pytest
from tortoise.backends.base.client import BaseDBAsyncClient

_METHODS = ("execute_insert", "execute_many", "execute_query", "execute_query_dict", "execute_script")
_inside = contextvars.ContextVar("inside", default=False)


def _classes(root: type) -> Iterator[type]:
    for sub in root.__subclasses__():
        yield sub
        yield from _classes(sub)


@contextlib.contextmanager
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The statements sent inside the block, in order."""
    sent: list[str] = []

    def counted(method: Any) -> Any:
        @functools.wraps(method)
        async def wrapper(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            if _inside.get():
                return await method(self, query, *args, **kwargs)
            sent.append(query)
            token = _inside.set(True)
            try:
                return await method(self, query, *args, **kwargs)
            finally:
                _inside.reset(token)

        return wrapper

    with monkeypatch.context() as patch:
        for cls in {BaseDBAsyncClient, *_classes(BaseDBAsyncClient)}:
            for name in _METHODS:
                if name in vars(cls):
                    patch.setattr(cls, name, counted(vars(cls)[name]))
        yield sent
