# The S3 gateway of a cluster that scripts/up.sh starts. Sourced after common.sh.
#
# One gateway on loopback (SHOAL_S3=0: none), port SHOAL_BASE_PORT + 80 (SHOAL_S3_PORT overrides), pid in
# $PIDS/s3.pid, log in $SHOAL_RUN/s3.log; $SHOAL_RUN/s3.env holds what an S3 client needs:
#   . run/s3.env && aws s3 ls
S3_PORT=${SHOAL_S3_PORT:-$((SHOAL_BASE_PORT + 80))}
S3_HEAP=${SHOAL_S3_HEAP:-384m}
S3_ENV=$SHOAL_RUN/s3.env

s3_classpath() { echo "$SHOAL_ROOT/s3-gateway/target/shoal-s3-gateway-0.1.0-SNAPSHOT.jar:$SHOAL_ROOT/s3-gateway/target/lib/*"; }

# s3_gateway ARGS...: runs `shoal s3 ARGS` in place of the calling (sub)shell, so that a
# background `s3_gateway ... &` has the gateway's own pid in $!.
s3_gateway() {
  # shellcheck disable=SC2086 # JAVA_OPTS is a list of options
  exec java -Xmx"$S3_HEAP" -XX:+ExitOnOutOfMemoryError $JAVA_OPTS -cp "$(s3_classpath)" \
    io.shoalfs.s3.S3GatewayMain "$@"
}

# Starts the gateway (with an access key made if the cluster has none) and writes s3.env;
# returns once it accepts connections.
start_s3_gateway() {
  [ "${SHOAL_S3:-1}" = 1 ] || return 0
  pid_alive "$PIDS/s3.pid" && return 0
  mkdir -p "$PIDS"
  rm -f "$SHOAL_RUN/s3.key"
  s3_gateway --host "$SHOAL_HOST" --port "$S3_PORT" --key-file "$SHOAL_RUN/s3.key" \
    "$ETCD_ENDPOINTS" >>"$SHOAL_RUN/s3.log" 2>&1 &
  echo $! >"$PIDS/s3.pid"
  WAIT_SECONDS=60 wait_for "s3 gateway" s3_answers || die "the S3 gateway did not start (see $SHOAL_RUN/s3.log)"
  {
    echo "export AWS_ENDPOINT_URL=http://$SHOAL_HOST:$S3_PORT"
    echo "export AWS_ACCESS_KEY_ID=$(sed -n 1p "$SHOAL_RUN/s3.key")"
    echo "export AWS_SECRET_ACCESS_KEY=$(sed -n 2p "$SHOAL_RUN/s3.key")"
    echo "export AWS_DEFAULT_REGION=us-east-1"
  } >"$S3_ENV"
  chmod 600 "$S3_ENV"
  log "S3 gateway on http://$SHOAL_HOST:$S3_PORT (credentials in $S3_ENV)"
}

# Whether the gateway has written its key and accepts connections (bash's /dev/tcp: no curl
# needed).
s3_answers() {
  pid_alive "$PIDS/s3.pid" && [ -s "$SHOAL_RUN/s3.key" ] \
    && (exec 3<>"/dev/tcp/$SHOAL_HOST/$S3_PORT") 2>/dev/null
}

stop_s3_gateway() { stop_pidfile "$PIDS/s3.pid"; }
