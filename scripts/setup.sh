#!/usr/bin/env bash
# Installs whatever is missing for the demo, the tests or training, then links the assets that
# come from npm packages into public/. Safe to run again: each step checks first.
#
#   bash scripts/setup.sh [--python] [--browser] [--all]
#
# --python   Debian's torch/onnx/numpy/OpenBLAS for training/ (run with /usr/bin/python3)
# --browser  Debian's Chromium (for Playwright tests and screenshots) and CJK fonts
# --all      both
set -euo pipefail
cd "$(dirname "$0")/.."

want_python=0
want_browser=0
for arg in "$@"; do
  case "$arg" in
    --python) want_python=1 ;;
    --browser) want_browser=1 ;;
    --all) want_python=1 want_browser=1 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

apt_packages=()
if [ "$want_python" = 1 ]; then
  /usr/bin/python3 -c 'import torch, onnx, numpy' 2>/dev/null ||
    apt_packages+=(python3-torch python3-onnx python3-numpy)
  # NOTE: without OpenBLAS torch falls back to reference BLAS, ~35x slower here.
  dpkg -s libopenblas0-pthread >/dev/null 2>&1 || apt_packages+=(libopenblas0-pthread)
fi
if [ "$want_browser" = 1 ]; then
  [ -x /usr/bin/chromium ] || apt_packages+=(chromium)
  dpkg -s fonts-noto-cjk >/dev/null 2>&1 || apt_packages+=(fonts-noto-cjk)
fi
if [ "${#apt_packages[@]}" -gt 0 ]; then
  say "installing Debian packages: ${apt_packages[*]}"
  sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq \
    "${apt_packages[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi

node_modules/.bin/tsx scripts/link-assets.ts
