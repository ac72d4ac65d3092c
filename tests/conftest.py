"""Shared pytest set-up.

Every module in tests/fixtures/ (not starting with "_") is loaded as a pytest
plugin, so fixture modules can be added without editing this file.
"""

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
sys.path.insert(0, str(TESTS))

pytest_plugins = sorted(
    f"fixtures.{path.stem}" for path in (TESTS / "fixtures").glob("*.py") if not path.name.startswith("_")
)
