"""``bench/crash.py`` at a small size: ``kill -9`` of the service while it accepts and while it
dispatches loses no message, and the handsets get no more duplicates than one status-writer
batch (plus a window) allows.

The writer batch is 100 here (bound 200): at 2,000 messages the default (bound 1,100) could not
be exceeded even without back-pressure, which left 728 duplicates in this run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.once

BENCH = Path(__file__).parents[3] / "bench" / "crash.py"


def test_kill_9_loses_nothing_and_duplicates_stay_within_the_bound() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--messages", "2000", "--writer-batch", "100"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    phases = json.loads(result.stdout.strip().splitlines()[-1])
    assert [p["phase"] for p in phases] == ["accept", "dispatch"]
    for figures in phases:
        assert figures["lost"] == 0, figures
        assert figures["stored"] == figures["answered"] == 2000, figures
        assert figures["stored_twice"] == 0, figures
        assert figures["bound"] == 200, figures
        assert figures["duplicates"] <= figures["bound"], figures
