"""The garbage collector of a server process (issue 21): what start-up made is moved out of its sight, so that a
full collection no longer walks the whole application (the schema, the ORM's models, the imported modules: about
300,000 objects) on every pass.

Measured by bench/http_baseline.py (`*_server_gc_*`, query Me at 32 connections, load 12-15): the collector's
share of the server's CPU 18-26 % with full collections pausing 450-520 ms; frozen 7-8 % (pauses up to 56 ms);
frozen with a youngest-generation threshold of 7,000 instead of 700, 4-6 % and no full collection in the window.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass


@dataclass(frozen=True)
class Collector:
    """How the collector was before `settle`, to put it back when the app stops (tests start many apps)."""

    froze: bool
    threshold: tuple[int, int, int]

    def restore(self) -> None:
        if self.froze:
            gc.unfreeze()
        gc.set_threshold(*self.threshold)


def settle(freeze: bool, gen0_threshold: int) -> Collector:
    """After start-up: collects once, freezes what survived when `freeze` (CPython keeps frozen objects out of
    every collection; they are still freed when their last reference goes), and sets the youngest generation's
    threshold when `gen0_threshold` is not 0."""
    before = Collector(froze=freeze, threshold=gc.get_threshold())
    gc.enable()  # `python -m api.manage` starts with the collector off (api/manage.py)
    if freeze:
        gc.collect()
        gc.freeze()
    if gen0_threshold:
        gc.set_threshold(gen0_threshold, *before.threshold[1:])
    return before
