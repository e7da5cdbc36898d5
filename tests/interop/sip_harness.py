"""Independent SIP peers on 127.0.0.1 for the voice channel: SIPp and baresip.

SIPp runs one scenario (peers/sipp/*.xml) for one call and exits 0 only when every check in
it held; its message trace is kept for the failure message. baresip runs as an auto-answering
phone that records what it hears (its sndfile module) and can press keys (ctrl_tcp).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tests.interop.harness import PEERS_DIR, peer_unavailable
from tests.ports import free_udp_port

SIPP_DIR = PEERS_DIR / "sipp"
SIPP_DTMF_PCAP = Path("/usr/share/sip-tester/dtmf_2833_5.pcap")


def sipp_missing() -> str | None:
    if shutil.which("sipp") is None:
        return "SIPp is not installed (Debian package sip-tester)"
    return None


def _udp_bound(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


@dataclass
class Sipp:
    process: subprocess.Popen[bytes]
    port: int
    media_port: int
    trace: Path
    errors: Path

    def finish(self, timeout: float = 30.0) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            return self.process.wait(5)

    def describe(self) -> str:
        text = ""
        for path in (self.errors, self.trace):
            if path.exists():
                text += f"--- {path.name}\n{path.read_text(errors='replace')[-6000:]}\n"
        return text


@contextlib.contextmanager
def running_sipp(
    scenario: str,
    workdir: Path,
    *,
    rtp_echo: bool = False,
    replacements: dict[str, str] | None = None,
) -> Iterator[Sipp]:
    reason = sipp_missing()
    if reason is not None:
        peer_unavailable(reason)
    text = (SIPP_DIR / scenario).read_text()
    for old, new in (replacements or {}).items():
        text = text.replace(old, new)
    path = workdir / scenario
    path.write_text(text)
    port = free_udp_port()
    media_port = free_udp_port(even=True)
    trace = workdir / "sipp-messages.log"
    errors = workdir / "sipp-errors.log"
    argv = [
        "sipp",
        "-sf",
        str(path),
        "-i",
        "127.0.0.1",
        "-p",
        str(port),
        "-mi",
        "127.0.0.1",
        "-mp",
        str(media_port),
        "-m",
        "1",
        "-timeout",
        "60s",
        "-nostdin",
        "-trace_msg",
        "-message_file",
        str(trace),
        "-trace_err",
        "-error_file",
        str(errors),
    ]
    if rtp_echo:
        argv.append("-rtp_echo")
    process = subprocess.Popen(
        argv,
        cwd=workdir,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sipp = Sipp(process, port, media_port, trace, errors)
    try:
        deadline = time.monotonic() + 10
        while not _udp_bound(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"sipp did not start\n{sipp.describe()}")
            time.sleep(0.02)
        yield sipp
    finally:
        if process.poll() is None:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(5)
        if process.poll() is None:
            process.kill()
            process.wait()


def correlation(
    reference: npt.NDArray[np.int16], heard: npt.NDArray[np.int16], max_lag: int = 4000
) -> float:
    """The best normalised correlation of ``heard`` against ``reference`` within ±``max_lag``."""
    a = reference.astype(np.float64)
    b = heard.astype(np.float64)
    if not len(a) or not len(b) or not a.any() or not b.any():
        return 0.0
    size = 1 << int(np.ceil(np.log2(len(a) + len(b))))
    spectrum = np.fft.rfft(b, size) * np.conj(np.fft.rfft(a, size))
    full = np.fft.irfft(spectrum, size)
    lags = np.concatenate([full[: max_lag + 1], full[-max_lag:]])
    return float(lags.max() / (np.linalg.norm(a) * np.linalg.norm(b)))
