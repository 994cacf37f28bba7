#!/usr/bin/env bash
# Builds a windowed-ABI Xtensa cross toolchain (target xtensa-esp32-elf: binutils 2.40, C-only GCC 12.2 + libgcc)
# from Debian's source packages binutils-source and gcc-12-source, for the emulated ESP32 target (QEMU core
# de233_fpu). Installed once per machine into a cache outside the repository:
#   ${MNV3C_TOOLCHAIN_CACHE:-/opt/mnv3c (or ~/.cache/mnv3c if /opt is not writable)}/xtensa-esp32-<hash>
# where <hash> covers this script's non-comment lines (so editing comments does not rebuild). A second run only
# checks. `--print-prefix` prints that directory and exits. Exit 0 = toolchain ready; any failure names the step
# and shows the end of its log.
#
# Core configuration (GCC and binutils read it at build time from include/xtensa-config.h): the sources' default
# configuration, unchanged except XCHAL_HAVE_BE 1 -> 0 (little-endian, as ESP32 and QEMU's de233_fpu; the
# default instruction tables in bfd/xtensa-modules.c are already little-endian). That default is windowed ABI,
# 32 AR registers, density, MUL16, MUL32, DIV32, NSA, MINMAX, SEXT, LOOPS, ABS/ADDX, L32R, S32C1I, THREADPTR,
# and is a subset of de233_fpu. Options a real ESP32 (LX6) has that this build does not use:
#   MUL32_HIGH (MULSH/MULUH; de233_fpu lacks them, so GCC must not emit them: 64-bit products go through libgcc),
#   MAC16 (GCC leaves it unused; the esp32 kernels use it in inline assembly, which binutils' default
#   instruction tables assemble), FP (single-precision hardware float: soft-float here), BOOLEANS;
#   ESP32-S3's SIMD (EE.*) is absent too.
# Timing: ~25 min on an idle 2-core machine (binutils ~5, GCC + libgcc ~20); 95 min measured on a loaded one.
set -euo pipefail

BINUTILS_TAR=/usr/src/binutils/binutils-2.40.tar.xz
GCC_TAR=/usr/src/gcc-12/gcc-12.2.0-dfsg.tar.xz
TARGET=xtensa-esp32-elf
HERE="$(cd "$(dirname "$0")" && pwd)"
SELF="$HERE/$(basename "$0")"
HASH=$(grep -v '^[[:space:]]*#' "$SELF" | sha256sum | cut -c1-12)

cache_root() {
  if [ -n "${MNV3C_TOOLCHAIN_CACHE:-}" ]; then echo "$MNV3C_TOOLCHAIN_CACHE"
  elif mkdir -p /opt/mnv3c 2>/dev/null && [ -w /opt/mnv3c ]; then echo /opt/mnv3c
  else echo "${XDG_CACHE_HOME:-$HOME/.cache}/mnv3c"; fi
}
ROOT=$(cache_root)
PREFIX="$ROOT/xtensa-esp32-$HASH"
if [ "${1:-}" = "--print-prefix" ]; then echo "$PREFIX"; exit 0; fi

msg() { echo "xtensa-esp32 toolchain: $*" >&2; }
if [ -f "$PREFIX/.complete" ]; then exit 0; fi

mkdir -p "$ROOT"
exec 9>"$ROOT/.xtensa-esp32.lock"
flock 9  # a concurrent install waits for this one
if [ -f "$PREFIX/.complete" ]; then exit 0; fi

need=()
[ -f "$BINUTILS_TAR" ] || need+=(binutils-source)
[ -f "$GCC_TAR" ] || need+=(gcc-12-source)
for pkg in libgmp-dev libmpfr-dev libmpc-dev flex bison xz-utils make gcc g++; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  msg "apt-get install ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

BUILD="$ROOT/build-xtensa-esp32-$HASH"
rm -rf "$PREFIX" "$BUILD"
mkdir -p "$BUILD" "$PREFIX"
JOBS=$(nproc)
renice -n 10 $$ >/dev/null  # low priority for this script and everything it starts
START=$(date +%s)
STEP=0

# step NAME CMD...: runs CMD (a subshell) with its output in $BUILD/NAME.log; on failure says where and stops.
step() {
  local name=$1; shift
  STEP=$((STEP + 1))
  msg "[$STEP/10] $name ($(( ($(date +%s) - START) / 60 )) min so far)"
  ( "$@" ) >"$BUILD/$name.log" 2>&1 &  # in the background so that set -e holds inside (not in an `if`)
  if ! wait $!; then
    msg "FAILED at step '$name'; last lines of $BUILD/$name.log:"
    tail -n 30 "$BUILD/$name.log" >&2
    exit 1
  fi
}

little_endian() {  # the core configuration described above
  sed -i 's/^#define XCHAL_HAVE_BE[[:space:]].*/#define XCHAL_HAVE_BE\t\t\t0/' "$1/include/xtensa-config.h"
  grep -q '^#define XCHAL_HAVE_BE[[:space:]]*0$' "$1/include/xtensa-config.h"
  grep -q '^#define XCHAL_HAVE_MUL32_HIGH[[:space:]]*0$' "$1/include/xtensa-config.h"
  grep -q '^#define XCHAL_HAVE_WINDOWED[[:space:]]*1$' "$1/include/xtensa-config.h"
}

export MAKEINFO=true PATH="$PREFIX/bin:$PATH"
configure_binutils() {
  little_endian "$BUILD/binutils-2.40"
  mkdir -p "$BUILD/b-binutils" && cd "$BUILD/b-binutils"
  ../binutils-2.40/configure --target=$TARGET --prefix="$PREFIX" --disable-nls --disable-werror \
    --disable-gdb --disable-gdbserver --disable-sim --disable-gprofng --disable-libdecnumber --disable-readline
}
configure_gcc() {
  little_endian "$BUILD/gcc-12.2.0"
  mkdir -p "$BUILD/b-gcc" && cd "$BUILD/b-gcc"
  ../gcc-12.2.0/configure --target=$TARGET --prefix="$PREFIX" --enable-languages=c --without-headers \
    --with-newlib --disable-nls --disable-shared --disable-threads --disable-multilib --disable-libssp \
    --disable-libquadmath --disable-libgomp --disable-libatomic --disable-libstdcxx --disable-lto \
    --disable-plugin --disable-libcc1 --disable-decimal-float --disable-bootstrap --with-gnu-as --with-gnu-ld
}
check_no_mul32_high() {  # a 64-bit product's high half must not become MULSH/MULUH (de233_fpu lacks them)
  echo 'int f(long long a, long long b) { return (int)((a * b) >> 32); }' > "$BUILD/t.c"
  $TARGET-gcc -O2 -c "$BUILD/t.c" -o "$BUILD/t.o"
  ! $TARGET-objdump -d "$BUILD/t.o" | grep -Eq 'mul(s|u)h'
}
step unpack-binutils tar -C "$BUILD" -xf "$BINUTILS_TAR"
step configure-binutils configure_binutils
step build-binutils make -C "$BUILD/b-binutils" -j"$JOBS" MAKEINFO=true
step install-binutils make -C "$BUILD/b-binutils" install MAKEINFO=true
step unpack-gcc tar -C "$BUILD" -xf "$GCC_TAR"
step configure-gcc configure_gcc
step build-gcc make -C "$BUILD/b-gcc" -j"$JOBS" MAKEINFO=true all-gcc
step build-libgcc make -C "$BUILD/b-gcc" -j"$JOBS" MAKEINFO=true all-target-libgcc
# Debian's -dfsg tarball lacks the GFDL hook documentation, so install's tm.texi check (s-tm-texi) would
# fail: the stamp marks it done (the docs are not installed anyway).
step install-gcc bash -c "touch '$BUILD/b-gcc/gcc/s-tm-texi' && make -C '$BUILD/b-gcc' install-gcc install-target-libgcc MAKEINFO=true"
step check check_no_mul32_high
rm -rf "$BUILD"
touch "$PREFIX/.complete"
msg "ready in $PREFIX ($(( ($(date +%s) - START) / 60 )) min)"
