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
    tcp: bool = False,
) -> Iterator[Sipp]:
    reason = sipp_missing()
    if reason is not None:
        peer_unavailable(reason)
    text = (SIPP_DIR / scenario).read_text()
    for old, new in (replacements or {}).items():
        text = text.replace(old, new)
    path = workdir / scenario
    path.write_text(text)
    port = _free_block(2) if tcp else free_udp_port()
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
    if tcp:
        argv += ["-t", "t1"]
    process = subprocess.Popen(
        argv,
        cwd=workdir,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sipp = Sipp(process, port, media_port, trace, errors)
    try:
        deadline = time.monotonic() + 30
        while not (_tcp_listening(port) if tcp else _udp_bound(port)):
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


def baresip_missing() -> str | None:
    if shutil.which("baresip") is None:
        return "baresip is not installed (Debian package baresip-core)"
    modules = Path("/usr/lib/baresip/modules")
    for module in ("g711.so", "aufile.so", "sndfile.so", "ctrl_tcp.so", "account.so", "menu.so"):
        if not (modules / module).exists():
            return f"baresip's {module} is not installed"
    return None


@dataclass
class Baresip:
    process: subprocess.Popen[bytes]
    port: int
    control_port: int
    recordings: Path
    log: Path

    def heard(self) -> npt.NDArray[np.int16]:
        """What baresip decoded from our RTP (its sndfile module's `-dec.wav`)."""
        import wave

        files = sorted(self.recordings.glob("*-dec.wav"))
        assert files, f"baresip recorded nothing\n{self.describe()}"
        with wave.open(str(files[-1]), "rb") as reader:
            assert reader.getframerate() == 8000
            return np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2").astype(
                np.int16
            )

    def press(self, digit: str) -> None:
        """Press a key on the phone (ctrl_tcp's netstring JSON command `sndcode`)."""
        import json

        body = json.dumps({"command": "sndcode", "params": digit, "token": "k"}).encode()
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=30) as control:
            control.sendall(str(len(body)).encode() + b":" + body + b",")
            answer = control.recv(1000)
        assert b'"ok":true' in answer, answer

    def describe(self) -> str:
        return self.log.read_text(errors="replace")[-6000:] if self.log.exists() else ""


def _free_block(size: int) -> int:
    """An even port with the ``size`` ports from it free on UDP and TCP."""
    for _ in range(200):
        base = free_udp_port(even=True)
        free = True
        for port in range(base, base + size):
            for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                with socket.socket(socket.AF_INET, kind) as probe:
                    try:
                        probe.bind(("127.0.0.1", port))
                    except OSError:
                        free = False
        if free:
            return base
    raise RuntimeError("no free block of ports")


def _tcp_listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def running_baresip(workdir: Path, *, auto_answer: bool = True) -> Iterator[Baresip]:
    """baresip as a phone on 127.0.0.1 answering every call (or ringing until cancelled)."""
    reason = baresip_missing()
    if reason is not None:
        peer_unavailable(reason)
    import wave

    config_dir = workdir / "baresip"
    recordings = config_dir / "recordings"
    recordings.mkdir(parents=True)
    source = config_dir / "silence.wav"
    with wave.open(str(source), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(8000)
        writer.writeframes(b"\0\0" * 8000 * 60)
    # baresip takes a block: SIP on UDP and TCP at the base, TLS above it, its control port,
    # then RTP ports.
    port = _free_block(16)
    control_port = port + 2
    rtp_low = port + 4
    (config_dir / "config").write_text(
        "\n".join(
            [
                "poll_method epoll",
                f"sip_listen 127.0.0.1:{port}",
                "sip_trans_def udp",
                "call_local_timeout 120",
                f"audio_source aufile,{source}",
                "audio_player aufile,/dev/null",
                "audio_alert aufile,/dev/null",
                "ausrc_srate 8000",
                "auplay_srate 8000",
                "ausrc_channels 1",
                "auplay_channels 1",
                f"rtp_ports {rtp_low}-{rtp_low + 11}",
                "module_path /usr/lib/baresip/modules",
                "module g711.so",
                "module aufile.so",
                "module sndfile.so",
                "module_app account.so",
                "module_app menu.so",
                "module_app ctrl_tcp.so",
                f"ctrl_tcp_listen 127.0.0.1:{control_port}",
                f"snd_path {recordings}",
                "",
            ]
        )
    )
    answer = "auto" if auto_answer else "manual"
    (config_dir / "accounts").write_text(
        f"<sip:phone@127.0.0.1>;regint=0;answermode={answer};audio_codecs=PCMU,PCMA\n"
    )
    (config_dir / "contacts").write_text("")
    log = workdir / "baresip.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["baresip", "-f", str(config_dir)],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    phone = Baresip(process, port, control_port, recordings, log)
    try:
        deadline = time.monotonic() + 30
        while not (_udp_bound(port) and _tcp_listening(control_port)):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"baresip did not start\n{phone.describe()}")
            time.sleep(0.05)
        yield phone
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
