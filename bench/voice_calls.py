"""Concurrent voice calls: how many calls one process holds with its audio on time.

    python bench/voice_calls.py [--calls 100] [--seconds 20]

Places ``calls`` calls at once through one SIP trunk (UDP) to the phone network simulator
running in a separate process, each playing ``seconds`` of speech as 20 ms RTP packets, and
prints:

- the far end's view of each call's audio: RFC 3550 interarrival jitter (mean, 95th
  percentile, worst call) and packets received against packets sent: the target is jitter
  under 5 ms;
- the calling process's CPU time over the calls, as a share of one core (the target is 100
  calls on one core), and the media clock's late ticks (woken more than 20 ms after time);
- the host's load average before and after, since the machine is shared.

The last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from tidings import runtime
from tidings.net.rtp import MediaClock
from tidings.net.sip import SipTrunk
from tidings.rtp.ports import PortRange
from tidings.sip.call import CallConfig, Outcome
from tidings.voice.caller import CallReport, Script, place_call
from tidings.voice.tts import EspeakEngine, Gender

ROOT = Path(__file__).resolve().parent.parent
TEXT = (
    "Hello, this is a reminder from your dental practice. Your appointment is on Thursday "
    "at ten past nine in the morning. Please call us if you cannot make it. Thank you."
)


async def far_end() -> None:
    """The phone network, answering every call at once; its calls' figures on stdin's end."""
    from tidings.simulator.phones import Behaviour, PhoneNetwork, PhoneNetworkConfig, PhoneRule

    rules = (PhoneRule(Behaviour.ANSWER, ring_seconds=0.0),)
    network = PhoneNetwork(
        PhoneNetworkConfig(rtp_ports=(41000, 42999), rules=rules, calls_per_number=1)
    )
    await network.start()
    print(f"READY {network.sip_port}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    calls = [
        {"jitter_ms": call.jitter_ms, "packets": call.packets, "outcome": call.outcome}
        for number in list(network._calls)
        for call in network.calls(number)
    ]
    cpu = time.process_time()
    await network.stop()
    print(json.dumps({"calls": calls, "cpu_s": cpu}), flush=True)


def speech(seconds: float) -> np.ndarray:
    engine = EspeakEngine()
    if engine.available():
        spoken = engine.render(TEXT, "en-us", Gender.FEMALE).samples
    else:
        t = np.arange(8000) / 8000
        spoken = (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)
    repeats = int(np.ceil(seconds * 8000 / len(spoken)))
    return np.tile(spoken, repeats)[: int(seconds * 8000)]


async def bench(calls: int, seconds: float) -> dict[str, object]:
    load_before = os.getloadavg()
    far = subprocess.Popen(  # noqa: ASYNC220 - started once, before any call
        [sys.executable, __file__, "--far-end"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert far.stdout is not None and far.stdin is not None
    ready = far.stdout.readline().split()
    port = int(ready[1])
    audio = speech(seconds)
    trunk = SipTrunk("127.0.0.1", port)
    await trunk.open()
    clock = MediaClock()
    ports = PortRange(43000, 44999)
    loop = asyncio.get_running_loop()

    async def one(index: int) -> CallReport:
        # Spread the INVITEs over a second, as a dispatcher's queue would.
        await asyncio.sleep(index / calls)
        config = CallConfig(
            target=f"sip:+614{index:08d}@127.0.0.1:{port}",
            from_uri="sip:+61400000000@bench.test",
            local_host=trunk.local_host,
            local_port=trunk.local_port,
        )
        return await place_call(trunk, config, Script(audio, repeat=0), ports=ports, clock=clock)

    cpu_start, wall_start = time.process_time(), loop.time()
    reports = await asyncio.gather(*(one(i) for i in range(calls)), return_exceptions=True)
    cpu, wall = time.process_time() - cpu_start, loop.time() - wall_start
    await clock.stop()
    await trunk.close()
    far.stdin.close()
    far_figures = json.loads(far.stdout.readline())
    far.wait(30)
    load_after = os.getloadavg()

    completed = [
        r for r in reports if not isinstance(r, BaseException) and r.outcome is Outcome.COMPLETED
    ]  # type: ignore[union-attr]
    failures = [repr(r) for r in reports if r not in completed][:3]
    jitters = sorted(c["jitter_ms"] for c in far_figures["calls"] if c["packets"])
    expected_packets = int(np.ceil(len(audio) / 160))
    received = [c["packets"] for c in far_figures["calls"] if c["packets"]]
    return {
        "calls": calls,
        "completed": len(completed),
        "failures": failures,
        "speech_seconds": seconds,
        "wall_s": round(wall, 2),
        "caller_cpu_s": round(cpu, 2),
        # The calls overlap for about `seconds`; CPU over the whole run as a share of one core.
        "caller_core_share": round(cpu / wall, 3),
        "far_end_cpu_s": round(far_figures["cpu_s"], 2),
        "media_clock_ticks": clock.ticks,
        "media_clock_late_ticks": clock.late_ticks,
        "tick_lateness_ms_mean": round(1000 * clock.lateness_total / max(clock.ticks, 1), 3),
        "tick_lateness_ms_max": round(1000 * clock.lateness_max, 3),
        "ticks_over_5ms": clock.ticks_over_5ms,
        "jitter_ms_mean": round(statistics.fmean(jitters), 3) if jitters else None,
        "jitter_ms_median": round(statistics.median(jitters), 3) if jitters else None,
        "jitter_ms_p95": round(jitters[int(0.95 * (len(jitters) - 1))], 3) if jitters else None,
        "calls_under_5ms": sum(1 for j in jitters if j < 5.0),
        "jitter_ms_max": round(jitters[-1], 3) if jitters else None,
        # Audio packets sent per call, then the linger's silence: received at least the audio.
        "packets_expected_min": expected_packets,
        "packets_received_min": min(received) if received else 0,
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in load_after],
    }


def report(figures: dict[str, object]) -> None:
    print(
        f"{figures['completed']}/{figures['calls']} calls completed, "
        f"{figures['speech_seconds']} s of speech each, in {figures['wall_s']} s"
    )
    print(
        f"  caller CPU {figures['caller_cpu_s']} s = {figures['caller_core_share']:.0%} of one "
        f"core; far end CPU {figures['far_end_cpu_s']} s"
    )
    print(
        f"  jitter at the far end (RFC 3550): mean {figures['jitter_ms_mean']} ms, median "
        f"{figures['jitter_ms_median']} ms, p95 {figures['jitter_ms_p95']} ms, worst call "
        f"{figures['jitter_ms_max']} ms; {figures['calls_under_5ms']} calls under 5 ms"
    )
    print(
        f"  our media clock: ticks late by {figures['tick_lateness_ms_mean']} ms on average, "
        f"worst {figures['tick_lateness_ms_max']} ms, {figures['ticks_over_5ms']} of "
        f"{figures['media_clock_ticks']} ticks over 5 ms"
    )
    print(f"  load average before {figures['load_before']}, after {figures['load_after']}")
    if figures["failures"]:
        print(f"  failures: {figures['failures']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--far-end", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.far_end:
        runtime.run(far_end())
        return
    # One call first, on the same host a moment earlier: what the host alone does to jitter.
    alone = runtime.run(bench(1, args.seconds))
    print("one call (the host's own noise):")
    report(alone)
    many = runtime.run(bench(args.calls, args.seconds))
    print(f"{args.calls} calls at once:")
    report(many)
    print(json.dumps({"one_call": alone, "many_calls": many}))


if __name__ == "__main__":
    main()
