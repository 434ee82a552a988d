#!/usr/bin/env bash
# pytest-mayfly's CI, as a new Python user would live it:
#   1. build the `mayfly-server` wheel (maturin, `bin` bindings) from the workspace's debug
#      build (`--profile dev`: reuses target/debug, no release build);
#   2. create a fresh venv and install that wheel, the plugin and the pinned SDKs into it with
#      cargo and rustc OFF PATH (PATH=/usr/bin:/bin; the script checks neither is reachable);
#   3. run the plugin's example tests from that venv, MAYFLY_BIN unset, so the binary must come
#      from the wheel (also checked).
# Needs: python3 with venv, cargo (step 1 only), network access to PyPI. Exit non-zero on failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
work="$target_dir/python-ci"
python3="$(command -v python3)"
# Absolute path of a system python that does not live next to cargo (pyenv shims read PATH).
for p in /usr/bin/python3 /bin/python3 "$python3"; do
  if [[ -x "$p" ]]; then sys_python="$p"; break; fi
done

echo "== build the mayfly-server wheel (maturin, --profile dev)"
if [[ ! -x "$work/maturin-venv/bin/maturin" ]]; then
  "$sys_python" -m venv "$work/maturin-venv"
  "$work/maturin-venv/bin/pip" install --disable-pip-version-check -q "maturin==1.16.0"
fi
rm -rf "$work/wheels"
(cd "$here/wheel" && CARGO_TARGET_DIR="$target_dir" "$work/maturin-venv/bin/maturin" build \
  --profile dev --compatibility linux --auditwheel skip --out "$work/wheels")
wheel="$(ls "$work"/wheels/mayfly_server-*.whl)"
echo "built $wheel ($(du -h "$wheel" | cut -f1))"

echo "== fresh venv, cargo/rustc off PATH"
venv="$work/user-venv"
rm -rf "$venv"
clean=(env -u MAYFLY_BIN -u VIRTUAL_ENV -u CARGO_HOME -u RUSTUP_HOME PATH=/usr/bin:/bin)
if "${clean[@]}" sh -c 'command -v cargo || command -v rustc'; then
  echo "cargo or rustc is still reachable with PATH=/usr/bin:/bin" >&2
  exit 1
fi
"${clean[@]}" "$sys_python" -m venv "$venv"
"${clean[@]}" "$venv/bin/python" -m pip install --disable-pip-version-check -q \
  "$wheel" "$here" -r "$here/requirements-ci.txt"

echo "== the binary comes from the wheel"
found="$("${clean[@]}" "$venv/bin/python" -c 'import pytest_mayfly; print(pytest_mayfly.find_binary())')"
echo "pytest_mayfly.find_binary() -> $found"
case "$found" in
  "$venv"/*) ;;
  *) echo "expected the wheel's binary inside $venv" >&2; exit 1 ;;
esac

echo "== pytest testing/python/examples (from the venv, no Rust on PATH)"
cd "$here"
"${clean[@]}" "$venv/bin/python" -m pytest -p no:cacheprovider examples "$@"
