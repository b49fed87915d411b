#!/usr/bin/env bash
# Acts on one server that scripts/up.sh started: scripts/node.sh stop|start|kill N
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
[ $# -eq 2 ] || die "usage: node.sh stop|start|kill N"
cmd=$1; i=$2
case $cmd in
  stop) stop_pidfile "$PIDS/server-$i.pid" ;;
  kill) [ -f "$PIDS/server-$i.pid" ] && kill -KILL "$(cat "$PIDS/server-$i.pid")" 2>/dev/null; rm -f "$PIDS/server-$i.pid" ;;
  start) start_server "$i" ;;
  *) die "unknown command $cmd" ;;
esac
