#!/usr/bin/env bash
# The S3 gateway's throughput beside the mount's for the same bytes, one client, one request
# at a time: PUT and GET of 1 MiB and 64 MiB objects (MiB/s), and PUT and GET of 4 KiB objects
# (objects/s); then the time CompleteMultipartUpload takes for 4 parts of one chunk each (64 MiB,
# the default chunk size of up.sh's servers: moved into the object) and for 4 parts of 48 MiB
# (copied through the gateway). Starts its own 3-server cluster with scripts/up.sh in a new
# temporary directory, prints Markdown tables, and stops the cluster.
#   scripts/bench-s3.sh
# Environment: SHOAL_BASE_PORT (default 9800), BENCH_S3_ROUNDS (objects per size, default 20
# of 1 MiB and 4 of 64 MiB), BENCH_S3_SMALL (4 KiB objects, default 300), SHOAL_SKIP_BUILD.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
work=$(mktemp -d /tmp/shoal-bench-s3.XXXXXX)
export SHOAL_RUN=$work/shoal SHOAL_BASE_PORT=${SHOAL_BASE_PORT:-9800}
. "$(dirname "$0")/lib/s3.sh"
rounds=${BENCH_S3_ROUNDS:-20}
small=${BENCH_S3_SMALL:-300}
mnt=$work/mnt
trap 'bash "$SHOAL_ROOT/scripts/down.sh" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

bash "$SHOAL_ROOT/scripts/up.sh" -n 3 "$mnt" >&2
python=python3
"$python" -c 'import boto3' 2>/dev/null || python=/usr/bin/python3

# bench_s3 NAME SIZE COUNT: "PUT GET" rates through the gateway (MiB/s, or objects/s for 4 KiB).
bench_s3() {
  ( . "$S3_ENV"; "$python" - "$@" <<'EOF'
import os, sys, time, boto3
from botocore.config import Config
name, size, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                  config=Config(s3={"addressing_style": "path"}))
bucket = "bench-" + name
s3.create_bucket(Bucket=bucket)
body = os.urandom(size)
t = time.monotonic()
for i in range(count):
    s3.put_object(Bucket=bucket, Key=f"o{i}", Body=body)
put = time.monotonic() - t
t = time.monotonic()
for i in range(count):
    got = s3.get_object(Bucket=bucket, Key=f"o{i}")["Body"].read()
    assert len(got) == size
get = time.monotonic() - t
unit = count if size < (1 << 20) else size * count / (1 << 20)
print(f"{unit / put:.1f} {unit / get:.1f}")
EOF
  )
}

# bench_complete PART_MIB PARTS: seconds CompleteMultipartUpload takes (median of 3 uploads) for
# PARTS parts of PART_MIB MiB each.
bench_complete() {
  ( . "$S3_ENV"; "$python" - "$@" <<'EOF'
import os, sys, time, boto3
from botocore.config import Config
part, parts = int(sys.argv[1]) << 20, int(sys.argv[2])
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                  config=Config(s3={"addressing_style": "path"}, read_timeout=600))
bucket = f"bench-complete-{part >> 20}"
s3.create_bucket(Bucket=bucket)
body = os.urandom(part)
times = []
for round in range(3):
    key = f"o{part}-{round}"
    uid = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    done = [{"PartNumber": n, "ETag": s3.upload_part(Bucket=bucket, Key=key, UploadId=uid,
             PartNumber=n, Body=body)["ETag"]} for n in range(1, parts + 1)]
    t = time.monotonic()
    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=uid,
                                 MultipartUpload={"Parts": done})
    times.append(time.monotonic() - t)
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == part * parts
    s3.delete_object(Bucket=bucket, Key=key)
print(f"{sorted(times)[1]:.2f}")
EOF
  )
}

# bench_mount NAME SIZE COUNT: the same through the mount, from the same kind of loop: each file
# written and closed, then each read with the kernel's page cache dropped.
bench_mount() {
  "$python" - "$mnt" "$@" <<'EOF'
import os, sys, time
mnt, name, size, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
d = os.path.join(mnt, "mount-" + name)
os.makedirs(d, exist_ok=True)
body = os.urandom(size)
t = time.monotonic()
for i in range(count):
    with open(os.path.join(d, f"o{i}"), "wb") as f:
        f.write(body)
put = time.monotonic() - t
os.system("sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null")
t = time.monotonic()
for i in range(count):
    with open(os.path.join(d, f"o{i}"), "rb") as f:
        assert len(f.read()) == size
get = time.monotonic() - t
unit = count if size < (1 << 20) else size * count / (1 << 20)
print(f"{unit / put:.1f} {unit / get:.1f}")
EOF
}

echo "| objects | S3 PUT | S3 GET | mount write | mount read |"
echo "| --- | --- | --- | --- | --- |"
for spec in "1mib $((1 << 20)) $rounds MiB/s" "64mib $((64 << 20)) $(((rounds + 4) / 5)) MiB/s" \
    "4kib 4096 $small objects/s"; do
  read -r name size count unit <<<"$spec"
  read -r sput sget < <(bench_s3 "$name" "$size" "$count")
  read -r mput mget < <(bench_mount "$name" "$size" "$count")
  echo "| $count x $name ($unit) | $sput | $sget | $mput | $mget |"
done
echo
echo "| CompleteMultipartUpload | seconds (median of 3) |"
echo "| --- | --- |"
for spec in "64 4" "48 4"; do
  read -r part parts <<<"$spec"
  seconds=$(bench_complete "$part" "$parts")
  echo "| $parts parts of $part MiB | $seconds |"
done
