"""Where the browser tests write their screenshots: a folder of the test run, or the one asked for.

A test run leaves the repository as it was: screenshots go to a temporary folder unless
`BIANMIN_SCREENSHOT_DIR` names one (`BIANMIN_SCREENSHOT_DIR=docs/screenshots` refreshes the documentation's,
as for the Kivy windows' tests: tests/support/kivy_window.py `keep_screenshots`).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def screenshot_dir() -> Path:
    asked = os.environ.get("BIANMIN_SCREENSHOT_DIR")
    if asked:
        return Path(asked).resolve()
    return Path(tempfile.gettempdir()) / f"bianmin-screenshots-{os.getuid()}"


SCREENSHOTS = screenshot_dir()
