#!/usr/bin/env bash
# Acts on one server that scripts/up.sh started: scripts/node.sh stop|start|kill NAME
# NAME is the member's name as `shoal status` prints it (s2; m1, d3 when disaggregated); a bare
# number N still names the converged server sN.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
[ $# -eq 2 ] || die "usage: node.sh stop|start|kill NAME"
cmd=$1
key=$(member_key "$2") || die "no member $2 in this $(topology) cluster (members: $(member_keys | tr '\n' ' '))"
case $cmd in
  stop) stop_pidfile "$PIDS/server-$key.pid" ;;
  kill) [ -f "$PIDS/server-$key.pid" ] && kill -KILL "$(cat "$PIDS/server-$key.pid")" 2>/dev/null; rm -f "$PIDS/server-$key.pid" ;;
  start) start_server "$key" ;;
  *) die "unknown command $cmd" ;;
esac
