"""jieba segmentation once per distinct text run, checked against search.segment itself."""

from __future__ import annotations

import itertools
import random
from functools import lru_cache

import jieba

from api.bulk_seed.plans import Publication
from domain.publication import search

CHECKED_PER_BATCH = 5  # announcements per batch whose segmentation is compared with search.segment

_RUNS = jieba.re_han_default  # the runs jieba's default mode cuts one at a time


@lru_cache(maxsize=500_000)
def _run_tokens(run: str) -> tuple[str, ...]:
    return tuple(search.tokens(run))


def segment(text: str) -> str:
    """search.segment(text), reusing the tokens of text runs seen before (checked against it per batch)."""
    return " ".join(itertools.chain.from_iterable(_run_tokens(run) for run in _RUNS.split(text) if run))


def check_segmentation(batch: list[Publication], rng: random.Random, first: bool) -> None:
    """Stops the seeding if the shortcut ever differs from search.segment itself."""
    sample = batch[:50] if first else rng.sample(batch, min(len(batch), CHECKED_PER_BATCH))
    for pub in sample:
        expected = search.segment(f"{pub.title}\n{pub.body_text}")
        if pub.search_text != expected:
            raise RuntimeError(f"segmentation differs from search.segment for {pub.title!r}; not seeding")
