"""An award waits for a pending objection in any process that builds its services at the composition root
(domain/wiring), also one whose own code never imported domain/complaints: before, complaints appended its
checks to results' list when it was imported, and a process that never imported it awarded silently."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import timedelta
from pathlib import Path

from domain.complaints import objections
from domain.results import services as results
from tests.support.complaints import evidence, interested_party
from tests.support.results import evaluated_lot

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = """
import asyncio, json, sys
from datetime import datetime

from domain.results import services as results

loaded = sorted(m for m in sys.modules if m.startswith("domain.complaints.") and m != "domain.complaints.models")

from domain.wiring import wire

wire()

from tortoise import Tortoise

from domain.common import clock
from domain.common.actors import Actor, Role
from domain.common.clock import ManualClock
from domain.db import tortoise_config


async def main():
    await Tortoise.init(config=tortoise_config({url!r}))
    clock.set_clock(ManualClock(datetime.fromisoformat({now!r})))
    tenderer = Actor(user_id={user_id}, org_id={org_id}, roles=frozenset(Role(r) for r in {roles!r}))
    try:
        await results.award(tenderer, {lot_id})
        outcome = "awarded"
    except results.LotPaused as paused:
        outcome = paused.params["reason"]
    finally:
        await Tortoise.close_connections()
    print(json.dumps({{"loaded": loaded, "outcome": outcome}}))


asyncio.run(main())
"""


async def test_a_process_that_never_imported_complaints_still_waits_for_the_objection(db, manual_clock):
    # given candidates publicised and an objection to them not yet answered
    t, _ = await evaluated_lot(manual_clock, [1_000_000, 1_100_000, 1_200_000])
    await results.publish_candidates(t.tenderer, t.lot.id)
    objector = await interested_party()
    await objections.raise_objection(objector, t.lot.id, "publicity", "第一名业绩不实", evidence())

    # when, after the publicity, a fresh interpreter (as a worker or a script is) that imports results and
    # builds the composition root, never domain/complaints itself, awards the lot
    script = SCRIPT.format(
        url=db.url,
        now=(manual_clock.now() + timedelta(days=3, seconds=1)).isoformat(),
        user_id=t.tenderer.user_id,
        org_id=t.tenderer.org_id,
        roles=sorted(r.value for r in t.tenderer.roles),
        lot_id=t.lot.id,
    )
    run = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await run.communicate()
    assert run.returncode == 0, err.decode()
    found = json.loads(out.decode().strip().splitlines()[-1])

    # then its own imports had not loaded complaints, and the award is paused by the objection all the same
    assert found["loaded"] == []
    assert found["outcome"] == "objection_unanswered"
