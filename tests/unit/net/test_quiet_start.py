"""A tidings process starts without noise on stderr: loading every route kind (the sftp kind
brings asyncssh, which makes cryptography warn about DSA on import) prints nothing."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.once


def test_loading_the_service_and_every_route_kind_prints_nothing() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", "import tidings.service, tidings.dispatch.transports"],
        capture_output=True,
        text=True,
        # Warnings shown as a plain run shows them, whatever the test run's own filters are.
        env={**os.environ, "PYTHONWARNINGS": "default"},
        timeout=120,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stderr == ""
