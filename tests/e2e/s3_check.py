"""Checks of the S3 gateway with a real S3 client (boto3), for tests/e2e/s3_tests.sh.

    python3 s3_check.py CHECK ARGS...

Reads the endpoint and credentials from the AWS_* environment (run/s3.env). Each check exits
0 when everything it asserts holds, else prints what differed and exits 1.
"""
import hashlib
import hmac
import http.client
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ["AWS_ENDPOINT_URL"]
REGION = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")


def client(access_key=None, secret=None):
    return boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id=access_key or os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=secret or os.environ["AWS_SECRET_ACCESS_KEY"],
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
    )


def check(cond, what):
    if not cond:
        print("FAILED: " + what, file=sys.stderr)
        sys.exit(1)


def error_of(call, *args, **kwargs):
    """The S3 error code and HTTP status a call fails with (it must fail)."""
    try:
        call(*args, **kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    check(False, f"{call.__name__} succeeded, an error was expected")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def list_all(s3, bucket, **kwargs):
    """Every key and common prefix of a listing, through ListObjectsV2's continuation tokens."""
    keys, prefixes, pages = [], [], 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, **kwargs):
        pages += 1
        keys += [o["Key"] for o in page.get("Contents", [])]
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    return keys, prefixes, pages


def list_all_v1(s3, bucket, **kwargs):
    """The same through ListObjects (v1) and its markers."""
    keys, prefixes, marker = [], [], ""
    while True:
        page = s3.list_objects(Bucket=bucket, Marker=marker, **kwargs)
        keys += [o["Key"] for o in page.get("Contents", [])]
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        if not page["IsTruncated"]:
            return keys, prefixes
        marker = page.get("NextMarker") or keys[-1]


def by_bytes(items):
    return sorted(items, key=lambda s: s.encode("utf-8"))


# ---------------------------------------------------------------------------------- checks


def order(bucket):
    """Keys around '/' list in byte order, paged, with and without a delimiter."""
    s3 = client()
    names = ["a-1", "a.b/x", "a/b", "a/c/d", "a0", "a b", "\u00e9t\u00e9", "b+c", "z/y"]
    for n in names:
        s3.put_object(Bucket=bucket, Key=n, Body=n.encode())
    # "a" is a directory now: the key cannot also be a file.
    code, status = error_of(s3.put_object, Bucket=bucket, Key="a", Body=b"x")
    check(status == 409, f"a key that is a directory's name: {code} {status}")
    keys, _, pages = list_all(s3, bucket, PaginationConfig={"PageSize": 2})
    check(keys == by_bytes(names), f"recursive listing {keys} != {by_bytes(names)}")
    check(pages == 5, f"9 keys in pages of 2 took {pages} pages")
    keys, prefixes, _ = list_all(s3, bucket, Delimiter="/", PaginationConfig={"PageSize": 3})
    check(keys == by_bytes(["a-1", "a0", "a b", "\u00e9t\u00e9", "b+c"]), f"delimited keys {keys}")
    check(prefixes == ["a.b/", "a/", "z/"], f"delimited prefixes {prefixes}")
    keys, prefixes = list_all_v1(s3, bucket, Delimiter="/", MaxKeys=2)
    check(prefixes == ["a.b/", "a/", "z/"], f"v1 prefixes {prefixes}")
    keys, _ = list_all_v1(s3, bucket, Prefix="a/", MaxKeys=1)
    check(keys == ["a/b", "a/c/d"], f"v1 under a/: {keys}")
    page = s3.list_objects_v2(Bucket=bucket, StartAfter="a/b")
    got = [o["Key"] for o in page["Contents"]]
    check(got == by_bytes(names)[by_bytes(names).index("a/b") + 1:], f"start-after a/b: {got}")
    page = s3.list_objects_v2(Bucket=bucket, Prefix="a", Delimiter="/")
    check([p["Prefix"] for p in page["CommonPrefixes"]] == ["a.b/", "a/"], "prefix a, delimiter /")
    page = s3.list_objects_v2(Bucket=bucket, Delimiter="-")
    check([p["Prefix"] for p in page.get("CommonPrefixes", [])] == ["a-"], "delimiter -")
    for n in names:
        s3.delete_object(Bucket=bucket, Key=n)
    check(s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0, "the bucket is empty again")


def many(bucket, dirs, files):
    """A tree of DIRS x FILES keys (made on a mount): delimited and full listings, both APIs."""
    dirs, files = int(dirs), int(files)
    s3 = client()
    want = by_bytes([f"d{d:03d}/f{f:04d}" for d in range(dirs) for f in range(files)])
    keys, prefixes, pages = list_all(s3, bucket, Delimiter="/")
    check(keys == [] and prefixes == [f"d{d:03d}/" for d in range(dirs)], f"{len(prefixes)} prefixes")
    keys, _, pages = list_all(s3, bucket)
    check(keys == want, f"full listing: {len(keys)} keys, {len(want)} wanted")
    check(pages == (len(want) + 999) // 1000, f"{pages} pages of at most 1000")
    keys, _ = list_all_v1(s3, bucket)
    check(keys == want, f"v1 full listing: {len(keys)} keys")
    keys, prefixes, _ = list_all(s3, bucket, Prefix="d042/", Delimiter="/")
    check(keys == [k for k in want if k.startswith("d042/")] and prefixes == [], "one directory")
    page = s3.list_objects_v2(Bucket=bucket, Prefix="d04", Delimiter="/", MaxKeys=3)
    check([p["Prefix"] for p in page["CommonPrefixes"]] == ["d040/", "d041/", "d042/"]
          and page["IsTruncated"], "three prefixes of d04, truncated")
    rest = s3.list_objects_v2(Bucket=bucket, Prefix="d04", Delimiter="/", MaxKeys=1000,
                              ContinuationToken=page["NextContinuationToken"])
    check([p["Prefix"] for p in rest["CommonPrefixes"]] == [f"d04{i}/" for i in range(3, 10)],
          "the rest of d04's prefixes")
    body = s3.get_object(Bucket=bucket, Key="d007/f0042")["Body"].read()
    check(body == b"7 42\n", f"content of d007/f0042: {body!r}")


def ranges(bucket, key, local, chunk):
    """Ranges inside, across and at the ends of chunks read what the file holds."""
    s3 = client()
    chunk = int(chunk)
    size = os.path.getsize(local)
    with open(local, "rb") as f:
        data = f.read()
    wanted = [(chunk - 10, chunk + 9), (0, 0), (2 * chunk - 1, 2 * chunk), (size - 5, size - 1),
              (chunk - (1 << 20), chunk + (3 << 20))]
    for first, last in wanted:
        r = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={first}-{last}")
        got = r["Body"].read()
        check(got == data[first:last + 1], f"bytes {first}-{last}")
        check(r["ContentRange"] == f"bytes {first}-{last}/{size}", f"Content-Range {r['ContentRange']}")
        check(r["ResponseMetadata"]["HTTPStatusCode"] == 206, "206 for a range")
    got = s3.get_object(Bucket=bucket, Key=key, Range="bytes=-100")["Body"].read()
    check(got == data[-100:], "suffix range")
    got = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={chunk + 1}-")["Body"].read()
    check(hashlib.sha256(got).digest() == hashlib.sha256(data[chunk + 1:]).digest(), "open range")
    code, status = error_of(s3.get_object, Bucket=bucket, Key=key, Range=f"bytes={size}-")
    check((code, status) == ("InvalidRange", 416), f"range past the end: {code} {status}")


def metadata(bucket):
    """User metadata and Content-Type kept, returned, copied or replaced; ETag is the MD5."""
    s3 = client()
    body = b"metadata object\n"
    r = s3.put_object(Bucket=bucket, Key="meta/obj", Body=body, ContentType="text/x-shoal",
                      Metadata={"color": "blue", "Owner-Name": "ada"})
    check(r["ETag"] == '"%s"' % hashlib.md5(body).hexdigest(), f"PUT ETag {r['ETag']}")
    h = s3.head_object(Bucket=bucket, Key="meta/obj")
    check(h["ContentType"] == "text/x-shoal", f"Content-Type {h['ContentType']}")
    check(h["Metadata"] == {"color": "blue", "owner-name": "ada"}, f"metadata {h['Metadata']}")
    check(h["ContentLength"] == len(body) and h["ETag"] == r["ETag"], "HEAD length and ETag")
    g = s3.get_object(Bucket=bucket, Key="meta/obj")
    check(g["Body"].read() == body and g["Metadata"]["color"] == "blue", "GET body and metadata")
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="meta/")["Contents"][0]
    check(listed["ETag"] == r["ETag"] and listed["Size"] == len(body), "listed ETag and size")
    c = s3.copy_object(Bucket=bucket, Key="meta/copy", CopySource={"Bucket": bucket, "Key": "meta/obj"})
    check(c["CopyObjectResult"]["ETag"] == r["ETag"], "copy ETag")
    h = s3.head_object(Bucket=bucket, Key="meta/copy")
    check(h["Metadata"] == {"color": "blue", "owner-name": "ada"} and h["ContentType"] == "text/x-shoal",
          "COPY keeps the metadata")
    s3.copy_object(Bucket=bucket, Key="meta/copy", CopySource=f"{bucket}/meta/obj",
                   MetadataDirective="REPLACE", Metadata={"color": "red"}, ContentType="text/plain")
    h = s3.head_object(Bucket=bucket, Key="meta/copy")
    check(h["Metadata"] == {"color": "red"} and h["ContentType"] == "text/plain", "REPLACE")
    check(s3.get_object(Bucket=bucket, Key="meta/copy")["Body"].read() == body, "copied body")
    code, status = error_of(s3.head_object, Bucket=bucket, Key="meta/none")
    check(status == 404, f"HEAD of a missing key: {status}")
    code, status = error_of(s3.get_object, Bucket=bucket, Key="meta/none")
    check((code, status) == ("NoSuchKey", 404), f"GET of a missing key: {code}")
    code, status = error_of(s3.get_object, Bucket="no-such-bucket", Key="x")
    check((code, status) == ("NoSuchBucket", 404), f"GET in a missing bucket: {code}")
    code, status = error_of(s3.put_object, Bucket=bucket, Key="a//b", Body=b"x")
    check(status == 400, f"a key with an empty part: {code} {status}")
    e = s3.put_object(Bucket=bucket, Key="meta/empty", Body=b"")
    check(e["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"', "empty object's ETag")
    check(s3.get_object(Bucket=bucket, Key="meta/empty")["Body"].read() == b"", "empty object")


def conditional(bucket, key):
    """If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since."""
    s3 = client()
    h = s3.head_object(Bucket=bucket, Key=key)
    etag, modified = h["ETag"], h["LastModified"]
    check(s3.get_object(Bucket=bucket, Key=key, IfMatch=etag)["ResponseMetadata"]["HTTPStatusCode"] == 200,
          "If-Match with the ETag")
    code, status = error_of(s3.get_object, Bucket=bucket, Key=key, IfMatch='"0000"')
    check(status == 412 and code == "PreconditionFailed", f"If-Match another: {code} {status}")
    code, status = error_of(s3.get_object, Bucket=bucket, Key=key, IfNoneMatch=etag)
    check(status == 304, f"If-None-Match with the ETag: {status}")
    later = modified + timedelta(hours=1)
    earlier = modified - timedelta(hours=1)
    code, status = error_of(s3.get_object, Bucket=bucket, Key=key, IfModifiedSince=later)
    check(status == 304, f"If-Modified-Since later: {status}")
    r = s3.get_object(Bucket=bucket, Key=key, IfModifiedSince=earlier)
    check(r["ResponseMetadata"]["HTTPStatusCode"] == 200, "If-Modified-Since earlier")
    code, status = error_of(s3.get_object, Bucket=bucket, Key=key, IfUnmodifiedSince=earlier)
    check(status == 412, f"If-Unmodified-Since earlier: {status}")


def multipart(bucket, key, local, part_size):
    """Every multipart call by hand: parts invisible until complete, S3's ETag, errors."""
    s3 = client()
    part_size = int(part_size)
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, ContentType="application/x-big",
                                    Metadata={"kind": "multipart"})
    uid = up["UploadId"]
    listed = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    check([(u["Key"], u["UploadId"]) for u in listed] == [(key, uid)], f"list uploads {listed}")
    parts, md5s = [], []
    with open(local, "rb") as f:
        number = 1
        while True:
            data = f.read(part_size)
            if not data:
                break
            r = s3.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=number, Body=data)
            check(r["ETag"] == '"%s"' % hashlib.md5(data).hexdigest(), f"part {number} ETag")
            parts.append({"PartNumber": number, "ETag": r["ETag"]})
            md5s.append(hashlib.md5(data).digest())
            number += 1
    lp = s3.list_parts(Bucket=bucket, Key=key, UploadId=uid, MaxParts=2)
    check([p["PartNumber"] for p in lp["Parts"]] == [1, 2] and lp["IsTruncated"], "list parts, page 1")
    lp = s3.list_parts(Bucket=bucket, Key=key, UploadId=uid, PartNumberMarker=lp["NextPartNumberMarker"])
    check([p["PartNumber"] for p in lp["Parts"]] == list(range(3, len(parts) + 1)), "list parts, page 2")
    code, _ = error_of(s3.head_object, Bucket=bucket, Key=key)
    check(code in ("404", "NoSuchKey", "Not Found"), f"the object exists before completion: {code}")
    bad = [dict(p) for p in parts]
    bad[1]["ETag"] = '"%s"' % ("0" * 32)
    code, status = error_of(s3.complete_multipart_upload, Bucket=bucket, Key=key, UploadId=uid,
                            MultipartUpload={"Parts": bad})
    check((code, status) == ("InvalidPart", 400), f"a wrong part ETag: {code} {status}")
    code, status = error_of(s3.complete_multipart_upload, Bucket=bucket, Key=key, UploadId=uid,
                            MultipartUpload={"Parts": list(reversed(parts))})
    check(code == "InvalidPartOrder", f"parts out of order: {code}")
    r = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=uid,
                                     MultipartUpload={"Parts": parts})
    want = '"%s-%d"' % (hashlib.md5(b"".join(md5s)).hexdigest(), len(parts))
    check(r["ETag"] == want, f"complete ETag {r['ETag']} != {want}")
    h = s3.head_object(Bucket=bucket, Key=key)
    check(h["ETag"] == want and h["ContentLength"] == os.path.getsize(local), "HEAD after complete")
    check(h["ContentType"] == "application/x-big" and h["Metadata"] == {"kind": "multipart"},
          "the upload's metadata")
    got = hashlib.sha256()
    for block in s3.get_object(Bucket=bucket, Key=key)["Body"].iter_chunks(1 << 20):
        got.update(block)
    check(got.hexdigest() == sha256_file(local), "content after complete")
    check(s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == [], "no upload left")
    code, _ = error_of(s3.list_parts, Bucket=bucket, Key=key, UploadId=uid)
    check(code == "NoSuchUpload", f"list parts of a completed upload: {code}")
    # An aborted upload leaves nothing.
    up = s3.create_multipart_upload(Bucket=bucket, Key=key + ".aborted")
    s3.upload_part(Bucket=bucket, Key=key + ".aborted", UploadId=up["UploadId"], PartNumber=1, Body=b"x" * 1000)
    s3.abort_multipart_upload(Bucket=bucket, Key=key + ".aborted", UploadId=up["UploadId"])
    code, _ = error_of(s3.list_parts, Bucket=bucket, Key=key + ".aborted", UploadId=up["UploadId"])
    check(code == "NoSuchUpload", f"list parts of an aborted upload: {code}")
    code, _ = error_of(s3.head_object, Bucket=bucket, Key=key + ".aborted")
    check(code in ("404", "NoSuchKey", "Not Found"), "an aborted upload's object")


def slow_get(bucket, key, out, marker):
    """A GET read slowly (a slow client): MARKER is made once 8 MiB have arrived, and the rest
    is read at about 50 MiB/s, so the GET is still going when the test acts on the marker."""
    import time
    body = client().get_object(Bucket=bucket, Key=key)["Body"]
    got = 0
    with open(out, "wb") as f:
        for block in body.iter_chunks(1 << 20):
            f.write(block)
            got += len(block)
            if got >= (8 << 20) and not os.path.exists(marker):
                open(marker, "w").close()
            if got >= (8 << 20):
                time.sleep(0.02)


def start_upload(bucket, key):
    """Starts an upload with one part and prints its id (for the mount to look at)."""
    s3 = client()
    uid = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    s3.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=1, Body=b"p" * 4096)
    print(uid)


def abort_upload(bucket, key, uid):
    client().abort_multipart_upload(Bucket=bucket, Key=key, UploadId=uid)


def presigned(bucket, key, local):
    """Presigned GET and PUT work; a changed signature, path or expired URL are refused."""
    s3 = client()
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
    with urllib.request.urlopen(url) as r:
        check(hashlib.sha256(r.read()).hexdigest() == sha256_file(local), "presigned GET content")
    sig = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)["X-Amz-Signature"][0]
    tampered = url.replace(sig, ("0" if sig[0] != "0" else "1") + sig[1:])
    check_http_error(tampered, "GET", None, 403, "SignatureDoesNotMatch")
    other = url.replace(urllib.parse.quote(key), urllib.parse.quote(key) + "x", 1)
    check_http_error(other, "GET", None, 403, "SignatureDoesNotMatch")
    # Signed an hour ago for ten seconds: expired.
    fresh = presign_at(bucket, key, datetime.now(timezone.utc), 60)
    with urllib.request.urlopen(fresh) as r:
        check(r.status == 200, "a URL presigned by hand works")
    old = presign_at(bucket, key, datetime.now(timezone.utc) - timedelta(hours=1), 10)
    check_http_error(old, "GET", None, 403, "AccessDenied")
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": key + ".put"},
                                        ExpiresIn=300)
    body = os.urandom(300_000)
    req = urllib.request.Request(put_url, data=body, method="PUT")
    with urllib.request.urlopen(req) as r:
        check(r.status == 200, f"presigned PUT status {r.status}")
    got = s3.get_object(Bucket=bucket, Key=key + ".put")["Body"].read()
    check(got == body, "presigned PUT content")


def signing_key(day):
    def sign(key_bytes, msg):
        return hmac.new(key_bytes, msg.encode(), hashlib.sha256).digest()
    k = sign(("AWS4" + os.environ["AWS_SECRET_ACCESS_KEY"]).encode(), day)
    for part in (REGION, "s3", "aws4_request"):
        k = sign(k, part)
    return k


def presign_at(bucket, key, when, expires):
    """A presigned GET URL signed at time `when`, built by hand as AWS documents it."""
    amz_date, day = when.strftime("%Y%m%dT%H%M%SZ"), when.strftime("%Y%m%d")
    scope = f"{day}/{REGION}/s3/aws4_request"
    host = urllib.parse.urlparse(ENDPOINT).netloc
    path = "/" + bucket + "/" + urllib.parse.quote(key)
    query = {"X-Amz-Algorithm": "AWS4-HMAC-SHA256",
             "X-Amz-Credential": os.environ["AWS_ACCESS_KEY_ID"] + "/" + scope,
             "X-Amz-Date": amz_date, "X-Amz-Expires": str(expires), "X-Amz-SignedHeaders": "host"}
    q = "&".join(f"{urllib.parse.quote(k, safe='')}={urllib.parse.quote(v, safe='')}"
                 for k, v in sorted(query.items()))
    canonical = "\n".join(["GET", path, q, f"host:{host}\n", "host", "UNSIGNED-PAYLOAD"])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    sig = hmac.new(signing_key(day), to_sign.encode(), hashlib.sha256).hexdigest()
    return f"{ENDPOINT}{path}?{q}&X-Amz-Signature={sig}"


def check_http_error(url, method, body, status, code):
    try:
        urllib.request.urlopen(urllib.request.Request(url, data=body, method=method))
    except urllib.error.HTTPError as e:
        text = e.read().decode()
        check(e.code == status and f"<Code>{code}</Code>" in text, f"{method} answered {e.code} {text}")
        return
    check(False, f"{method} {url} succeeded, {status} {code} expected")


def bad_auth(bucket, key):
    """A wrong secret, an unknown key, no signature: refused with S3's codes, nothing written."""
    good = client()
    wrong = client(secret="not-the-secret-key-at-all-0000000000000000")
    code, status = error_of(wrong.put_object, Bucket=bucket, Key=key, Body=b"must not land")
    check((code, status) == ("SignatureDoesNotMatch", 403), f"wrong secret: {code} {status}")
    code, status = error_of(wrong.create_bucket, Bucket=bucket + "-evil")
    check(code == "SignatureDoesNotMatch", f"wrong secret, CreateBucket: {code}")
    unknown = client(access_key="SHOALNOSUCHKEY00000")
    code, status = error_of(unknown.get_object, Bucket=bucket, Key=key)
    check((code, status) == ("InvalidAccessKeyId", 403), f"unknown key: {code} {status}")
    code, status = error_of(unknown.delete_bucket, Bucket=bucket)
    check(code == "InvalidAccessKeyId", f"unknown key, DeleteBucket: {code}")
    check_http_error(f"{ENDPOINT}/{bucket}/{key}", "PUT", b"anonymous", 403, "AccessDenied")
    code, _ = error_of(good.head_object, Bucket=bucket, Key=key)
    check(code in ("404", "NoSuchKey", "Not Found"), "a refused PUT wrote nothing")
    good.head_bucket(Bucket=bucket)
    code, _ = error_of(good.head_bucket, Bucket=bucket + "-evil")
    check(code in ("404", "NoSuchBucket", "Not Found"), "a refused CreateBucket made nothing")


def chunked(bucket, key, bad_chunk):
    """A PUT with an aws-chunked body (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), signed by hand."""
    data = os.urandom(200_000)
    chunks = [data[i:i + 65536] for i in range(0, len(data), 65536)] + [b""]
    now = datetime.now(timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    access = os.environ["AWS_ACCESS_KEY_ID"]
    scope = f"{day}/{REGION}/s3/aws4_request"
    host = urllib.parse.urlparse(ENDPOINT).netloc
    path = "/" + bucket + "/" + urllib.parse.quote(key)

    k = signing_key(day)
    body_len = sum(len(f"{len(c):x};chunk-signature={'0' * 64}\r\n") + len(c) + 2 for c in chunks)
    headers = {"host": host, "x-amz-date": amz_date, "content-encoding": "aws-chunked",
               "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
               "x-amz-decoded-content-length": str(len(data)), "content-length": str(body_len)}
    signed = ";".join(sorted(headers))
    canonical = "\n".join(["PUT", path, "", "".join(f"{h}:{headers[h]}\n" for h in sorted(headers)),
                           signed, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    previous = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={access}/{scope}, SignedHeaders={signed}, "
                                f"Signature={previous}")
    body = b""
    for i, c in enumerate(chunks):
        s = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, previous,
                       hashlib.sha256(b"").hexdigest(), hashlib.sha256(c).hexdigest()])
        sig = hmac.new(k, s.encode(), hashlib.sha256).hexdigest()
        if bad_chunk == "bad" and i == 1:
            sig = "0" * 64
        body += f"{len(c):x};chunk-signature={sig}\r\n".encode() + c + b"\r\n"
        previous = sig
    conn = http.client.HTTPConnection(host, timeout=60)
    conn.request("PUT", path, body=body, headers=headers)
    r = conn.getresponse()
    text = r.read().decode()
    s3 = client()
    if bad_chunk == "bad":
        check(r.status == 403 and "<Code>SignatureDoesNotMatch</Code>" in text, f"bad chunk: {r.status} {text}")
        code, _ = error_of(s3.head_object, Bucket=bucket, Key=key)
        check(code in ("404", "NoSuchKey", "Not Found"), "a body with a bad chunk wrote nothing")
        return
    check(r.status == 200, f"aws-chunked PUT: {r.status} {text}")
    check(r.getheader("ETag") == '"%s"' % hashlib.md5(data).hexdigest(), "aws-chunked ETag")
    check(s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data, "aws-chunked content")


def deletes(bucket):
    """DeleteObjects (verbose and quiet); deleting a directory's last key removes the directory."""
    s3 = client()
    for k in ["del/a/1", "del/a/2", "del/b", "del/c/d/e"]:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "del/a/1"}, {"Key": "del/b"},
                                                             {"Key": "del/missing"}]})
    check(sorted(d["Key"] for d in r["Deleted"]) == ["del/a/1", "del/b", "del/missing"], f"deleted {r}")
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "del/a/2"}], "Quiet": True})
    check(r.get("Deleted", []) == [] and r.get("Errors", []) == [], f"quiet {r}")
    s3.delete_object(Bucket=bucket, Key="del/c/d/e")
    page = s3.list_objects_v2(Bucket=bucket, Prefix="del/", Delimiter="/")
    check(page["KeyCount"] == 0, f"nothing left under del/: {page.get('CommonPrefixes')}")
    s3.delete_object(Bucket=bucket, Key="del/never-was")


if __name__ == "__main__":
    globals()[sys.argv[1]](*sys.argv[2:])
