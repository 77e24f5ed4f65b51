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
  # the plugin's dependencies for QGIS's own Python (qgis_plugin/install_deps.py): the distribution's
  # numpy/pyproj (one BLAS and one PROJ in QGIS) and GEOS headers to build shapely against QGIS's GEOS
  /usr/bin/python3 -c "import numpy, pyproj" 2>/dev/null || apt_pkgs+=(python3-numpy python3-pyproj)
  command -v geos-config >/dev/null 2>&1 || apt_pkgs+=(libgeos-dev)
  [ -f "/usr/include/python3.11/Python.h" ] || apt_pkgs+=(python3-dev)
  command -v g++ >/dev/null 2>&1 || apt_pkgs+=(g++)
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
if [ "$want_test" = 1 ]; then
  # the QGIS plugin as a user installs it: its dependencies for QGIS's Python (tests/test_qgis_process.py)
  echo "setup: installing the QGIS plugin's dependencies for /usr/bin/python3 into .cache/qgis-deps"
  mkdir -p .cache
  /usr/bin/python3 qgis_plugin/install_deps.py --dest .cache/qgis-deps >.cache/qgis-deps.log 2>&1 \
    || { tail -20 .cache/qgis-deps.log; echo "setup: install_deps.py failed (log: .cache/qgis-deps.log)"; exit 1; }
  bash scripts/fix_qgis_process_wrapper.sh
fi
echo "setup: done. The program is .venv/bin/regio"
