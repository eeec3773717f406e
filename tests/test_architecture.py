"""The direction of imports (api -> schema -> domain; domain knows no web framework) holds."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept():
    # when import-linter checks the contracts in pyproject.toml
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"
    run = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, check=False)

    # then none is broken
    assert run.returncode == 0, run.stdout + run.stderr
