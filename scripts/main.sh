#!/usr/bin/env bash
# The main job: bring up the reference stack, run the gameday experiments, write the report to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/deps.sh
node bin/faultline.js stack up
if [ -f experiments/gameday.yaml ] && node bin/faultline.js run --help >/dev/null 2>&1; then
  node bin/faultline.js run experiments/gameday.yaml --out "${FAULTLINE_OUT:-out}"
else
  node bin/faultline.js stack status
fi
