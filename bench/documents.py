"""Documents: one large file uploaded over tus and downloaded by its signed link, against a raw copy of the same
bytes on the same disk.

One run, on the embedded default:

1. a fresh SQLite file in a temporary directory, migrated and seeded with the demo city; files stored in
   ``fs://<that directory>/files`` (no malware scanner: CLAMD_ADDRESS unset, so the file is ``unscanned``);
2. one uvicorn server process, exactly as ``bench/http_baseline.py`` serves it (RUN_WORKERS=0);
3. the demo tenderer (13900000003) signs in and creates a project (``projectCreate``): its lot is a draft,
   which the tenderer may hand tender documents in for and download;
4. a file of N MB of random bytes after a PDF header (``%PDF-1.7``; N = 200, ``--scale tiny`` 8) in the same
   temporary directory, so on the same disk as the storage folder;
5. the baseline: a raw copy of that file on the same disk, Python file I/O (``readinto`` / ``write``) in
   1 MiB chunks, no fsync: one untimed (fresh VM memory makes a first copy several times slower, and the upload
   then reuses the pages the copies freed), then the best of three, each copy deleted after it. For comparison
   only, the same with an fsync every PATCH's worth of bytes (``documents_raw_copy_fsync``, what the server did
   until issue 17's levers: OpenDAL's folder writer fsynced each PATCH) and with one fsync at the end
   (``documents_raw_copy_fsync_end``, as durable as the server now is: a finished file fsynced before the last
   204, domain/documents/blobs.py); and the SHA-256 of the file alone, read the same way (``documents_sha256_only``,
   best of three: the ceiling of any upload that checks the declared hash, which every byte goes through);
6. for each PATCH size (``--patch-mb 8``, or a curve: ``--patch-mb 8,32,64``): plain Starlette taking the same
   PATCHes (best of two, its file deleted after each), then the upload: ``documentUploadStart`` (purpose
   TENDER_DOCUMENT, declared size and SHA-256), then tus PATCHes straight to the upload URL (httpx, each body
   streamed from the file in 1 MiB pieces with its Content-Length), timed from the first byte sent to the 204 of
   the last PATCH, which includes the server's SHA-256 check, the fsync and the move into place (``--repeat N``:
   N uploads, the best reported). The server's RSS is sampled before it and every 50 ms during it (psutil if
   installed, else /proc), its CPU seconds (all threads) read before and after. The figures without a suffix are
   the first PATCH size's; each size also has its own lines, suffixed ``_patch<MB>``;
7. the download: ``documentDownload`` for a signed link, one streamed GET of the whole file (its SHA-256 checked
   as it arrives), timed, with its time to first byte; then small Range requests at random offsets (each
   compared with the file's bytes there), their median time to first byte.

The page cache is flushed (``os.sync``, untimed) before each timed phase so one phase's writeback does not land
in the next. MB means MiB (1,048,576 bytes) throughout. Output, one figure a line, ``name: value unit``:

    documents_upload / documents_raw_copy / documents_download          MB/s
    documents_upload_vs_copy / documents_download_vs_copy               x (goal: upload >= 0.5 of the copy)
    documents_upload_vs_copy_fsync_end / _vs_plain_starlette            x
    documents_sha256_only / _sha256_vs_copy / documents_upload_vs_sha256 MB/s, x (the hash check's ceiling)
    documents_upload_patch<MB> / documents_upload_vs_copy_patch<MB>     MB/s, x (one pair per PATCH size, ...)
    documents_upload_rss_growth                                         MB (goal: < 64)
    documents_upload_server_cpu / documents_upload_cpu_per_mb           s, ms/MB
    documents_download_ttfb / documents_range_ttfb_median               ms

    .venv/bin/python bench/documents.py                 # 200 MB
    .venv/bin/python bench/documents.py --scale tiny    # 8 MB: smoke test for CI
    .venv/bin/python bench/documents.py --patch-mb 8,32,64 --repeat 2   # the curve over PATCH sizes

Exits non-zero if a check fails (a non-2xx answer, a GraphQL error, a hash or byte mismatch) or setup fails;
a missed goal is reported, not an error.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import math
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import http_baseline as hb  # the server, its start and stop, the database set-up

ROOT = hb.ROOT
MiB = 1024 * 1024
SCALES = {"full": 200, "tiny": 8}  # file size in MB
PATCH_MB = 8  # tus PATCH size
READ_BYTES = MiB  # the client's reads of the file, the raw copy's chunk
RSS_INTERVAL = 0.05
COPIES = 3  # timed raw copies after an untimed one; the best is the baseline
UPLOAD_GOAL = 0.5  # x the raw copy
RSS_GOAL_MB = 64.0
TENDERER_PHONE = "13900000003"
FILE_NAME = "招标文件（第一标段）.pdf"
PDF_HEADER = b"%PDF-1.7\n"
TIMEOUT = httpx.Timeout(120.0, connect=10.0)

PROJECT_CREATE = """mutation($input: ProjectCreateInput!) { projectCreate(input: $input) {
  __typename
  ... on ProjectCreated { project { id lots { id status } } }
  ... on Error { code message } } }"""
UPLOAD_START = """mutation($input: DocumentUploadStartInput!) { documentUploadStart(input: $input) {
  __typename
  ... on UploadGrant { grant uploadUrl upload { id status received size } }
  ... on Error { code message } } }"""
DOWNLOAD = """mutation($input: DocumentDownloadInput!) { documentDownload(input: $input) {
  __typename
  ... on DocumentDownloadGranted { link { url document { id name size sha256 mediaType kind scanStatus } } }
  ... on Error { code message } } }"""
UPLOAD_OUTCOME = "query($id: String!) { documentUpload(id: $id) { status received size errorCode documentId } }"


class CheckFailed(Exception):
    """A correctness check failed: exit non-zero."""


# --------------------------------------------------------------------------- the server process


def rss_bytes(pid: int) -> int:
    """Resident set size of a process: psutil if installed, else /proc/<pid>/status VmRSS."""
    try:
        import psutil
    except ImportError:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError(f"no VmRSS for process {pid}") from None
    return int(psutil.Process(pid).memory_info().rss)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, all its threads: psutil if installed, else /proc (http_baseline)."""
    try:
        import psutil
    except ImportError:
        return hb.cpu_seconds(pid)
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


@dataclass
class RssSampler:
    """Samples a process's RSS every `interval` seconds in a thread until stopped; keeps the largest."""

    pid: int
    interval: float = RSS_INTERVAL
    peak: int = 0
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> RssSampler:
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()  # and once more at the end

    def _sample(self) -> None:
        try:
            self.peak = max(self.peak, rss_bytes(self.pid))
            self.samples += 1
        except (OSError, RuntimeError):
            pass  # the process is gone: the caller notices

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    base: str
    log_path: Path
    drain_dir: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"server exited with {self.proc.returncode}:\n{hb.tail(self.log_path)}")


def start_server(tmp: Path) -> Server:
    """The demo city in a fresh SQLite file, files in a folder beside it, one server as http_baseline serves it."""
    database_url = f"sqlite://{tmp}/bench.sqlite3"
    secret = secrets.token_urlsafe(48)
    asyncio.run(hb.prepare_database(database_url, secret.encode()))
    port = hb.free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("CLAMD_ADDRESS", "STORAGE_ACCESS_KEY_ID")}
    env.update(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": secret,
            "STORAGE_URL": f"fs://{tmp / 'files'}",
            "BENCH_DRAIN_DIR": str(tmp),
            "AUDIT_EXPORT_PATH": str(tmp / "audit-heads.jsonl"),
            "RUN_WORKERS": "0",
            "SEED_DEMO": "0",
            "LOG_LEVEL": "warning",
            "PALMTRADE_PRODUCTION": "0",
            "REDIS_URL": "",
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
        }
    )
    log_path = tmp / "server.log"
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, str(Path(hb.__file__).resolve()), "--serve", str(port)],
            cwd=tmp,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = Server(proc, f"http://{hb.HOST}:{port}", log_path, tmp)
    try:
        hb.wait_for_server(proc, server.base, log_path)
    except BaseException:
        hb.stop_server(proc)
        raise
    return server


# --------------------------------------------------------------------------- the API


def gql(http: httpx.Client, query: str, variables: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    reply = http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    try:
        body = reply.json()
    except ValueError:
        body = {"text": reply.text[:300]}
    if reply.status_code != 200 or "errors" in body or not body.get("data"):
        raise CheckFailed(f"GraphQL: HTTP {reply.status_code} {str(body)[:500]}")
    return dict(body["data"])


def result(data: dict[str, Any], name: str, expected: str) -> dict[str, Any]:
    answer = data[name]
    if answer is None or answer.get("__typename") != expected:
        raise CheckFailed(f"{name}: expected {expected}, got {answer}")
    return dict(answer)


def sign_in(http: httpx.Client, phone: str) -> str:
    from api.seed import DEMO_PASSWORD

    signed = result(gql(http, hb.LOGIN, {"phone": phone, "password": DEMO_PASSWORD}), "authLogin", "SignedIn")
    return str(signed["session"]["accessToken"])


def draft_lot(http: httpx.Client, token: str) -> str:
    """A new project of the tenderer's with one draft lot; the lot's global id."""
    form = {
        "name": "文件传输基准测试项目",
        "category": "ENGINEERING_CONSTRUCTION",
        "regionCode": "370211",
        "lots": [
            {
                "name": "第一标段：道路施工",
                "procedure": "OPEN_TENDER",
                "estimatedPriceFen": 1_280_000_000,
                "config": {"bidDeadline": (datetime.now(UTC) + timedelta(days=25)).isoformat()},
                "eligibility": [{"kind": "qualification", "text": "具有市政公用工程施工总承包二级及以上资质"}],
            }
        ],
    }
    created = result(gql(http, PROJECT_CREATE, {"input": form}, token), "projectCreate", "ProjectCreated")
    lot = created["project"]["lots"][0]
    if lot["status"] != "DRAFT":
        raise CheckFailed(f"the new lot is not a draft: {lot}")
    return str(lot["id"])


# --------------------------------------------------------------------------- the file and the baseline


def make_file(path: Path, size: int) -> str:
    """`size` bytes: a PDF header, then random bytes; returns their SHA-256."""
    digest = hashlib.sha256()
    with path.open("wb") as out:
        out.write(PDF_HEADER)
        digest.update(PDF_HEADER)
        left = size - len(PDF_HEADER)
        while left > 0:
            block = os.urandom(min(READ_BYTES, left))
            out.write(block)
            digest.update(block)
            left -= len(block)
    return digest.hexdigest()


def raw_copy(source: Path, target: Path, fsync_every: int = 0) -> float:
    """Seconds to copy the file with Python file I/O in 1 MiB chunks (readinto / write); no fsync, or with
    `fsync_every` one after every so many bytes and one at the end (-1: only the one at the end)."""
    buffer = bytearray(READ_BYTES)
    view = memoryview(buffer)
    unsynced = 0
    began = time.perf_counter()
    with source.open("rb", buffering=0) as src, target.open("wb", buffering=0) as dst:
        while n := src.readinto(buffer):
            dst.write(view[:n])
            unsynced += n
            if fsync_every > 0 and unsynced >= fsync_every:
                os.fsync(dst.fileno())
                unsynced = 0
        if fsync_every and unsynced:
            os.fsync(dst.fileno())
    return time.perf_counter() - began


def hash_only(source: Path) -> float:
    """Seconds to SHA-256 the file read as the raw copy reads it (1 MiB chunks, from the page cache after the
    copies): the least the server's check of the declared hash costs, on one core. Every uploaded byte goes
    through that hash, so the upload can be no faster than this, whatever it does with the bytes otherwise."""
    buffer = bytearray(READ_BYTES)
    view = memoryview(buffer)
    digest = hashlib.sha256()
    began = time.perf_counter()
    with source.open("rb", buffering=0) as src:
        while n := src.readinto(buffer):
            digest.update(view[:n])
    return time.perf_counter() - began


def best_copy(source: Path, target: Path, fsync_every: int = 0) -> list[float]:
    """COPIES timed copies after an untimed one (a VM backs fresh guest pages lazily: a first copy can run at a
    third of the speed of the next), each deleted after it; their seconds."""
    times = []
    for i in range(COPIES + 1):
        os.sync()
        seconds = raw_copy(source, target, fsync_every)
        target.unlink()
        if i:
            times.append(seconds)
    return times


# --------------------------------------------------------------------------- upload and download


@dataclass
class Upload:
    seconds: float
    cpu_seconds: float
    client_cpu_seconds: float  # this process (the httpx client, the RSS sampler)
    rss_before: int
    rss_peak: int
    rss_samples: int
    patch_seconds: list[float]
    document_id: str


def file_body(path: Path, offset: int, length: int) -> Iterator[bytes]:
    """`length` bytes of the file from `offset`, read as they are sent."""
    with path.open("rb") as src:
        src.seek(offset)
        left = length
        while left > 0:
            block = src.read(min(READ_BYTES, left))
            if not block:
                raise CheckFailed(f"the file ended at {offset + length - left}")
            left -= len(block)
            yield block


def upload(
    http: httpx.Client, server: Server, granted: dict[str, Any], path: Path, size: int, patch_bytes: int
) -> Upload:
    """tus PATCHes of `patch_bytes` from offset 0, timed from the first byte to the last 204."""
    url = granted["uploadUrl"]
    patches: list[float] = []
    document_id = None
    rss_before = rss_bytes(server.pid)
    with RssSampler(server.pid) as rss:
        cpu0, client0 = cpu_seconds(server.pid), time.process_time()
        began = time.perf_counter()
        offset = 0
        while offset < size:
            length = min(patch_bytes, size - offset)
            sent = time.perf_counter()
            reply = http.patch(
                url,
                content=file_body(path, offset, length),
                headers={
                    "Tus-Resumable": "1.0.0",
                    "Upload-Offset": str(offset),
                    "Upload-Grant": granted["grant"],
                    "Content-Type": "application/offset+octet-stream",
                    "Content-Length": str(length),
                },
            )
            patches.append(time.perf_counter() - sent)
            if reply.status_code != 204:
                raise CheckFailed(f"PATCH at {offset}: HTTP {reply.status_code} {reply.text[:300]}")
            if reply.headers.get("upload-offset") != str(offset + length):
                raise CheckFailed(f"PATCH at {offset}: Upload-Offset {reply.headers.get('upload-offset')}")
            offset += length
            document_id = reply.headers.get("upload-document-id")
        seconds = time.perf_counter() - began
        cpu1, client1 = cpu_seconds(server.pid), time.process_time()
    if not document_id:
        raise CheckFailed("the last PATCH named no document (Upload-Document-Id)")
    return Upload(seconds, cpu1 - cpu0, client1 - client0, rss_before, rss.peak, rss.samples, patches, document_id)


@dataclass(frozen=True)
class Plain:
    seconds: float
    cpu_seconds: float


def plain_upload(http: httpx.Client, server: Server, path: Path, size: int, patch_bytes: int) -> Plain:
    """The same PATCHes to plain Starlette in the same server process (`/bench/drain`: the body appended to a
    file, nothing checked, the file deleted after): what an ASGI server on this machine can take in at all."""
    cpu0 = cpu_seconds(server.pid)
    began = time.perf_counter()
    offset = 0
    while offset < size:
        length = min(patch_bytes, size - offset)
        reply = http.patch(
            "/bench/drain",
            content=file_body(path, offset, length),
            headers={"Content-Type": "application/offset+octet-stream", "Content-Length": str(length)},
        )
        if reply.status_code != 204:
            raise CheckFailed(f"plain PATCH at {offset}: HTTP {reply.status_code}")
        offset += length
    plain = Plain(time.perf_counter() - began, cpu_seconds(server.pid) - cpu0)
    (server.drain_dir / "drain.bin").unlink(missing_ok=True)  # each run writes a new file, as each upload does
    return plain


@dataclass
class Download:
    seconds: float
    ttfb: float
    size: int
    sha256: str


def download(http: httpx.Client, url: str) -> Download:
    """One streamed GET of the whole file, hashed as it arrives."""
    digest = hashlib.sha256()
    size, ttfb = 0, math.nan
    sent = time.perf_counter()
    with http.stream("GET", url) as reply:
        if reply.status_code != 200:
            reply.read()
            raise CheckFailed(f"download: HTTP {reply.status_code} {reply.text[:300]}")
        for chunk in reply.iter_raw():
            if size == 0 and chunk:
                ttfb = time.perf_counter() - sent
            digest.update(chunk)
            size += len(chunk)
    return Download(time.perf_counter() - sent, ttfb, size, digest.hexdigest())


def range_ttfb(http: httpx.Client, url: str, path: Path, size: int, n: int, length: int, seed: int = 17) -> list[float]:
    """Times to first byte of `n` Range requests of `length` bytes at random offsets; each checked against the file."""
    rng = random.Random(seed)
    times = []
    with path.open("rb") as src:
        for _ in range(n):
            start = rng.randrange(0, max(1, size - length))
            end = min(size, start + length) - 1
            src.seek(start)
            expected = src.read(end - start + 1)
            sent = time.perf_counter()
            with http.stream("GET", url, headers={"Range": f"bytes={start}-{end}"}) as reply:
                body, first = bytearray(), math.nan
                for chunk in reply.iter_raw():
                    if not body and chunk:
                        first = time.perf_counter() - sent
                    body += chunk
            if reply.status_code != 206 or reply.headers.get("content-range") != f"bytes {start}-{end}/{size}":
                raise CheckFailed(f"Range {start}-{end}: HTTP {reply.status_code} {reply.headers.get('content-range')}")
            if bytes(body) != expected:
                raise CheckFailed(f"Range {start}-{end}: the bytes differ from the file's")
            times.append(first)
    return times


# --------------------------------------------------------------------------- main


def mb(n: float) -> float:
    return n / MiB


def run(args: argparse.Namespace) -> int:
    from schema.relay import to_global_id

    tmp = Path(tempfile.mkdtemp(prefix="palmtrade-bench-documents-"))
    server: Server | None = None
    try:
        server = start_server(tmp)
        size = args.mb * MiB
        source = tmp / "source.pdf"
        sha256 = make_file(source, size)

        with httpx.Client(base_url=server.base, timeout=TIMEOUT) as http:
            token = sign_in(http, TENDERER_PHONE)
            lot_id = draft_lot(http, token)

            # the baseline: a raw copy on the same disk (the storage folder is beside the source file); and two as
            # durable as a server can be: an fsync every PATCH's worth of bytes, and one at the end
            copies = best_copy(source, tmp / "copy.pdf")
            hash_seconds = min(hash_only(source) for _ in range(COPIES))
            copy_seconds = min(copies)
            synced_seconds = min(best_copy(source, tmp / "copy.pdf", args.patch_sizes[0]))
            synced_end_seconds = min(best_copy(source, tmp / "copy.pdf", -1))

            curve: list[tuple[int, Plain, Upload]] = []
            for n, patch_bytes in enumerate(args.patch_sizes):
                os.sync()
                plain = min(
                    (plain_upload(http, server, source, size, patch_bytes) for _ in range(2)),
                    key=lambda p: p.seconds,
                )
                tries = []
                for attempt in range(args.repeat):
                    name = FILE_NAME if n == attempt == 0 else f"{Path(FILE_NAME).stem}-{n}-{attempt}.pdf"
                    form = {"purpose": "TENDER_DOCUMENT", "ownerId": lot_id, "name": name, "size": size}
                    form["sha256"] = sha256
                    granted = result(
                        gql(http, UPLOAD_START, {"input": form}, token), "documentUploadStart", "UploadGrant"
                    )
                    os.sync()
                    tried = upload(http, server, granted, source, size, patch_bytes)
                    server.check_alive()
                    outcome = gql(http, UPLOAD_OUTCOME, {"id": granted["upload"]["id"]}, token)["documentUpload"]
                    gid = to_global_id("Document", tried.document_id)
                    if outcome is None or outcome["status"] != "COMPLETE" or outcome["documentId"] != gid:
                        raise CheckFailed(f"the upload is not complete as Document {tried.document_id}: {outcome}")
                    tries.append(tried)
                best = min(tries, key=lambda u: u.seconds)
                best.rss_peak = max(u.rss_peak - u.rss_before for u in tries) + best.rss_before  # the worst growth
                curve.append((patch_bytes, plain, best))
            _, plain, up = curve[0]
            document_gid = to_global_id("Document", up.document_id)

            answer = gql(http, DOWNLOAD, {"input": {"documentId": document_gid}}, token)
            link = result(answer, "documentDownload", "DocumentDownloadGranted")["link"]
            if (link["document"]["sha256"], link["document"]["size"]) != (sha256, size):
                raise CheckFailed(f"the stored document is not the file: {link['document']}")
            os.sync()
            down = download(http, link["url"])
            if down.size != size or down.sha256 != sha256:
                raise CheckFailed(f"download: {down.size} bytes, SHA-256 {down.sha256}; expected {size}, {sha256}")
            ranges = range_ttfb(http, link["url"], source, size, args.ranges, args.range_bytes)
            server.check_alive()

        upload_rate = mb(size) / up.seconds
        copy_rate = mb(size) / copy_seconds
        download_rate = mb(size) / down.seconds
        upload_ratio = upload_rate / copy_rate
        growth = mb(up.rss_peak - up.rss_before)
        print(f"documents_file_size: {mb(size):.0f} MB")
        print(f"documents_raw_copy: {copy_rate:.1f} MB/s")
        print(f"documents_raw_copy_median: {mb(size) / statistics.median(copies):.1f} MB/s")
        print(f"documents_raw_copy_fsync: {mb(size) / synced_seconds:.1f} MB/s")
        print(f"documents_raw_copy_fsync_end: {mb(size) / synced_end_seconds:.1f} MB/s")
        print(f"documents_upload: {upload_rate:.1f} MB/s")
        print(f"documents_upload_vs_copy: {upload_ratio:.3f} x")
        print(f"documents_upload_vs_copy_fsync: {upload_rate * synced_seconds / mb(size):.3f} x")
        print(f"documents_upload_vs_copy_fsync_end: {upload_rate * synced_end_seconds / mb(size):.3f} x")
        print(f"documents_upload_goal: {'met' if upload_ratio >= UPLOAD_GOAL else 'not met'} (>= {UPLOAD_GOAL})")
        print(f"documents_sha256_only: {mb(size) / hash_seconds:.1f} MB/s")
        print(f"documents_sha256_vs_copy: {copy_seconds / hash_seconds:.3f} x")
        print(f"documents_upload_vs_sha256: {hash_seconds / up.seconds:.3f} x")
        plain_rate = mb(size) / plain.seconds
        print(f"documents_plain_starlette_upload: {plain_rate:.1f} MB/s")
        print(f"documents_plain_starlette_vs_copy: {plain_rate / copy_rate:.3f} x")
        print(f"documents_upload_vs_plain_starlette: {upload_rate / plain_rate:.3f} x")
        print(f"documents_plain_starlette_cpu_per_mb: {plain.cpu_seconds * 1000 / mb(size):.2f} ms/MB")
        print(f"documents_upload_cpu_vs_plain_starlette: {up.cpu_seconds / max(plain.cpu_seconds, 1e-6):.2f} x")
        print(f"documents_upload_patches: {len(up.patch_seconds)} count")
        print(f"documents_upload_patch_median: {statistics.median(up.patch_seconds) * 1000:.1f} ms")
        print(f"documents_upload_last_patch: {up.patch_seconds[-1] * 1000:.1f} ms")
        print(f"documents_upload_rss_before: {mb(up.rss_before):.1f} MB")
        print(f"documents_upload_rss_growth: {growth:.1f} MB")
        print(f"documents_upload_rss_goal: {'met' if growth < RSS_GOAL_MB else 'not met'} (< {RSS_GOAL_MB:.0f} MB)")
        print(f"documents_upload_server_cpu: {up.cpu_seconds:.2f} s")
        print(f"documents_upload_cpu_per_mb: {up.cpu_seconds * 1000 / mb(size):.2f} ms/MB")
        print(f"documents_upload_server_cpu_share: {100 * up.cpu_seconds / up.seconds:.0f} %")
        print(f"documents_upload_client_cpu: {up.client_cpu_seconds:.2f} s")
        for patch_bytes, plain_n, up_n in curve:
            tag = f"patch{patch_bytes // MiB}"
            rate, plain_rate_n = mb(size) / up_n.seconds, mb(size) / plain_n.seconds
            print(f"documents_upload_{tag}: {rate:.1f} MB/s")
            print(f"documents_upload_vs_copy_{tag}: {rate / copy_rate:.3f} x")
            print(f"documents_upload_vs_copy_fsync_end_{tag}: {rate * synced_end_seconds / mb(size):.3f} x")
            print(f"documents_plain_starlette_{tag}: {plain_rate_n:.1f} MB/s")
            print(f"documents_plain_starlette_vs_copy_{tag}: {plain_rate_n / copy_rate:.3f} x")
            print(f"documents_upload_vs_plain_starlette_{tag}: {rate / plain_rate_n:.3f} x")
            print(f"documents_upload_cpu_per_mb_{tag}: {up_n.cpu_seconds * 1000 / mb(size):.2f} ms/MB")
            print(f"documents_upload_rss_growth_{tag}: {mb(up_n.rss_peak - up_n.rss_before):.1f} MB")
        print(f"documents_download: {download_rate:.1f} MB/s")
        print(f"documents_download_vs_copy: {download_rate / copy_rate:.3f} x")
        print(f"documents_download_ttfb: {down.ttfb * 1000:.2f} ms")
        print(f"documents_range_ttfb_median: {statistics.median(ranges) * 1000:.2f} ms")
        print(
            f"# file={mb(size):.0f} MB patch={','.join(str(b // MiB) for b in args.patch_sizes)} MB "
            f"repeat={args.repeat} copy=readinto/write 1 MiB, best of {COPIES} after 1 untimed, "
            f"copy_fsync=the same with fsync every {mb(args.patch_sizes[0]):.0f} MB, copy_fsync_end=one at the end; "
            f"rss_samples={up.rss_samples} ranges={args.ranges}x{args.range_bytes} B cores={os.cpu_count()} "
            f"storage=fs://{tmp / 'files'}",
            file=sys.stderr,
        )
        return 0
    except CheckFailed as err:
        print(f"error: check failed: {err}", file=sys.stderr)
        if server is not None:
            print(f"# server log (last lines):\n{hb.tail(server.log_path, 20)}", file=sys.stderr)
        return 1
    finally:
        if server is not None:
            hb.stop_server(server.proc)
        shutil.rmtree(tmp, ignore_errors=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale", choices=[*SCALES, "default"], default="full", help="full (default): 200 MB; tiny: 8 MB (CI)"
    )
    parser.add_argument("--mb", type=int, default=None, help="override the scale's file size, in MB (MiB)")
    parser.add_argument(
        "--patch-mb", default=str(PATCH_MB), help="tus PATCH size in MB (MiB; default 8), or sizes: 8,32,64 (a curve)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="uploads per PATCH size, the best reported (default 1)")
    parser.add_argument("--ranges", type=int, default=None, help="Range requests for the median TTFB (default 20)")
    parser.add_argument("--range-bytes", type=int, default=64 * 1024, help="bytes per Range request (default 64 KiB)")
    args = parser.parse_args(argv)
    scale = "full" if args.scale == "default" else args.scale
    args.mb = args.mb if args.mb is not None else SCALES[scale]
    args.ranges = args.ranges if args.ranges is not None else (5 if scale == "tiny" else 20)
    try:
        args.patch_sizes = [int(n) * MiB for n in str(args.patch_mb).split(",")]
    except ValueError:
        parser.error("--patch-mb: a size in MB or sizes separated by commas")
    if args.mb < 1 or min(args.patch_sizes) < 1 or args.ranges < 1 or args.range_bytes < 1 or args.repeat < 1:
        parser.error("--mb, --patch-mb, --ranges, --range-bytes and --repeat must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except Exception as err:  # setup failures: say so and exit non-zero
        print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
