"""docs/plugins.md is what the plugins' `--about` says today."""

from __future__ import annotations

import subprocess
import sys

from interop_tools import REPO


def test_plugin_settings_page_is_current():
    result = subprocess.run(
        [sys.executable, "docs/gen_plugin_docs.py", "--check"], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
