#!/usr/bin/env bash
# Run a command while a rasa-sdk action server listens on PORT; stop the server afterwards.
# Usage: scripts/with_action_server.sh PORT COMMAND [ARG...]
set -euo pipefail
port=$1; shift
log=${ACTIONS_LOG:-results/action_server.log}
mkdir -p "$(dirname "$log")"
.venv/bin/rasa run actions --port "$port" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  if curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 $server 2>/dev/null; then echo "action server failed to start; see $log" >&2; cat "$log" >&2; exit 1; fi
  sleep 0.5
done
curl -fs "http://127.0.0.1:$port/health" >/dev/null || { echo "action server not healthy; see $log" >&2; exit 1; }
export ACTION_ENDPOINT_URL="http://127.0.0.1:$port/webhook"
"$@"
