"""A real S3-compatible server for tests and CI: moto's `moto_server` process, with SigV4 verification on.

`start_s3_server(workdir)` starts `moto_server` from this interpreter's environment on a free loopback
port with `INITIAL_NO_AUTH_ACTION_COUNT` set to the number of unauthenticated bootstrap requests made
here (create an IAM user, its access key and an `s3:*` inline policy). From then on every request must
carry a header signature made with that key's secret: the bucket is created with the new key, and a
request signed with a wrong secret must be refused with SignatureDoesNotMatch, or the start fails.

`python -m tests.support.s3 [--port 9000] --env-file PATH` runs it in the foreground for `.ci/run`:
it writes STORAGE_URL, STORAGE_ACCESS_KEY_ID and STORAGE_SECRET_ACCESS_KEY lines to PATH once the
server is ready, and stays up until it gets SIGTERM or SIGINT.

What moto does not check (no presigned-URL signature or expiry check; presigned requests fail with
HTTP 500 while verification is on; the payload hash is not compared to the body; the signing date is
not checked for skew) is listed in the README.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

DEFAULT_REGION = "us-east-1"
DEFAULT_BUCKET = "palmtrade-test"
USER_NAME = "palmtrade-storage"
POLICY_NAME = "palmtrade-storage-s3"
S3_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
}
# The requests _bootstrap sends before any credential exists: CreateUser, CreateAccessKey, PutUserPolicy.
# moto lets exactly this many requests through unauthenticated (moto/core/authorization.py); the
# readiness probe on /moto-api/ does not count, as it is not an AWS action.
BOOTSTRAP_REQUESTS = 3
READY_TIMEOUT = 30.0
# Settings moto reads from its environment that would change what these tests prove.
_MOTO_ENV_OVERRIDES = ("MOTO_ACCOUNT_ID", "S3_UPLOAD_PART_MIN_SIZE", "TEST_SERVER_MODE", "MOTO_PORT")


class S3ServerError(RuntimeError):
    """The S3 test server could not be started as required."""


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    bucket: str
    region: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def storage_url(self) -> str:
        """`s3://<bucket>?endpoint=<url-encoded endpoint>&region=<region>`; the credentials go separately."""
        return f"s3://{self.bucket}?endpoint={quote(self.endpoint, safe='')}&region={quote(self.region, safe='')}"

    def env_lines(self) -> list[str]:
        """`NAME=value` lines for a shell to `source`; values are shell-quoted (the URL holds `&` and `?`)."""
        values = {
            "STORAGE_URL": self.storage_url,
            "STORAGE_ACCESS_KEY_ID": self.access_key_id,
            "STORAGE_SECRET_ACCESS_KEY": self.secret_access_key,
        }
        return [f"{name}={shlex.quote(value)}" for name, value in values.items()]

    def boto3_client(self, *, secret: str | None = None) -> Any:
        """A boto3 S3 client on this server, header-signed (SigV4) with this key, or with `secret`."""
        return boto_client("s3", self.endpoint, self.region, self.access_key_id, secret or self.secret_access_key)

    def stop(self, timeout: float = 10.0) -> None:
        """Ends this server's process (SIGTERM, then SIGKILL after `timeout`); idempotent."""
        _stop(self.process, timeout)


def _stop(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _moto_server_executable() -> Path:
    # Not resolved: a venv's bin/python is a symlink to the base interpreter, whose bin has no moto.
    exe = Path(sys.executable).parent / "moto_server"
    missing = [name for name in ("moto", "flask", "flask_cors", "boto3") if importlib.util.find_spec(name) is None]
    if missing or not exe.exists():
        raise S3ServerError(
            f"the S3 test server needs moto[server] and boto3 in this environment ({sys.executable}; missing: "
            f"{', '.join(missing) or exe}). Install the test extras: .venv/bin/pip install -e '.[test]'"
        )
    return exe


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def boto_client(service: str, endpoint: str, region: str, key_id: str, secret: str) -> Any:
    import boto3
    from botocore.config import Config

    # No retries: every request moto sees while unauthenticated ones are allowed uses one up, so a retry
    # would shift the count; the signature version is pinned to SigV4 (header-signed).
    config = Config(retries={"total_max_attempts": 1}, signature_version="s3v4" if service == "s3" else None)
    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=config,
    )


def _spawn(port: int, workdir: Path) -> tuple[subprocess.Popen[bytes], Path]:
    exe = _moto_server_executable()
    env = {k: v for k, v in os.environ.items() if k not in _MOTO_ENV_OVERRIDES}
    env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(BOOTSTRAP_REQUESTS)
    log_path = workdir / f"moto-s3-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(exe), "-H", "127.0.0.1", "-p", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C in the terminal reaches the test run, which stops it itself
        )
    return process, log_path


def _wait_ready(process: subprocess.Popen[bytes], endpoint: str, log_path: Path, timeout: float) -> bool:
    """True once moto answers; False if its process ended first (e.g. the port was taken)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            # moto's own dashboard: not an AWS action, so it does not use up an unauthenticated request.
            if httpx.get(f"{endpoint}/moto-api/", timeout=1.0).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise S3ServerError(f"moto_server did not answer on {endpoint} within {timeout:.0f}s:\n{_tail(log_path)}")


def _bootstrap(endpoint: str, region: str, bucket: str) -> tuple[str, str]:
    from botocore.exceptions import ClientError

    # The only unauthenticated requests (BOOTSTRAP_REQUESTS of them); moto ignores these credentials.
    iam = boto_client("iam", endpoint, region, "bootstrap", "bootstrap")
    iam.create_user(UserName=USER_NAME)
    key = iam.create_access_key(UserName=USER_NAME)["AccessKey"]
    iam.put_user_policy(UserName=USER_NAME, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(S3_POLICY))
    key_id, secret = str(key["AccessKeyId"]), str(key["SecretAccessKey"])

    # From here on moto verifies signatures: the bucket is made with the new key, which proves it works.
    s3 = boto_client("s3", endpoint, region, key_id, secret)
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})

    wrong = boto_client("s3", endpoint, region, key_id, secret[::-1] + "x")
    try:
        wrong.list_objects_v2(Bucket=bucket, MaxKeys=1)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code != "SignatureDoesNotMatch":
            raise S3ServerError(f"a wrong secret was refused with {code!r}, not SignatureDoesNotMatch") from exc
    else:
        raise S3ServerError("moto accepted a request signed with a wrong secret: signature verification is off")
    return key_id, secret


def start_s3_server(
    workdir: Path,
    *,
    port: int | None = None,
    bucket: str = DEFAULT_BUCKET,
    region: str = DEFAULT_REGION,
    ready_timeout: float = READY_TIMEOUT,
) -> S3Server:
    """Starts moto_server with SigV4 verification on, bootstraps a key and a bucket, and checks that a
    wrong secret is refused. `port=None` takes a free loopback port (retrying if it is taken meanwhile).
    The caller must `stop()` it; logs go to `workdir/moto-s3-<port>.log`.
    `region` must be in the `aws` partition (moto keeps IAM users per partition)."""
    workdir.mkdir(parents=True, exist_ok=True)
    attempts = 3 if port is None else 1
    for _ in range(attempts):
        chosen = port if port is not None else _free_port()
        endpoint = f"http://127.0.0.1:{chosen}"
        process, log_path = _spawn(chosen, workdir)
        try:
            if not _wait_ready(process, endpoint, log_path, ready_timeout):
                continue  # exited before answering: try another free port, if it was ours to choose
            key_id, secret = _bootstrap(endpoint, region, bucket)
        except BaseException:
            _stop(process)
            raise
        return S3Server(
            endpoint=endpoint,
            bucket=bucket,
            region=region,
            access_key_id=key_id,
            secret_access_key=secret,
            process=process,
            log_path=log_path,
        )
    raise S3ServerError(f"moto_server exited before answering (exit code {process.returncode}):\n{_tail(log_path)}")


def _write_env_file(path: Path, lines: list[str]) -> None:
    """Written whole and then renamed into place, so a shell waiting for the file never reads half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    partial.write_text("".join(f"{line}\n" for line in lines))
    partial.chmod(0o600)
    partial.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.s3",
        description="Run moto_server with SigV4 verification on, as PalmTrade's S3 for tests, until killed.",
    )
    parser.add_argument("--port", type=int, default=None, help="loopback port (default: a free one)")
    parser.add_argument("--env-file", type=Path, required=True, help="where to write the STORAGE_* lines")
    parser.add_argument("--workdir", type=Path, default=None, help="for the server log (default: the env file's)")
    parser.add_argument("--bucket", default=DEFAULT_BUCKET)
    parser.add_argument("--region", default=DEFAULT_REGION)
    args = parser.parse_args(argv)

    stopping = False

    def on_signal(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    workdir = args.workdir or args.env_file.resolve().parent
    try:
        server = start_s3_server(workdir, port=args.port, bucket=args.bucket, region=args.region)
    except S3ServerError as exc:
        print(f"tests.support.s3: {exc}", file=sys.stderr)
        return 1
    try:
        _write_env_file(args.env_file, server.env_lines())
        print(
            f"tests.support.s3: moto S3 on {server.endpoint}, bucket {server.bucket}, SigV4 verified; "
            f"env in {args.env_file}, log in {server.log_path}",
            file=sys.stderr,
            flush=True,
        )
        while not stopping and server.process.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.process.wait(timeout=0.5)
        if not stopping:
            print(
                f"tests.support.s3: moto_server exited ({server.process.returncode}):\n{_tail(server.log_path)}",
                file=sys.stderr,
            )
            return 1
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
