"""What holds a publication back: files of the notice (and of its lot's tender documents) not yet scanned for
malware, because the scanner was down when they arrived. The chronograph scans them again
(documents.rescan_pending); the publication is never made with them unscanned."""

from __future__ import annotations

from domain.documents.errors import ScanPending
from domain.documents.models import Document


async def ensure_scanned(owners: list[tuple[str, int]]) -> None:
    """ScanPending while a current document of any of these objects waits for its malware scan."""
    for owner_type, owner_id in owners:
        if await Document.exists(
            owner_type=owner_type, owner_id=owner_id, superseded_by_id=None, scan_status="pending"
        ):
            raise ScanPending(state="pending")
