"""Presigned downloads on object storage: the URL OpenDAL makes is checked here against the AWS Signature
Version 4 query-string algorithm, computed independently (the S3 server CI runs cannot check presigned
requests: README, Dependencies), and carries the Chinese file name as RFC 5987 asks."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from domain.documents.blobs import BlobStore, object_path
from domain.documents.links import content_disposition

KEY_ID, SECRET, REGION, BUCKET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "cn-north-1", "palmtrade"


def _sign(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def expected_signature(method: str, url: str, secret: str) -> str:
    """SigV4 for a presigned URL (AWS: 'Authenticating Requests: Using Query Parameters'), by the book."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "X-Amz-Signature"]
    canonical_query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(query))
    params = dict(query)
    signed = params["X-Amz-SignedHeaders"].split(";")
    headers = {"host": parts.netloc}
    canonical_headers = "".join(f"{h}:{headers[h]}\n" for h in signed)
    canonical_uri = quote(unquote(parts.path), safe="/-_.~")
    request = "\n".join(
        [method, canonical_uri, canonical_query, canonical_headers, ";".join(signed), "UNSIGNED-PAYLOAD"]
    )
    amz_date = params["X-Amz-Date"]
    scope = params["X-Amz-Credential"].split("/", 1)[1]
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(request.encode()).hexdigest()])
    date, region, service, _ = scope.split("/")
    key = _sign(_sign(_sign(_sign(f"AWS4{secret}".encode(), date), region), service), "aws4_request")
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


async def test_a_presigned_download_is_signed_by_sigv4_and_names_the_file_in_utf8():
    # given an S3 store (no request is sent: presigning is local)
    store = BlobStore.from_url(f"s3://{BUCKET}?endpoint=https://s3.example.cn&region={REGION}", KEY_ID, SECRET)
    sha = "ab" * 32
    name = "招标文件（第一标段）.pdf"

    # when a ten-minute link is made for an object with a Chinese name
    url = await store.presigned_read(object_path(sha), 600, content_disposition(name), "application/pdf")

    # then it is a SigV4 query signature for a GET of that object, valid 600 s from now, by our key
    assert url is not None
    params = dict(parse_qsl(urlsplit(url).query))
    assert params["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert params["X-Amz-Credential"].startswith(f"{KEY_ID}/")
    assert params["X-Amz-Credential"].endswith(f"/{REGION}/s3/aws4_request")
    assert params["X-Amz-Expires"] == "600"
    signed_at = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - signed_at) < timedelta(minutes=5)
    assert params["X-Amz-Signature"] == expected_signature("GET", url, SECRET)
    assert params["X-Amz-Signature"] != expected_signature("GET", url, SECRET + "x")
    assert urlsplit(url).path.endswith(object_path(sha))
    # and the store is told to answer with the RFC 5987 name and the media type
    assert params["response-content-disposition"] == content_disposition(name)
    assert "filename*=UTF-8''%E6%8B%9B%E6%A0%87" in params["response-content-disposition"]
    assert params["response-content-type"] == "application/pdf"


async def test_a_folder_cannot_presign():
    # given the embedded default, a folder
    store = BlobStore.from_url("fs:///tmp/palmtrade-presign-test")
    # then it makes no presigned link (the app serves the file under its own HMAC-signed link)
    assert await store.presigned_read("objects/x", 60, "attachment", "application/pdf") is None
