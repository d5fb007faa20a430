#!/usr/bin/env bash
# The swarm suite (test/swarm/): the reference stack deployed across a two-worker swarm, faults on tasks on a worker
# (and after a SIGKILL), node faults with Swarm's rescheduling, load from agents merged exactly. About 12 minutes on
# two cores with cold images (the server images are built and shipped into each worker), so it runs in the nightly
# workflow; `npm test` keeps the quickest swarm test (test/integration/swarm.test.ts: swarm up and down beside the
# compose stack). What it made (the compose stack, the workers, the swarm) is removed at the end unless
# FAULTLINE_KEEP_STACK=1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh || { [ -n "${CI:-}" ] && exit 3; echo "test: continuing without Docker; the swarm tests will be skipped (they fail when CI is set)" >&2; }
bash scripts/deps.sh
swarm_record="${FAULTLINE_HOME:-$HOME/.faultline}/swarm.json"
swarm_here=0
[ -e "$swarm_record" ] || swarm_here=1
started_here=0
if docker info >/dev/null 2>&1 && ! node bin/faultline.js stack status >/dev/null 2>&1; then started_here=1; fi
cleanup() {
  [ "${FAULTLINE_KEEP_STACK:-0}" = 1 ] && return
  docker info >/dev/null 2>&1 || return 0
  [ "$started_here" = 1 ] && { node bin/faultline.js stack down || true; }
  if [ "$swarm_here" = 1 ] && [ -e "$swarm_record" ]; then
    node bin/faultline.js swarm down || true
    # Leaving drops every running container's network on this engine: only when nothing else runs.
    if [ -z "$(docker ps -q)" ]; then node bin/faultline.js swarm down --leave || true; fi
  fi
}
trap cleanup EXIT
npx ava --concurrency=1 --timeout=15m 'test/swarm/**/*.test.ts'
