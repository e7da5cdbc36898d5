"""Both generations of the official ClickSend SDK, each in a directory of its own (they share
the PyPI name ``clicksend-client``). Their dependencies are dev dependencies of the project.

``python -m tests.dialects.clicksend.sdks`` installs them ahead of a test run (CI does).
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType

SDK5_VERSION = "5.0.91"
SDK6_VERSION = "6.0.2"
# Under var/ (ignored by git): installed once, reused by later runs.
SDK_ROOT = Path(__file__).resolve().parents[3] / "var" / "clicksend-sdk"


def install_sdk(version: str) -> Path:
    """``clicksend-client==version`` in ``var/clicksend-sdk/<version>`` unless it is there."""
    target = SDK_ROOT / version
    if not (target / f"clicksend_client-{version}.dist-info").is_dir():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--target",
                str(target),
                f"clicksend-client=={version}",
            ],
            check=True,
        )
    return target


def import_sdk(version: str, name: str) -> ModuleType:
    directory = str(install_sdk(version))
    if directory not in sys.path:
        sys.path.insert(0, directory)
    return importlib.import_module(name)


if __name__ == "__main__":
    for version in (SDK5_VERSION, SDK6_VERSION):
        print(install_sdk(version))
