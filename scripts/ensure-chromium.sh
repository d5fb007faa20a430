#!/usr/bin/env bash
# Installs Debian's chromium for the HTML report tests when it is missing (as root); does nothing when it is there.
set -euo pipefail
command -v chromium > /dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null 2>&1; then
  echo "test: installing chromium for the HTML report tests" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium > /dev/null || { apt-get update -q > /dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium > /dev/null; }
else
  echo "test: chromium is missing (apt-get install chromium); the HTML report tests will fail" >&2
fi
