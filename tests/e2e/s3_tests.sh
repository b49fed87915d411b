# End-to-end tests of the S3 gateway that scripts/up.sh starts beside the mount (and of a
# second gateway on base+81 in s3_10): real S3
# clients (awscli, boto3 through s3_check.py) against the cluster of cluster_run.sh's phase
# three, and the same objects seen through the kernel mount at $MNT. Sourced by cluster_run.sh;
# the tests are discovered by name (s3_*), in name order. Needs harness.sh (fail, assert_eq)
# and cluster_tests.sh (shoal, poll_until, meta_leader, server_number, wait_pid, note).
#
# Contents are compared by sha256. Bucket names are the test's own, so a failed test leaves
# nothing that fails the next.

S3_CHECK="$ROOT_DIR/tests/e2e/s3_check.py"
# The e2e cluster's chunk size (cluster_tests.sh): big objects span more than two chunks.
S3_CHUNK=${CHUNK_SIZE:-$((64 << 20))}

# Installs the S3 clients when missing: awscli and boto3 from Debian (cluster_run.sh calls it
# before the s3_* tests).
ensure_s3_clients() {
  local missing=()
  command -v aws >/dev/null || missing+=(awscli)
  boto3_python >/dev/null || missing+=(python3-boto3)
  command -v curl >/dev/null || missing+=(curl)
  command -v getfattr >/dev/null || missing+=(attr)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "s3-e2e: installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
      || { echo "s3-e2e: could not install ${missing[*]}"; return 1; }
  fi
}

# The python3 that has boto3: the first on PATH, else the system's (python3-boto3).
boto3_python() {
  local p
  for p in python3 /usr/bin/python3; do
    if "$p" -c 'import boto3' 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

# Runs a command with the gateway's endpoint and credentials (up.sh's s3.env) exported, and an
# awscli configuration that presigns with Signature V4 (awscli 1 presigns with V2 by default,
# which the gateway refuses).
with_s3_env() {
  local config=$SHOAL_RUN/aws-config
  [ -f "$config" ] || printf '[default]\ns3 =\n    signature_version = s3v4\n' > "$config"
  ( . "$SHOAL_RUN/s3.env"; export AWS_CONFIG_FILE=$config; "$@" )
}
# awscli against the gateway (the endpoint given explicitly: older awscli ignore
# AWS_ENDPOINT_URL).
awss3() { with_s3_env sh -c 'exec aws --endpoint-url "$AWS_ENDPOINT_URL" --cli-read-timeout 120 "$@"' aws "$@"; }
s3check() {
  local py; py=$(boto3_python) || fail "no python3 with boto3 (ensure_s3_clients)"
  with_s3_env "$py" "$S3_CHECK" "$@"
}
sha_of() { sha256sum < "$1" | cut -d' ' -f1; }
# sha256 of an object, read through awscli to stdout.
object_sha() { awss3 s3 cp --only-show-errors "s3://$1" - | sha256sum | cut -d' ' -f1; }

# lists PATTERN TEXT: a line of TEXT matches. Not `command | grep -q`: grep stops at the first
# match, the command's next write then fails (SIGPIPE, "Broken pipe" from awscli), and under
# pipefail the pipe fails although the line was there (once earlier tests made enough buckets).
lists() { grep -q -- "$1" <<<"$2"; }

s3_1_buckets() {
  awss3 s3 mb s3://s3t-buckets
  lists ' s3t-buckets$' "$(awss3 s3 ls)" || fail "ListBuckets does not show s3t-buckets"
  [ -d "$MNT/s3t-buckets" ] || fail "the bucket is not a directory on the mount"
  awss3 s3api head-bucket --bucket s3t-buckets
  assert_fails_with "BucketAlreadyOwnedByYou" awss3 s3api create-bucket --bucket s3t-buckets
  assert_fails_with "InvalidBucketName" awss3 s3api create-bucket --bucket Not_A_Bucket
  echo hello > "$MNT/s3t-buckets/file"
  assert_fails_with "BucketNotEmpty" awss3 s3api delete-bucket --bucket s3t-buckets
  rm "$MNT/s3t-buckets/file"
  awss3 s3 rb s3://s3t-buckets
  # The mount looked the bucket up a moment ago (the rm above): its path cache (2 s) and the
  # kernel's entry cache (entry_timeout=1) may show the name that long after another client
  # removed it, never longer (README, "Client").
  poll_until 4 "the deleted bucket to leave the mount" test ! -e "$MNT/s3t-buckets"
  assert_fails_with "404" awss3 s3api head-bucket --bucket s3t-buckets
  assert_fails_with "NoSuchBucket" awss3 s3api delete-bucket --bucket s3t-buckets
  # A directory made on the mount is a bucket; the gateway's own is not.
  mkdir "$MNT/s3t-from-mount"
  lists ' s3t-from-mount$' "$(awss3 s3 ls)" || fail "a directory made on the mount is not a bucket"
  if lists '\.shoal-s3' "$(awss3 s3 ls)"; then fail "the gateway's own directory is listed"; fi
  rmdir "$MNT/s3t-from-mount"
}

s3_2_objects_through_s3_and_the_mount() {
  local b=s3t-objects f
  awss3 s3 mb s3://$b
  head -c $((3 << 20)) /dev/urandom > "$SCRATCH/s3-3m"
  head -c 1000 /dev/urandom > "$SCRATCH/s3-1k"
  : > "$SCRATCH/s3-empty"
  for f in s3-3m s3-1k s3-empty; do
    awss3 s3 cp --only-show-errors "$SCRATCH/$f" "s3://$b/put/deep/er/$f"
    assert_eq "$(sha_of "$MNT/$b/put/deep/er/$f")" "$(sha_of "$SCRATCH/$f")" "$f read on the mount"
    assert_eq "$(object_sha "$b/put/deep/er/$f")" "$(sha_of "$SCRATCH/$f")" "$f read through S3"
  done
  # Written on the mount: listed and read through S3, with a stable ETag.
  mkdir -p "$MNT/$b/mounted/sub"
  head -c $((5 << 20)) /dev/urandom > "$MNT/$b/mounted/sub/m5"
  echo "small" > "$MNT/$b/mounted/top"
  awss3 s3 ls --recursive "s3://$b/mounted/" > "$SCRATCH/s3-ls"
  grep -q ' 5242880 mounted/sub/m5$' "$SCRATCH/s3-ls" || fail "mount file not listed: $(cat "$SCRATCH/s3-ls")"
  grep -q ' 6 mounted/top$' "$SCRATCH/s3-ls" || fail "mount file not listed: $(cat "$SCRATCH/s3-ls")"
  assert_eq "$(object_sha "$b/mounted/sub/m5")" "$(sha_of "$MNT/$b/mounted/sub/m5")" "mount file through S3"
  local e1 e2
  e1=$(awss3 s3api head-object --bucket $b --key mounted/top --query ETag --output text)
  e2=$(awss3 s3api head-object --bucket $b --key mounted/top --query ETag --output text)
  assert_eq "$e1" "$e2" "the ETag of a file written on the mount"
  echo "changed" > "$MNT/$b/mounted/top"
  e2=$(awss3 s3api head-object --bucket $b --key mounted/top --query ETag --output text)
  [ "$e1" != "$e2" ] || fail "the ETag did not change with the file"
  # The metadata is on the mount as xattrs.
  s3check metadata $b
  getfattr -n user.s3.content-type --only-values "$MNT/$b/meta/obj" | grep -qx 'text/x-shoal' \
    || fail "Content-Type is not the xattr user.s3.content-type on the mount"
  getfattr -n user.s3.meta.color --only-values "$MNT/$b/meta/obj" | grep -qx 'blue' \
    || fail "x-amz-meta-color is not the xattr user.s3.meta.color on the mount"
  # Overwritten through S3: the mount sees the new object whole.
  awss3 s3 cp --only-show-errors "$SCRATCH/s3-1k" "s3://$b/put/deep/er/s3-3m"
  assert_eq "$(sha_of "$MNT/$b/put/deep/er/s3-3m")" "$(sha_of "$SCRATCH/s3-1k")" "overwritten object on the mount"
  s3check conditional $b put/deep/er/s3-3m
  s3check deletes $b
  [ ! -e "$MNT/$b/del" ] || fail "deleting the last keys under del/ left the directory"
  # Nothing staged is left over, and nothing of the gateway is in the bucket.
  assert_eq "$(ls -A "$MNT/.shoal-s3/staging" | wc -l)" 0 "files left under staging"
  awss3 s3 rm --only-show-errors --recursive "s3://$b"
  awss3 s3 rb s3://$b
}

s3_3_listing_order_and_pages() {
  awss3 s3 mb s3://s3t-order
  s3check order s3t-order
  awss3 s3 rb s3://s3t-order
}

s3_4_ten_thousand_keys() {
  local b=s3t-many d f
  awss3 s3 mb s3://$b
  # Made on the mount, fast: 100 directories of 100 files, "D F" in each.
  for d in $(seq 0 99); do
    mkdir "$MNT/$b/$(printf 'd%03d' "$d")"
    for f in $(seq 0 99); do
      echo "$d $f" > "$MNT/$b/$(printf 'd%03d/f%04d' "$d" "$f")"
    done
  done
  local t0=$SECONDS
  s3check many $b 100 100
  note "s3: listed 10,000 keys (delimited, then all by V2 and by V1) in $((SECONDS - t0)) s"
  assert_eq "$(awss3 s3 ls --recursive "s3://$b" | wc -l)" 10000 "aws s3 ls --recursive"
  rm -rf "${MNT:?}/$b"
}

s3_5_multipart_and_ranges_across_chunks() {
  local b=s3t-big size=$((2 * S3_CHUNK + (5 << 20)))
  awss3 s3 mb s3://$b
  head -c "$size" /dev/urandom > "$SCRATCH/s3-big"
  # awscli splits it into 8 MiB parts.
  awss3 s3 cp --only-show-errors "$SCRATCH/s3-big" "s3://$b/cli/big"
  local etag; etag=$(awss3 s3api head-object --bucket $b --key cli/big --query ETag --output text)
  [[ $etag =~ -[0-9]+\"$ ]] || fail "awscli's upload was not multipart: ETag $etag"
  assert_eq "$(sha_of "$MNT/$b/cli/big")" "$(sha_of "$SCRATCH/s3-big")" "multipart object on the mount"
  assert_eq "$(object_sha "$b/cli/big")" "$(sha_of "$SCRATCH/s3-big")" "multipart object through S3"
  s3check ranges $b cli/big "$SCRATCH/s3-big" "$S3_CHUNK"
  # By hand, in parts of one chunk: listing, errors, the S3 ETag, metadata, abort. The two
  # whole-chunk parts start at chunk boundaries of the object, so completion moves their
  # chunks into it (the gateway logs what it moved and what it copied: the 5 MiB tail).
  s3check multipart $b hand/big "$SCRATCH/s3-big" "$S3_CHUNK"
  local completed
  completed=$(grep -F " of $b/hand/big: " "$SHOAL_RUN/s3.log" | tail -n 1) || true
  local whole=$((size / S3_CHUNK))
  assert_eq "${completed#*: }" "$((whole + 1)) parts, $whole of them ($whole chunks) moved, $((size % S3_CHUNK)) bytes copied" \
    "hand multipart assembled by moving chunks"
  assert_eq "$(sha_of "$MNT/$b/hand/big")" "$(sha_of "$SCRATCH/s3-big")" "hand multipart on the mount"
  # A file written on the mount, read through S3 in ranges across its chunks.
  cp "$SCRATCH/s3-big" "$MNT/$b/mounted-big"
  s3check ranges $b mounted-big "$SCRATCH/s3-big" "$S3_CHUNK"
  # CopyObject of a big object, and awscli's own download of it.
  awss3 s3 cp --only-show-errors "s3://$b/cli/big" "s3://$b/copied/big"
  awss3 s3 cp --only-show-errors "s3://$b/copied/big" "$SCRATCH/s3-big.back"
  assert_eq "$(sha_of "$SCRATCH/s3-big.back")" "$(sha_of "$SCRATCH/s3-big")" "copied big object"
  rm -f "$SCRATCH/s3-big" "$SCRATCH/s3-big.back"
  rm -rf "${MNT:?}/$b"
}

s3_6_uploads_invisible_until_complete() {
  local b=s3t-uploads uid
  awss3 s3 mb s3://$b
  uid=$(s3check start_upload $b pending/obj)
  [ ! -e "$MNT/$b/pending" ] || fail "an upload in progress is visible on the mount"
  assert_eq "$(ls -A "$MNT/$b" | wc -l)" 0 "entries in the bucket during an upload"
  lists "$uid" "$(awss3 s3api list-multipart-uploads --bucket $b)" || fail "the upload is not listed"
  s3check abort_upload $b pending/obj "$uid"
  [ ! -e "$MNT/.shoal-s3/uploads/$b/$uid" ] || fail "the aborted upload's parts are left"
  awss3 s3 rb s3://$b
}

s3_7_presigned_urls() {
  local b=s3t-presign
  awss3 s3 mb s3://$b
  head -c 100000 /dev/urandom > "$SCRATCH/s3-pre"
  awss3 s3 cp --only-show-errors "$SCRATCH/s3-pre" "s3://$b/some key+odd/é"
  local url; url=$(awss3 s3 presign "s3://$b/some key+odd/é" --expires-in 300)
  assert_eq "$(curl -sf "$url" | sha256sum | cut -d' ' -f1)" "$(sha_of "$SCRATCH/s3-pre")" "aws s3 presign + curl"
  s3check presigned $b "some key+odd/é" "$SCRATCH/s3-pre"
  awss3 s3 rm --only-show-errors --recursive "s3://$b"
  awss3 s3 rb s3://$b
}

s3_8_bad_signatures_refused() {
  local b=s3t-auth
  awss3 s3 mb s3://$b
  s3check bad_auth $b refused/obj
  [ ! -e "$MNT/$b/refused" ] || fail "a refused PUT left something on the mount"
  assert_fails_with "SignatureDoesNotMatch" with_s3_env sh -c \
    'AWS_SECRET_ACCESS_KEY=wrong-secret exec aws --endpoint-url "$AWS_ENDPOINT_URL" s3 ls "s3://$0"' $b
  s3check chunked $b streamed/obj good
  s3check chunked $b streamed/bad bad
  [ ! -e "$MNT/$b/streamed/bad" ] || fail "a body with a bad chunk signature landed"
  awss3 s3 rm --only-show-errors --recursive "s3://$b"
  awss3 s3 rb s3://$b
}

# kill -9 of the metadata leader during a multipart upload and during a large GET: the
# clients' retries (and the gateway's) carry them through, and the content is intact.
s3_9_leader_killed_during_upload_and_get() {
  local b=s3t-failover size=$((2 * S3_CHUNK + (5 << 20))) leader n
  awss3 s3 mb s3://$b
  head -c "$size" /dev/urandom > "$SCRATCH/s3-fo"
  awss3 s3 cp --only-show-errors "$SCRATCH/s3-fo" "s3://$b/before"
  leader=$(meta_leader) || fail "shoal status names no metadata leader"
  n=$(server_number "$leader")
  awss3 s3 cp --only-show-errors "$SCRATCH/s3-fo" "s3://$b/during" &
  local up=$!
  poll_until 120 "the multipart upload to start" upload_under_way $b
  rm -f "$SCRATCH/s3-fo.reading"
  s3check slow_get $b before "$SCRATCH/s3-fo.get" "$SCRATCH/s3-fo.reading" &
  local get=$!
  poll_until 120 "the GET to start" test -e "$SCRATCH/s3-fo.reading"
  kill -0 "$up" 2>/dev/null || note "s3 failover: note: the upload ended before the kill"
  kill -0 "$get" 2>/dev/null || note "s3 failover: note: the GET ended before the kill"
  bash "$ROOT_DIR/scripts/node.sh" kill "$n"
  note "s3: killed the metadata leader $leader during an upload and a GET"
  wait_pid "$up" 600 "the multipart upload across the failover"
  wait_pid "$get" 600 "the GET across the failover"
  assert_eq "$(sha_of "$SCRATCH/s3-fo.get")" "$(sha_of "$SCRATCH/s3-fo")" "GET across the failover"
  assert_eq "$(object_sha "$b/during")" "$(sha_of "$SCRATCH/s3-fo")" "upload across the failover"
  start_server_and_wait "$n"
  rm -f "$SCRATCH/s3-fo" "$SCRATCH/s3-fo.get"
  rm -rf "${MNT:?}/$b"
}

# Whether an upload of bucket $1 has a part stored already.
upload_under_way() { [ -n "$(find "$MNT/.shoal-s3/uploads/$1" -type f 2>/dev/null | head -n 1)" ]; }

# awscli against another gateway of the cluster, on 127.0.0.1:PORT.
awss3_at() {
  local port=$1; shift
  with_s3_env sh -c 'port=$1; shift; exec aws --endpoint-url "http://127.0.0.1:$port" --cli-read-timeout 120 "$@"' aws "$port" "$@"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Two gateways on one cluster: each sees what the other wrote, and two PUTs of one key at once
# through both leave one of the two objects whole, on both and on the mount.
s3_10_two_gateways_one_namespace() {
  local b=s3t-two port=$((SHOAL_BASE_PORT + 81)) second sha
  awss3 s3 mb s3://$b
  bash "$ROOT_DIR/scripts/shoal" s3 --port "$port" >>"$SHOAL_RUN/s3-second.log" 2>&1 &
  second=$!
  # The test runs in its own subshell: however it ends, the second gateway goes with it.
  # shellcheck disable=SC2064 # the pid now: the local is gone when the trap runs
  trap "kill $second 2>/dev/null || true" EXIT
  poll_until 60 "the second gateway to listen" port_open "$port"
  head -c $((20 << 20)) /dev/urandom > "$SCRATCH/s3-two-a"
  head -c $((30 << 20)) /dev/urandom > "$SCRATCH/s3-two-b"
  awss3_at "$port" s3 cp --only-show-errors "$SCRATCH/s3-two-a" "s3://$b/from-second"
  assert_eq "$(object_sha "$b/from-second")" "$(sha_of "$SCRATCH/s3-two-a")" "written by one gateway, read by the other"
  awss3 s3 cp --only-show-errors "$SCRATCH/s3-two-a" "s3://$b/same" &
  local one=$!
  awss3_at "$port" s3 cp --only-show-errors "$SCRATCH/s3-two-b" "s3://$b/same" &
  local two=$!
  wait_pid "$one" 300 "the PUT through the first gateway"
  wait_pid "$two" 300 "the PUT through the second gateway"
  sha=$(sha_of "$MNT/$b/same")
  [ "$sha" = "$(sha_of "$SCRATCH/s3-two-a")" ] || [ "$sha" = "$(sha_of "$SCRATCH/s3-two-b")" ] \
    || fail "two PUTs of one key at once left neither object whole"
  assert_eq "$(object_sha "$b/same")" "$sha" "the key through the first gateway"
  assert_eq "$(awss3_at "$port" s3 cp --only-show-errors "s3://$b/same" - | sha256sum | cut -d' ' -f1)" "$sha" \
    "the key through the second gateway"
  kill "$second"
  wait "$second" 2>/dev/null || true
  rm -f "$SCRATCH/s3-two-a" "$SCRATCH/s3-two-b"
  rm -rf "${MNT:?}/$b"
}
