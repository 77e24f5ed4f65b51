#!/usr/bin/env bash
# Set up the project on a fresh Debian 12 machine.
#   scripts/setup.sh          -> .venv with the toolkit (the `regio` program)
#   scripts/setup.sh --test   -> additionally Debian's QGIS (python3-qgis) and the test tools
# The venv is made from Debian's /usr/bin/python3 with --system-site-packages so that the QGIS
# Python bindings (installed by apt) are importable next to our pip packages.
set -euo pipefail
cd "$(dirname "$0")/.."
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_pkgs=()
/usr/bin/python3 -c "import venv, ensurepip" 2>/dev/null || apt_pkgs+=(python3-venv)
if [ "$want_test" = 1 ]; then
  # python3-qgis: in-process plugin tests; qgis (+libqgis-app, qgis-common): /usr/bin/qgis_process
  /usr/bin/python3 -c "import qgis.core" 2>/dev/null || apt_pkgs+=(python3-qgis qgis-providers)
  command -v qgis_process >/dev/null 2>&1 || apt_pkgs+=(qgis)
fi
if [ "${#apt_pkgs[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${apt_pkgs[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv (from /usr/bin/python3, with system site packages for QGIS)"
  /usr/bin/python3 -m venv --system-site-packages .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
extras=""
[ "$want_test" = 1 ] && extras="[test]"
echo "setup: installing regio-toolkit${extras} (pinned by requirements/constraints.txt)"
.venv/bin/python -m pip install -q -c requirements/constraints.txt -e ".${extras}"
echo "setup: done. The program is .venv/bin/regio"
