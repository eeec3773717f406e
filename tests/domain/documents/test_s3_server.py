"""The S3 path through OpenDAL against a real S3-compatible server process (moto_server, SigV4 verified).

These prove what the documents storage relies on: multipart streaming writes, ranged reads, stat,
delete, and that a wrong secret is refused. The server is tests/support/s3.py; it must be installed
(the `test` extras), nothing here is skipped.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import opendal
import pytest
from opendal.exceptions import NotFound, PermissionDenied

from tests.support.s3 import S3Server, start_s3_server

MiB = 1024 * 1024
PART = 5 * MiB  # S3's smallest part but the last; moto refuses smaller ones (EntityTooSmall) as S3 does
TOTAL = 4 * PART  # 20 MiB
ROOT = Path(__file__).resolve().parents[3]  # not tests.conftest's: tests/support/s3.py must not need conftest
NAMES = ("STORAGE_URL", "STORAGE_ACCESS_KEY_ID", "STORAGE_SECRET_ACCESS_KEY")


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    server = start_s3_server(tmp_path_factory.mktemp("s3"))
    try:
        yield server
    finally:
        server.stop()


def operator(server: S3Server, *, secret: str | None = None) -> opendal.AsyncOperator:
    return opendal.AsyncOperator(
        "s3",
        bucket=server.bucket,
        endpoint=server.endpoint,
        region=server.region,
        access_key_id=server.access_key_id,
        secret_access_key=server.secret_access_key if secret is None else secret,
    )


def test_storage_url_names_bucket_endpoint_and_region(s3: S3Server) -> None:
    url = urlsplit(s3.storage_url)
    assert (url.scheme, url.netloc, url.path) == ("s3", s3.bucket, "")
    assert "%3A%2F%2F127.0.0.1%3A" in url.query  # the endpoint is URL-encoded whole
    assert parse_qs(url.query) == {"endpoint": [s3.endpoint], "region": [s3.region]}
    assert s3.secret_access_key not in s3.storage_url


async def test_streaming_multipart_write_ranged_read_stat_and_delete(s3: S3Server) -> None:
    op = operator(s3)
    path = "documents/streamed/20mib.bin"
    data = os.urandom(TOTAL)

    file = await op.open(path, "wb")
    for start in range(0, TOTAL, PART):
        assert await file.write(data[start : start + PART]) == PART
    await file.close()

    meta = await op.stat(path)
    assert meta.content_length == TOTAL
    # S3's multipart ETag: the MD5 of the parts' MD5s, then "-<number of parts>".
    assert meta.etag is not None
    assert re.fullmatch(r'"?[0-9a-f]{32}-4"?', meta.etag), meta.etag

    reader = await op.open(path, "rb")
    try:
        offset = PART - 1000  # across the first part boundary
        assert await reader.seek(offset) == offset
        assert await reader.read(3000) == data[offset : offset + 3000]
        assert await reader.seek(-10, os.SEEK_END) == TOTAL - 10
        assert await reader.read() == data[-10:]
    finally:
        await reader.close()
    assert bytes(await op.read(path, offset=3 * PART + 7, size=11)) == data[3 * PART + 7 : 3 * PART + 18]
    assert bytes(await op.read(path)) == data

    await op.delete(path)
    assert not await op.exists(path)
    with pytest.raises(NotFound):
        await op.stat(path)


async def test_a_wrong_secret_is_refused_on_write(s3: S3Server) -> None:
    op, wrong = operator(s3), operator(s3, secret=s3.secret_access_key[::-1] + "x")

    with pytest.raises(PermissionDenied, match="SignatureDoesNotMatch"):
        await wrong.write("documents/refused/small.txt", b"not stored")
    with pytest.raises(PermissionDenied):  # a HEAD answer has no body, so no error code to match
        await wrong.stat("documents/refused/small.txt")

    # Streaming: the first part is only buffered; the multipart upload starts with the second and is
    # refused there. opendal 0.47's AsyncFile.write reports that as a plain OSError naming
    # PermissionDenied, not as opendal.exceptions.PermissionDenied: callers must catch both.
    file = await wrong.open("documents/refused/big.bin", "wb")
    assert await file.write(b"\0" * PART) == PART
    with pytest.raises((PermissionDenied, OSError), match="PermissionDenied"):
        await file.write(b"\0" * PART)
    with contextlib.suppress(PermissionDenied, OSError):
        await file.close()  # the upload already failed; only the file object is left to drop

    for path in ("documents/refused/small.txt", "documents/refused/big.bin"):
        assert not await op.exists(path)


async def test_an_unknown_access_key_is_refused(s3: S3Server) -> None:
    stranger = opendal.AsyncOperator(
        "s3",
        bucket=s3.bucket,
        endpoint=s3.endpoint,
        region=s3.region,
        access_key_id="AKIAUNKNOWNUNKNOWN00",
        secret_access_key=s3.secret_access_key,
    )
    with pytest.raises(PermissionDenied, match="InvalidAccessKeyId"):
        await stranger.write("documents/refused/stranger.txt", b"not stored")


def test_range_gets_answer_206_and_response_overrides_apply(s3: S3Server) -> None:
    """What the README cites: a header-signed ranged GET answers 206 with Content-Range, and
    response-content-disposition / response-content-type override the stored headers."""
    client = s3.boto3_client()
    client.put_object(Bucket=s3.bucket, Key="documents/range.txt", Body=b"0123456789", ContentType="text/plain")
    try:
        got = client.get_object(
            Bucket=s3.bucket,
            Key="documents/range.txt",
            Range="bytes=2-5",
            ResponseContentDisposition='attachment; filename="bid.pdf"',
            ResponseContentType="application/pdf",
        )
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert got["ContentRange"] == "bytes 2-5/10"
        assert got["Body"].read() == b"2345"
        assert got["ContentDisposition"] == 'attachment; filename="bid.pdf"'
        assert got["ContentType"] == "application/pdf"

        suffix = client.get_object(Bucket=s3.bucket, Key="documents/range.txt", Range="bytes=-3")
        assert (suffix["ResponseMetadata"]["HTTPStatusCode"], suffix["ContentRange"]) == (206, "bytes 7-9/10")
        assert suffix["Body"].read() == b"789"
    finally:
        client.delete_object(Bucket=s3.bucket, Key="documents/range.txt")


def test_the_ci_entry_point_writes_the_env_file_and_stops_on_sigterm(tmp_path: Path) -> None:
    """`python -m tests.support.s3 --env-file PATH`, as .ci/run starts it before pass 2."""
    env_file = tmp_path / "s3.env"
    cli = subprocess.Popen(
        [sys.executable, "-m", "tests.support.s3", "--env-file", str(env_file)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not env_file.exists() and cli.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert env_file.exists(), f"no env file; exit code {cli.poll()}"
        assert [line.split("=", 1)[0] for line in env_file.read_text().splitlines()] == list(NAMES)
        # read as .ci/run reads it: sourced by bash with `set -a` (the URL's `&` must be quoted)
        sourced = subprocess.run(
            ["bash", "-c", 'set -a; . "$1"; set +a; env -0', "bash", str(env_file)],
            env={"PATH": os.environ["PATH"]},
            capture_output=True,
            check=True,
        )
        exported = dict(item.split("=", 1) for item in sourced.stdout.decode().split("\0") if "=" in item)
        values = {name: exported[name] for name in NAMES}
        url = urlsplit(values["STORAGE_URL"])
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        op = opendal.Operator(
            "s3",
            bucket=url.netloc,
            endpoint=query["endpoint"],
            region=query["region"],
            access_key_id=values["STORAGE_ACCESS_KEY_ID"],
            secret_access_key=values["STORAGE_SECRET_ACCESS_KEY"],
        )
        op.write("documents/ci.txt", b"ci")
        assert bytes(op.read("documents/ci.txt")) == b"ci"
    finally:
        if cli.poll() is None:
            cli.send_signal(signal.SIGTERM)
        try:
            _, stderr = cli.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            cli.kill()
            _, stderr = cli.communicate()
    assert cli.returncode == 0, stderr.decode(errors="replace")
    with pytest.raises(opendal.exceptions.Unexpected):  # the server went with it: nothing listens there now
        op.stat("documents/ci.txt")
