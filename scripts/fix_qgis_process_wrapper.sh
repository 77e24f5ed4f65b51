#!/usr/bin/env bash
# Make Debian 12's /usr/bin/qgis_process usable (QGIS 3.22).
#
# Debian's /usr/bin/qgis and /usr/bin/qgis_process are one shell wrapper that runs "$0.bin $QGIS_OPTS"
# with QGIS_OPTS='--noversioncheck' from /etc/default/qgis. qgis_process 3.22 does not know that
# option and stops ("Command --noversioncheck not known!", QGIS issue #57683, fixed in later QGIS).
# This script keeps the option for the desktop and drops it for qgis_process. Idempotent; needs root.
set -euo pipefail
conf=/etc/default/qgis
marker="# regio-toolkit: qgis_process 3.22 rejects --noversioncheck"
[ -f "$conf" ] || { echo "fix_qgis_process_wrapper: $conf not found (not Debian's QGIS package): nothing to do"; exit 0; }
if grep -qF "$marker" "$conf"; then
  echo "fix_qgis_process_wrapper: $conf already fixed"
  exit 0
fi
if ! grep -q "^QGIS_OPTS=.*--noversioncheck" "$conf"; then
  echo "fix_qgis_process_wrapper: $conf does not pass --noversioncheck: nothing to do"
  exit 0
fi
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
tmp=$(mktemp)
sed "s|^QGIS_OPTS=\(.*\)--noversioncheck\(.*\)$|$marker (QGIS issue 57683)\ncase \"\$0\" in *qgis_process) QGIS_OPTS=\1\2 ;; *) QGIS_OPTS=\1--noversioncheck\2 ;; esac|" "$conf" > "$tmp"
as_root cp "$conf" "$conf.regio-backup"
as_root install -m 644 "$tmp" "$conf"
rm -f "$tmp"
echo "fix_qgis_process_wrapper: $conf now passes --noversioncheck to the desktop only (backup: $conf.regio-backup)"
