# Sourced by scripts/test, scripts/capture-wire and scripts/capture-s3-wire: idempotent set-up of what the suites need,
# fast when already done. Needs `repo` set to the repository root.
#
#   ensure_venv          .venv with every file of VENV_REQUIREMENTS (rebuilt when one changes)
#   ensure_node_modules DIR  DIR/node_modules from DIR/package-lock.json (`npm ci` when it changes)
#   ensure_system_tools  fails with the exact apt-get command when a system package is missing
#                        (missing_system_packages lists them; .ci/run installs that list as root)
#
# Each step stores the SHA-256 of its input beside its output and redoes the work only when the
# input changed (or the output is gone), so a second run costs milliseconds.

# The SHA-256 of the given files, one line.
setup_hash() {
  cat "$@" | sha256sum | cut -d' ' -f1
}

# The pins the one .venv holds: the e2e suite's (official cloudflare SDK, boto3, pytest) and the
# browser suite's (those plus Playwright, which drives Debian's Chromium).
VENV_REQUIREMENTS=(tests/e2e/requirements.txt tests/browser/requirements.txt)

ensure_venv() {
  local venv="$repo/.venv" req reqs=()
  for req in "${VENV_REQUIREMENTS[@]}"; do reqs+=("$repo/$req"); done
  local want
  want="$(setup_hash "${reqs[@]}")"
  if [[ -x "$venv/bin/python" && "$(cat "$venv/.requirements.sha256" 2>/dev/null)" == "$want" ]]; then
    return 0
  fi
  echo "== Python test dependencies (${VENV_REQUIREMENTS[*]}) into .venv"
  # A fresh venv: a stale one from other pins must not mask a missing one.
  rm -rf "$venv"
  python3 -m venv "$venv"
  for req in "${reqs[@]}"; do
    "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$req"
  done
  echo "$want" >"$venv/.requirements.sha256"
}

ensure_node_modules() {
  local dir="$repo/$1"
  local want
  want="$(setup_hash "$dir/package.json" "$dir/package-lock.json")"
  if [[ -d "$dir/node_modules" && "$(cat "$dir/node_modules/.lock.sha256" 2>/dev/null)" == "$want" ]]; then
    return 0
  fi
  echo "== npm ci ($1)"
  (cd "$dir" && npm ci --no-audit --no-fund)
  echo "$want" >"$dir/node_modules/.lock.sha256"
}

# The Debian packages the suites need that this machine lacks, space-separated (empty when
# none). Other suites' system needs (a browser, ...) are added here, once, for both callers.
missing_system_packages() {
  local missing=()
  command -v python3 >/dev/null || missing+=(python3)
  python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  # PostgreSQL server binaries for crates/store-pg's tests (scripts/pg-test-server runs them).
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null \
    || missing+=(postgresql)
  # openssl makes scripts/capture-s3-wire's throwaway TLS certificate.
  command -v openssl >/dev/null || missing+=(openssl)
  # Debian's Chromium for tests/browser: Playwright drives it; no test tool downloads a browser.
  command -v chromium >/dev/null || missing+=(chromium)
  # perf for mayfly-bench --perf and scripts/perf-breakdown (crates/bench's profile test).
  command -v perf >/dev/null || missing+=(linux-perf)
  echo "${missing[*]}"
}

# System packages need root, so this only checks: on a miss it prints the one command that
# installs everything missing (what .ci/run runs as root) and fails.
ensure_system_tools() {
  local missing
  missing="$(missing_system_packages)"
  if [[ -n "$missing" ]]; then
    echo "missing system packages: $missing; install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends $missing" >&2
    return 1
  fi
}
