"""graphql-codegen, configured for app teams (tests/clients/node/codegen.ts), generates TypeScript types and
Apollo's possibleTypes from the published contract without errors."""

from __future__ import annotations

import asyncio
import json
import os
import shutil

from tests.clients.support import NODE_PACKAGE, node


async def test_graphql_codegen_generates_from_the_contract(tmp_path):
    # given the contract's schema and operations, and graphql-codegen from the npm registry
    npx = shutil.which("npx", path=os.path.dirname(node()))
    assert npx is not None, "npx comes with npm"

    # when the app teams' configuration runs
    process = await asyncio.create_subprocess_exec(
        npx,
        "--no-install",
        "graphql-codegen",
        "--config",
        "codegen.ts",
        cwd=NODE_PACKAGE,
        env={**os.environ, "OUT": str(tmp_path)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 300)

    # then it succeeds with operation types and the possible types of every union and interface
    assert process.returncode == 0, out.decode()
    types = (tmp_path / "types.ts").read_text()
    assert "export type AnnouncementListQuery = " in types
    assert "export type SignInMutation = " in types
    possible = json.loads((tmp_path / "possibleTypes.json").read_text())["possibleTypes"]
    assert "SignedIn" in possible["AuthLoginResult"]
    assert len(possible["Error"]) > 10
