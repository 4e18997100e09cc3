#!/usr/bin/env bash
# System packages voxpy needs beyond its Python wheels, from Debian (bookworm: kamailio 5.6).
#
#   scripts/install-system-deps.sh           kamailio (the SIP front of `voxpy serve`),
#                                            sip-tester (SIPp: tests/edge bursts, bench/) and
#                                            chromium (the web console's browser tests, driven
#                                            by Playwright with executable_path=/usr/bin/chromium)
#   scripts/install-system-deps.sh --bench   the same (kept for old callers)
#   scripts/install-system-deps.sh --runtime kamailio only: what `voxpy serve` needs to run
#                                            (the Dockerfile: no test tools in the image)
#
# Run as root. Idempotent: installs only what is missing, and does nothing (not even
# `apt-get update`) when everything is there. The Dockerfile and .ci/run both run it, so CI
# proves the image's install steps. ffmpeg is deliberately not installed: voxpy uses the
# static ffmpeg that the imageio-ffmpeg wheel ships, and espeak-ng comes as a wheel too.
set -euo pipefail

# sip-tester is installed by default: tests/edge/test_burst.py drives SIPp bursts in CI.
# chromium too: tests/server/test_console_browser.py runs the console in it (CI fails without).
packages=(kamailio sip-tester chromium)
case "${1:-}" in
  "" | --bench) ;;
  --runtime) packages=(kamailio) ;;  # chromium alone is several hundred MB the image never uses
  *) echo "usage: $0 [--bench | --runtime]" >&2; exit 2 ;;
esac

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-system-deps: need root to install: ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"

# `voxpy serve` runs its own Kamailio in the foreground; a packaged service started by systemd
# would hold port 5060. Only warn: this script must not stop services on someone's host.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet kamailio 2>/dev/null; then
  echo "install-system-deps: note: the kamailio system service is running; stop it" \
       "(systemctl disable --now kamailio) if voxpy serve should use port 5060" >&2
fi
