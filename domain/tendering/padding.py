"""Size buckets for what is sealed before the opening (bid files, sealed bids): a length tells only its bucket."""

from __future__ import annotations

STEPS = 16  # whole units up to 16 units; above, steps of at most an eighth


def bucket_size(n: int, unit: int) -> int:
    """The padded length of n bytes plus at least one byte of padding: n + 1 rounded up to whole `unit`s up to
    16 units, above that to a step of at most (n + 1) / 8."""
    if n < 0:
        raise ValueError("a size is not negative")
    m = n + 1
    step = unit if m <= STEPS * unit else 1 << (m.bit_length() - 4)
    return -(-m // step) * step


def is_bucket(length: int, unit: int) -> bool:
    """Whether a padded length is exactly a bucket (what bucket_size gives for some content)."""
    return length > 0 and bucket_size(length - 1, unit) == length
