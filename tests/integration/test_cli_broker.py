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
        proc.send_signal(sig)
        assert proc.wait(30) == 0
        with pytest.raises(OSError):
            probe_metadata(bootstrap, timeout=1)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
