"""Every area's lifecycle tables, for the docs pages (`make lifecycles`) and the test that walks them.

python -m domain.lifecycles --write   # regenerate docs/lifecycles/<area>.md
python -m domain.lifecycles           # exit 1 when a page is stale
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from domain.accounts import states as accounts
from domain.auctions import states as auctions
from domain.common.lifecycle import Lifecycle, render_page
from domain.complaints import states as complaints
from domain.deposits import states as deposits
from domain.evaluation import states as evaluation
from domain.experts import states as experts
from domain.guarantees import states as guarantees
from domain.negotiation import states as negotiation
from domain.provincial import states as provincial
from domain.publication import states as publication
from domain.registration import states as registration
from domain.results import states as results
from domain.settlement import states as settlement
from domain.tendering import states as tendering
from domain.venues import states as venues

AREAS: list[tuple[str, tuple[Lifecycle[Any], ...]]] = [
    ("accounts", (accounts.TABLE, accounts.ACCREDITATION)),
    ("publication", (publication.TABLE,)),
    ("registration", (registration.TABLE, registration.QUESTION)),
    ("deposits", (deposits.TABLE,)),
    ("guarantees", (guarantees.TABLE,)),
    ("tendering", (tendering.BID, tendering.OPENING)),
    ("evaluation", (evaluation.DRAW, evaluation.EVALUATION)),
    ("experts", (experts.APPLICATION,)),
    ("negotiation", (negotiation.TABLE, negotiation.OFFER)),
    ("results", (results.PUBLICITY, results.TABLE, results.CONTRACT, results.CONTRACT_CHANGE, results.CANCELLATION)),
    ("auctions", (auctions.TABLE, auctions.LISTING)),
    ("complaints", (complaints.OBJECTION, complaints.COMPLAINT, complaints.REPORT)),
    ("settlement", (settlement.TABLE, settlement.INVOICE)),
    ("provincial", (provincial.TABLE,)),
    ("venues", (venues.TABLE,)),
]

DOCS = Path(__file__).resolve().parent.parent / "docs" / "lifecycles"


def page(area: str) -> str:
    """The Markdown page of one area's tables."""
    return render_page(area, dict(AREAS)[area])


def main(argv: list[str]) -> int:
    write = "--write" in argv
    stale = []
    DOCS.mkdir(parents=True, exist_ok=True)
    for area, _ in AREAS:
        path = DOCS / f"{area}.md"
        text = page(area)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        if write:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
        else:
            stale.append(area)
    for area in stale:
        print(f"docs/lifecycles/{area}.md is stale: run `make lifecycles`", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
