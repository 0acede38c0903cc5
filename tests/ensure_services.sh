#!/usr/bin/env bash
# Make sure the real parts the tests talk to are here: PostgreSQL and Redis on 127.0.0.1,
# Chromium, sshd, CJK fonts and poppler. Installs from Debian's packages when run as root;
# otherwise says what is missing and stops.
set -uo pipefail

missing_pkgs=()
need() { command -v "$1" >/dev/null 2>&1 || [ -x "$1" ] || missing_pkgs+=("$2"); }
need pg_isready postgresql
need redis-server redis-server
need /usr/bin/chromium chromium
need /usr/sbin/sshd openssh-server
need pdftotext poppler-utils
need msgfmt gettext
fc-list 2>/dev/null | grep "Noto Sans CJK" >/dev/null || missing_pkgs+=(fonts-noto-cjk)

if [ ${#missing_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing Debian packages: ${missing_pkgs[*]}. Install them (sudo apt-get install ${missing_pkgs[*]}) and run again." >&2
    exit 1
  fi
  echo "Installing ${missing_pkgs[*]} from Debian's packages..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing_pkgs[@]}" >/dev/null || exit 1
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "PostgreSQL is not running on 127.0.0.1:5432. Start it, or run as root to let this script start it." >&2
    exit 1
  fi
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || exit 1
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Redis is not running on 127.0.0.1:6379. Start it, or run as root to let this script start it." >&2
    exit 1
  fi
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || exit 1
  for _ in $(seq 30); do redis-cli ping >/dev/null 2>&1 && break; sleep 1; done
fi
pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL did not come up." >&2; exit 1; }
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null || { echo "Redis did not come up." >&2; exit 1; }
echo "PostgreSQL and Redis are up on 127.0.0.1."
