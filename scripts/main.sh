#!/usr/bin/env bash
# The main job: bring up both profiles of the reference stack (the classic design and the hardened one), run the
# same weakness experiments on each, and write one before/after report to out/ (before-after.md, .html, .json),
# with each profile's own reports in out/baseline/ and out/hardened/.
# Its job is the report. The experiments assert the hardened profile's goals, so the baseline fails them (that is
# the point: the failures are the design's weaknesses, measured) and `faultline run` exits 1 there; here that still
# counts as done, because the report was written. FAULTLINE_STRICT=1 passes a failure of the hardened run on.
# One stack at a time: two cores cannot run both side by side without the idle one's health checks distorting the
# other's numbers (44 containers, load average 80+ measured). The baseline is removed after its run; the hardened
# stack stays up (its cold start, three Galera nodes with state transfers, is the slow one), so a second run is
# warmer. `faultline stack down --profile hardened` removes it.
# Intervals: each headline figure has six samples or more from one round, because the suite repeats inside its runs
# (the writer killed six times, nginx taken down six times, the encryption looked at seven times; README, "Repetitions
# and confidence intervals"), so the report calls a change better or worse only where the 95 % intervals separate.
# FAULTLINE_REPEAT=N runs the whole suite N times on each profile besides, for the figures with one value per run
# (latency, monitoring). What one round costs is measured by bench/main.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/deps.sh
out="${FAULTLINE_OUT:-out}"
REPEAT_DEFAULT=1
repeat="${FAULTLINE_REPEAT:-$REPEAT_DEFAULT}"
started=$(date +%s)
rc=0
# The hardened stack, if a previous run left it up, waits stopped while the baseline runs (a clean stop: the Galera
# node that leaves last restarts the cluster from its state, no state transfer needed).
stopped=$(date +%s)
docker ps -q --filter label=faultline.stack=faultline-hardened | xargs -r docker stop -t 30 > /dev/null
echo "main: setup and the hardened stack stopped in $(($(date +%s) - started)) s ($(($(date +%s) - stopped)) s to stop it)" >&2
for profile in baseline hardened; do
  echo "main: [$profile] bringing the stack up" >&2
  up=$(date +%s)
  node bin/faultline.js stack up --profile "$profile"
  echo "main: [$profile] stack up in $(($(date +%s) - up)) s" >&2
  echo "main: [$profile] running experiments/before-after.yaml, $repeat time(s)" >&2
  prc=0
  ran=$(date +%s)
  node bin/faultline.js run experiments/before-after.yaml --profile "$profile" --repeat "$repeat" --out "$out/$profile" || prc=$?
  echo "main: [$profile] $repeat round(s) in $(($(date +%s) - ran)) s" >&2
  # 1 = some assertion failed (a finding); anything else means the run itself could not be done.
  if [ "$prc" != 0 ] && [ "$prc" != 1 ]; then
    echo "main: [$profile] the run failed (exit $prc); see $out/$profile/" >&2
    exit "$prc"
  fi
  if [ "$profile" = hardened ]; then
    rc=$prc
  else
    down=$(date +%s)
    node bin/faultline.js stack down
    echo "main: [$profile] stack down in $(($(date +%s) - down)) s" >&2
  fi
done
node bin/faultline.js before-after "$out/baseline/journal.json" "$out/hardened/journal.json" --label baseline --label hardened --out "$out"
echo "main: report written to $out/before-after.md and $out/before-after.html in $(($(date +%s) - started)) s" >&2
if [ "$rc" = 1 ]; then
  echo "main: the hardened profile missed a goal; see $out/hardened/report.md" >&2
  [ "${FAULTLINE_STRICT:-0}" = 1 ] && exit 1
fi
exit 0
