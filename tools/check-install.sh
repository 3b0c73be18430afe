#!/bin/sh
# CI (issue 20): builds vigil with Debian's hardening flags, installs it into
# a scratch DESTDIR and checks the tree, the hardening (fortify, relro, now)
# and the unit (systemd-analyze verify).  Exit 0 when all hold.
set -eu
cd "$(dirname "$0")/.."
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
CFLAGS="$(dpkg-buildflags --get CFLAGS)" CPPFLAGS="$(dpkg-buildflags --get CPPFLAGS)" \
LDFLAGS="$(dpkg-buildflags --get LDFLAGS)" \
    make --no-print-directory -j2 BUILD=build/dist PREFIX=/usr DESTDIR="$dest" install >/dev/null
for f in usr/bin/vigil usr/share/vigil/scripts/help.lua usr/share/vigil/lua/vigil/text.lua \
         etc/vigil/vigil.lua usr/lib/systemd/system/vigil.service usr/share/man/man1/vigil.1; do
    [ -f "$dest/$f" ] || { echo "check-install: $f is missing" >&2; exit 1; }
done
bin="$dest/usr/bin/vigil"
readelf -d "$bin" | grep -q 'BIND_NOW\|FLAGS.*NOW' || { echo "check-install: not linked with -z now" >&2; exit 1; }
readelf -lW "$bin" | grep -q GNU_RELRO || { echo "check-install: no RELRO" >&2; exit 1; }
readelf -sW "$bin" | grep -q '__[a-z_]*_chk@' || { echo "check-install: not fortified" >&2; exit 1; }
"$bin" check-config -c config/vigil.lua >/dev/null
MANPAGER=cat man -l "$dest/usr/share/man/man1/vigil.1" | grep -q 'EXIT STATUS'
mkdir "$dest/verify"
sed "s|/usr/bin/vigil|$bin|" "$dest/usr/lib/systemd/system/vigil.service" > "$dest/verify/vigil.service"
systemd-analyze verify --man=no "$dest/verify/vigil.service"
echo "check-install: the tree, the hardening and the unit are good"
