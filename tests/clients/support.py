"""What the client tests need from the machine: Node with tests/clients/node installed, Debian's Chromium.

Locally a test skips, saying what is missing; with CI_REQUIRE_CLIENTS=1 (.ci/run sets it after installing
them) a missing tool fails the test instead, so CI never passes by skipping.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

NODE_PACKAGE = Path(__file__).resolve().parent / "node"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


def require(ok: bool, reason: str) -> None:
    if ok:
        return
    if os.environ.get("CI_REQUIRE_CLIENTS") == "1":
        pytest.fail(f"{reason} (CI_REQUIRE_CLIENTS=1: .ci/run installs it)")
    pytest.skip(reason)


def node() -> str:
    found = shutil.which("node")
    require(found is not None, "Node.js is not installed (apt-get install nodejs npm)")
    require(
        (NODE_PACKAGE / "node_modules" / "@apollo" / "client").is_dir(),
        "the client packages are not installed: npm ci --prefix tests/clients/node",
    )
    assert found is not None
    return found


def chromium() -> str:
    require(Path(CHROMIUM).is_file(), f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM
