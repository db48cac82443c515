#!/usr/bin/env bash
# Debian's Chromium and ChromeDriver for the officers' browser test (tests/officer/test_officer_browser.py).
# Installs them only when missing; never downloads a browser build of its own (Playwright's
# `install` is not used: the test points Playwright at /usr/bin/chromium).
# Without root or apt-get it only says so: the browser test then skips with the reason.
set -uo pipefail

if command -v chromium >/dev/null 2>&1; then
  echo "chromium: $(chromium --version 2>/dev/null | head -n1)"
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium is missing and cannot be installed here (needs root and apt-get); the browser test will skip"
  exit 0
fi
echo "installing Debian's chromium and chromium-driver"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq chromium chromium-driver >/dev/null \
  || echo "apt-get could not install chromium; the browser test will skip"
command -v chromium >/dev/null 2>&1 && chromium --version 2>/dev/null | head -n1
exit 0
