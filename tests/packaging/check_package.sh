#!/usr/bin/env bash
# Installs into a staging folder and builds the .deb, then checks what users get: the file list,
# the desktop entry and AppStream metadata, the package's Depends, lintian, and that the installed
# CLI runs from the staging prefix.
#   check_package.sh BUILD_DIR
set -euo pipefail
BUILD=$(cd "$1" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "-- staged install"
DESTDIR="$WORK/stage" cmake --install "$BUILD" --prefix /usr > /dev/null
S="$WORK/stage/usr"
APP=io.github.cam_explorer.CamExplorer
for f in bin/cam-explorer bin/cam-explorer-cli \
         share/applications/$APP.desktop share/metainfo/$APP.metainfo.xml \
         share/icons/hicolor/scalable/apps/$APP.svg share/icons/hicolor/48x48/apps/$APP.png \
         share/icons/hicolor/256x256/apps/$APP.png \
         share/man/man1/cam-explorer.1.gz share/man/man1/cam-explorer-cli.1.gz \
         share/doc/cam-explorer/copyright; do
  [ -e "$S/$f" ] || fail "missing $f"
done
# Nothing in the installed files may point back into the build tree.
if grep -rl "$BUILD" "$S" > /dev/null 2>&1; then fail "installed files mention the build tree: $(grep -rl "$BUILD" "$S")"; fi

echo "-- desktop entry and metainfo"
desktop-file-validate "$S/share/applications/$APP.desktop"
appstreamcli validate --no-net --explain "$S/share/metainfo/$APP.metainfo.xml"

echo "-- the installed CLI runs from the staging prefix"
"$S/bin/cam-explorer-cli" info | tee "$WORK/info.txt"
grep -q "^LibTorch" "$WORK/info.txt" || fail "info printed no LibTorch version"
"$S/bin/cam-explorer-cli" make-demo --help > /dev/null
"$S/bin/cam-explorer-cli" train --help > /dev/null
"$S/bin/cam-explorer-cli" explain --help > /dev/null
"$S/bin/cam-explorer-cli" eval --help > /dev/null

echo "-- the Debian package"
(cd "$WORK" && cpack --config "$BUILD/CPackConfig.cmake" -B "$WORK/pkg" > "$WORK/cpack.log") || { cat "$WORK/cpack.log"; fail "cpack failed"; }
DEB=$(ls "$WORK"/pkg/*.deb)
dpkg-deb -c "$DEB" > "$WORK/files.txt"
for f in ./usr/bin/cam-explorer ./usr/bin/cam-explorer-cli ./usr/share/applications/$APP.desktop \
         ./usr/share/metainfo/$APP.metainfo.xml ./usr/share/doc/cam-explorer/copyright \
         ./usr/share/doc/cam-explorer/changelog.gz; do
  grep -q " $f\$" "$WORK/files.txt" || fail "the .deb lacks $f"
done
DEPENDS=$(dpkg-deb -f "$DEB" Depends)
echo "Depends: $DEPENDS"
IFS=',' read -ra deps <<< "$DEPENDS"
for d in "${deps[@]}"; do
  name=$(echo "$d" | awk '{print $1}')
  apt-cache show "$name" > /dev/null 2>&1 || fail "Depends names '$name', which apt-cache does not know"
done
echo "-- lintian"
lintian --fail-on error --tag-display-limit 0 "$DEB" | tee "$WORK/lintian.txt"
grep -q '^E:' "$WORK/lintian.txt" && fail "lintian reports errors"
echo "1 passed, 0 failed"
