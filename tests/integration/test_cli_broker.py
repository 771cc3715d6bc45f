"""`veille broker` prints a bootstrap address that works, and stops cleanly on a signal."""

import os
import signal
import subprocess
import sys

import pytest

from agents.brokers import probe_metadata


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_broker_command_prints_bootstrap_and_stops(sig):
    proc = subprocess.Popen([sys.executable, "-m", "agents.cli", "broker"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        bootstrap = proc.stdout.readline().strip()
        assert bootstrap.startswith("127.0.0.1:")
        assert probe_metadata(bootstrap)
        # the command blocks the signals to sigwait for them; its broker must not inherit
        # that mask (it ignored its stop signal: SIGKILLed 10 s later)
        children = _children(proc.pid)
        assert children and all(not _blocked(pid) & _bits(signal.SIGINT, signal.SIGTERM)
                                for pid in children), [hex(_blocked(p)) for p in children]
        proc.send_signal(sig)
        assert proc.wait(30) == 0
        with pytest.raises(OSError):
            probe_metadata(bootstrap, timeout=1)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)


def _children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (from /proc)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry))
    return out


def _blocked(pid: int) -> int:
    """The process's blocked signal mask (SigBlk of /proc/PID/status)."""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("SigBlk:"):
            return int(line.split()[1], 16)
    raise AssertionError(f"no SigBlk for {pid}")


def _bits(*sigs: int) -> int:
    return sum(1 << (s - 1) for s in sigs)
