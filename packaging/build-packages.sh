#!/usr/bin/env bash
# build-packages.sh - build the .deb and the .rpm from the source tree.
# Called by `./build.sh package`; output:
#   build/pkg/wiremesh-<ver>.tar.gz          (the source: files git knows, no build/)
#   build/pkg/wiremesh_<ver>_<debarch>.deb   (debhelper, packaging/debian/)
#   build/pkg/wiremesh-<ver>.<rpmarch>.rpm   (rpmbuild -ba, packaging/rpm/wiremesh.spec)
#   build/pkg/wiremesh-<ver>-1.src.rpm       (the spec and the source tarball)
# The version is agent/version.h's WM_VERSION, nowhere else.
#
# The tree is copied to build/pkg/work/wiremesh-<ver>/ (the files git knows
# plus untracked ones it does not ignore), with packaging/debian as debian/,
# so the work tree itself is never written to. debian/rules and the spec both
# compile the binary with `./build.sh build build/wiremesh`. The rpm is built
# by rpmbuild from the spec and the source tarball alone, so it compiles from
# nothing. To save compiling for the deb, its staged tree starts from a copy
# of build/ (timestamps kept, so make rebuilds whatever is out of date);
# WM_PKG_CLEAN=1 compiles it from nothing too.
#
# Environment: WM_PKG_OUT (default build/pkg), WM_PKG_CLEAN=1,
# WM_PKG_KEEP=1 (keep the work directory), SOURCE_DATE_EPOCH (default: the
# last commit's time).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
OUT=${WM_PKG_OUT:-$TOP/build/pkg}
WORK=$OUT/work

die() { echo "build-packages: $*" >&2; exit 1; }

VERSION=$(sed -n 's/^#define WM_VERSION "\([^"]*\)".*/\1/p' "$TOP/agent/version.h")
[[ $VERSION =~ ^[0-9]+(\.[0-9]+)*([~+][A-Za-z0-9.~+]*)?$ ]] ||
	die "agent/version.h: bad or missing WM_VERSION '$VERSION'"

for tool in dpkg-buildpackage dh rpmbuild; do
	command -v "$tool" >/dev/null ||
		die "$tool not found (apt-get install debhelper dpkg-dev fakeroot rpm)"
done
DEB_ARCH=$(dpkg --print-architecture)
RPM_ARCH=$(rpm --eval '%{_arch}')

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git -C "$TOP" log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH

# Run a step quietly; on failure show the end of its log.
step() { # name log cmd...
	local name=$1 log=$2
	shift 2
	echo "  $name"
	if ! "$@" >"$log" 2>&1; then
		tail -n 60 "$log" >&2
		die "$name failed (log: $log)"
	fi
}

rm -rf "$WORK"
SRC=$WORK/wiremesh-$VERSION
mkdir -p "$SRC"

echo "wiremesh $VERSION: staging the source tree"
if git -C "$TOP" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$TOP" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			case $f in build/* | debian/*) continue ;; esac
			[ -e "$f" ] && printf '%s\0' "$f"
		done | tar -cf - --null --no-recursion -T -) | tar -xf - -C "$SRC"
else
	(cd "$TOP" && tar -cf - --exclude=./build --exclude=./.git --exclude=./debian .) |
		tar -xf - -C "$SRC"
fi
[ -f "$SRC/build.sh" ] && [ -f "$SRC/agent/version.h" ] || die "staging failed"

# The source tarball, before anything is built in the tree: what rpmbuild
# compiles from.
TARBALL=$WORK/wiremesh-$VERSION.tar.gz
tar -C "$WORK" --sort=name --owner=0 --group=0 --numeric-owner \
	--mtime="@$SOURCE_DATE_EPOCH" -cf - "wiremesh-$VERSION" | gzip -9 -n >"$TARBALL"

# The rpm: rpmbuild with the spec and the source tarball, nothing else, in
# the background while the deb builds (they share nothing but the tarball).
# --nodeps: BuildRequires name Fedora packages; the Debian ones are checked
# by dpkg-buildpackage below.
mkdir -p "$WORK/rpmbuild/SOURCES"
cp "$TARBALL" "$WORK/rpmbuild/SOURCES/"
step "rpmbuild" "$WORK/rpm.log" \
	rpmbuild -ba --nodeps --define "_topdir $WORK/rpmbuild" --define "_dbpath $WORK/rpmdb" \
	--define "wm_version $VERSION" "$TOP/packaging/rpm/wiremesh.spec" &
RPM_JOB=$!
# If the deb fails, wait for rpmbuild rather than leave it running.
trap 'wait' EXIT

if [ "${WM_PKG_CLEAN:-0}" != 1 ] && [ -x "$TOP/build/wiremesh" ]; then
	mkdir -p "$SRC/build"
	for f in obj libwm.a wiremesh tests; do
		[ -e "$TOP/build/$f" ] && cp -a "$TOP/build/$f" "$SRC/build/"
	done
fi

cp -a "$TOP/packaging/debian" "$SRC/debian"
chmod +x "$SRC/debian/rules"
rm -f "$SRC/debian/changelog.in"
sed -e "s/@VERSION@/$VERSION/g" \
	-e "s/@RFC2822DATE@/$(LC_ALL=C date -u -R -d "@$SOURCE_DATE_EPOCH")/g" \
	"$TOP/packaging/debian/changelog.in" >"$SRC/debian/changelog"

# --no-pre-clean keeps the build/ copied above.
step "dpkg-buildpackage" "$WORK/deb.log" \
	bash -c 'cd "$1" && dpkg-buildpackage -b -us -uc --no-pre-clean' _ "$SRC"
DEB=wiremesh_${VERSION}_${DEB_ARCH}.deb
[ -f "$WORK/$DEB" ] || die "dpkg-buildpackage made no $DEB"

wait "$RPM_JOB" || die "rpmbuild failed (log: $WORK/rpm.log)"
RPM_BUILT=$WORK/rpmbuild/RPMS/$RPM_ARCH/wiremesh-$VERSION-1.$RPM_ARCH.rpm
[ -f "$RPM_BUILT" ] || die "rpmbuild made no $RPM_BUILT"
RPM=wiremesh-$VERSION.$RPM_ARCH.rpm
SRPM_BUILT=$WORK/rpmbuild/SRPMS/wiremesh-$VERSION-1.src.rpm
[ -f "$SRPM_BUILT" ] || die "rpmbuild made no $SRPM_BUILT"

mkdir -p "$OUT"
rm -f "$OUT"/wiremesh_*.deb "$OUT"/wiremesh-dbgsym_*.deb "$OUT"/wiremesh-*.rpm \
	"$OUT"/wiremesh-*.tar.gz
cp "$WORK/$DEB" "$OUT/$DEB"
cp "$RPM_BUILT" "$OUT/$RPM"
cp "$SRPM_BUILT" "$OUT/"
cp "$TARBALL" "$OUT/"
if [ "${WM_PKG_KEEP:-0}" != 1 ]; then rm -rf "$WORK"; fi

echo "built:"
echo "  $OUT/wiremesh-$VERSION.tar.gz"
echo "  $OUT/$DEB"
echo "  $OUT/$RPM"
echo "  $OUT/wiremesh-$VERSION-1.src.rpm"
