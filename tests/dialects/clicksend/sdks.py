"""Both generations of the official ClickSend SDK, each in a directory of its own (they share
the PyPI name ``clicksend-client``). Their dependencies are dev dependencies of the project.

``python -m tests.dialects.clicksend.sdks`` installs them ahead of a test run (CI does).
"""

from __future__ import annotations

import contextlib
import importlib
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

SDK5_VERSION = "5.0.91"
SDK6_VERSION = "6.0.2"
# Under var/ (ignored by git): installed once, reused by later runs.
SDK_ROOT = Path(__file__).resolve().parents[3] / "var" / "clicksend-sdk"


def install_sdk(version: str) -> Path:
    """``clicksend-client==version`` in ``var/clicksend-sdk/<version>`` unless it is there."""
    target = SDK_ROOT / version
    installed = target / f"clicksend_client-{version}.dist-info"
    if installed.is_dir():
        return target
    # Parallel test workers may install at the same time: each installs into a directory of its
    # own and renames it into place, and the one that comes second drops its copy.
    SDK_ROOT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{version}-", dir=SDK_ROOT) as staging:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--target",
                str(Path(staging) / "sdk"),
                f"clicksend-client=={version}",
            ],
            check=True,
        )
        with contextlib.suppress(OSError):  # another worker's copy is in place already
            (Path(staging) / "sdk").rename(target)
    if not installed.is_dir():
        raise RuntimeError(f"{target} is not a clicksend-client {version}: remove it")
    return target


def import_sdk(version: str, name: str) -> ModuleType:
    directory = str(install_sdk(version))
    if directory not in sys.path:
        sys.path.insert(0, directory)
    return importlib.import_module(name)


if __name__ == "__main__":
    for version in (SDK5_VERSION, SDK6_VERSION):
        print(install_sdk(version))
