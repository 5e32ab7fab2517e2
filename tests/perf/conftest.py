"""The page fixture of tests/ui (a page of the session Chromium that fails on console errors), shared here."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("ui_fixtures", Path(__file__).parents[1] / "ui" / "conftest.py")
ui_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ui_fixtures)

page = ui_fixtures.page
