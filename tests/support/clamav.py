"""A real clamd for tests, with a one-signature database that matches the EICAR test file anywhere in a file.

The database is written with ClamAV's own `sigtool` (an .ndb body signature); clamd runs in the foreground as the
current user, listens on a unix socket in the work directory and on a loopback TCP port, logs into the work directory
and is ended by its own process id. No system configuration, database or log is read or written.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-" + b"ANTIVIRUS-TEST-FILE!$H+H*"
SIGNATURE = "PalmTrade.Test.EICAR"
# ClamAV appends ".UNOFFICIAL" to the names of signatures that are not from its official databases.
EICAR_SIGNATURE = f"{SIGNATURE}.UNOFFICIAL"
INSTALL = "apt-get install clamav-daemon clamav"
_UNIX_PATH_MAX = 107


@dataclass
class ClamdProcess:
    """A clamd started by start_clamd: `address` is its unix socket, `tcp_address` its loopback TCP port."""

    address: str
    tcp_address: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:] if self.log_path.exists() else ""

    def answers_ping(self) -> bool:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(1)
                s.connect(self.address.removeprefix("unix:"))
                s.sendall(b"zPING\0")
                return s.recv(16) == b"PONG\0"
        except OSError:
            return False

    def stop(self) -> None:
        """Ends clamd if it still runs (SIGTERM, then SIGKILL)."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_clamd(workdir: Path, *, stream_max_length: str = "300M", within: float = 30.0) -> ClamdProcess:
    """A running clamd that answers PING, within `within` s; RuntimeError (with the fix or clamd's log) otherwise."""
    clamd, sigtool = _installed("clamd"), _installed("sigtool")
    workdir.mkdir(parents=True, exist_ok=True)
    socket_path = workdir / "clamd.ctl"
    if len(str(socket_path).encode()) > _UNIX_PATH_MAX:
        raise RuntimeError(f"{socket_path} is too long for a unix socket; use a shorter work directory")
    database = workdir / "database"
    database.mkdir(exist_ok=True)
    write_eicar_database(sigtool, database / "palmtrade-test.ndb")
    port = _free_port()
    config = workdir / "clamd.conf"
    config.write_text(
        "\n".join(
            [
                "Foreground yes",
                f"LocalSocket {socket_path}",
                "LocalSocketMode 600",
                "FixStaleSocket yes",
                "TCPAddr 127.0.0.1",
                f"TCPSocket {port}",
                f"DatabaseDirectory {database}",
                f"TemporaryDirectory {workdir}",
                f"StreamMaxLength {stream_max_length}",
                f"MaxFileSize {stream_max_length}",
                f"MaxScanSize {stream_max_length}",
                "MaxThreads 4",
                "LogTime yes",
                "LogSyslog no",
                "",
            ]
        )
    )
    log_path = workdir / "clamd.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [clamd, f"--config-file={config}"], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
    started = ClamdProcess(
        address=f"unix:{socket_path}", tcp_address=f"tcp://127.0.0.1:{port}", process=process, log_path=log_path
    )
    deadline = time.monotonic() + within
    while not started.answers_ping():
        if process.poll() is not None:
            raise RuntimeError(f"clamd exited with status {process.returncode}:\n{started.logs()}")
        if time.monotonic() > deadline:
            started.stop()
            raise RuntimeError(f"clamd did not answer PING within {within} s:\n{started.logs()}")
        time.sleep(0.05)
    return started


def write_eicar_database(sigtool: str, path: Path) -> None:
    """An .ndb database of one body signature, SIGNATURE, matching EICAR at any offset of any file type."""
    dumped = subprocess.run([sigtool, "--hex-dump"], input=EICAR, capture_output=True, check=True, timeout=30)
    body = dumped.stdout.decode().strip()
    if body != EICAR.hex():
        raise RuntimeError(f"sigtool --hex-dump printed {body!r}, not the hex of the EICAR test file")
    path.write_text(f"{SIGNATURE}:0:*:{body}\n")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _installed(program: str) -> str:
    found = shutil.which(program) or shutil.which(program, path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise RuntimeError(f"{program} is not installed; the malware scanner tests need a real clamd: {INSTALL}")
    return found
