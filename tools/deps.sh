#!/bin/sh
# Checks vigil's Debian packages (`deps.sh bench`: the benchmark's too) and installs the missing ones with apt-get.
# Idempotent: when everything is there it prints nothing and exits 0.
# libsystemd-dev: sd_notify; systemd: systemd-analyze verify of the unit;
# man-db: the man page test; procps: /bin/kill of the unit's ExecReload;
# dpkg-dev: dpkg-buildflags for tools/check-install.sh.
PKGS="pkg-config gcc make libwebsockets-dev libwebsockets-evlib-uv libuv1-dev
libcurl4-openssl-dev libssl-dev libjansson-dev liblua5.4-dev libreadline-dev
libsqlite3-dev libutf8proc-dev python3 tmux clang libclang-rt-14-dev valgrind openssl
lua-check libsystemd-dev systemd man-db procps dpkg-dev
python3-yaml python3-jsonschema tzdata"
# `make bench` also needs gnuplot for the chart and Node.js + npm for Hubot.
# A machine whose nodejs package already ships npm (NodeSource's does) must
# not get Debian's npm, which conflicts with it.
if [ "$1" = bench ]; then
    PKGS="$PKGS gnuplot-nox nodejs"
    command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"
fi

missing=""
for p in $PKGS; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
    case "$status" in
        *" installed") ;;
        *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0

cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" != 0 ]; then
    echo "vigil needs these Debian packages:$missing" >&2
    echo "Install them as root with:" >&2
    echo "  sudo sh -c '$cmd'" >&2
    exit 1
fi
echo "make deps: installing$missing"
apt-get update -q >/dev/null || { echo "make deps: apt-get update failed" >&2; exit 1; }
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null ||
    { echo "make deps: apt-get install failed:$missing" >&2; exit 1; }
