"""Chinese full-text search: jieba segmentation, SQLite FTS5 or a PostgreSQL GIN tsvector."""

from __future__ import annotations

import re
from functools import lru_cache

import jieba

jieba.setLogLevel(60)
_KEEP = re.compile(r"[\w\u4e00-\u9fff]+")


@lru_cache(maxsize=1)
def _tokenizer() -> jieba.Tokenizer:
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def tokens(text: str) -> list[str]:
    """Search tokens of a text: jieba's search-mode words, lower-cased, punctuation dropped."""
    out = []
    for word in _tokenizer().cut_for_search(text):
        word = word.strip().lower()
        if word and _KEEP.fullmatch(word):
            out.append(word)
    return out


def segment(text: str) -> str:
    """The space-separated token string stored with an announcement and indexed."""
    return " ".join(tokens(text))


def query_terms(query: str) -> list[str]:
    """The terms a query must all match: the coarse words of precise mode (道路 2026 施工)."""
    terms: list[str] = []
    for word in _tokenizer().cut(query):
        word = word.strip().lower()
        if word and _KEEP.fullmatch(word) and word not in terms:
            terms.append(word)
    return terms
