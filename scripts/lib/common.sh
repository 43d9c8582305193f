# Shared helpers for the project's scripts (sourced, not run).
# shellcheck shell=bash

# shellcheck disable=SC2034 # used by the scripts that source this file
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LR_CACHE="${LR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lighting-replay}"

if [[ -t 1 ]]; then
    _BOLD=$'\e[1m' _RED=$'\e[31m' _GREEN=$'\e[32m' _YELLOW=$'\e[33m' _RESET=$'\e[0m'
else
    _BOLD="" _RED="" _GREEN="" _YELLOW="" _RESET=""
fi

step() { printf '%s==> %s%s\n' "$_BOLD" "$*" "$_RESET"; }
info() { printf '    %s\n' "$*"; }
ok() { printf '    %sok%s %s\n' "$_GREEN" "$_RESET" "$*"; }
warn() { printf '%swarning:%s %s\n' "$_YELLOW" "$_RESET" "$*" >&2; }
die() {
    printf '%serror:%s %s\n' "$_RED" "$_RESET" "$*" >&2
    exit 1
}

# Print the interpreter's full version ("3.14.2"), or fail if it does not run.
python_version() {
    "$1" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null
}

# True when interpreter $1 runs and its version is within [$2, $3) ("3.14.2" "3.15").
python_in_range() {
    local py="$1" low="$2" high="${3:-99}"
    "$py" - "$low" "$high" <<'PY' >/dev/null 2>&1
import sys

low = tuple(int(p) for p in sys.argv[1].split("."))
high = tuple(int(p) for p in sys.argv[2].split("."))
sys.exit(0 if low <= sys.version_info[: len(low)] and sys.version_info[: len(high)] < high else 1)
PY
}

# Hash of the given files' contents (and names), for stamp files.
files_hash() {
    local f
    for f in "$@"; do
        printf '%s\n' "$f"
        if [[ -f "$f" ]]; then cat "$f"; fi
    done | sha256sum | cut -c1-16
}

is_root() { [[ "$(id -u)" == 0 ]]; }
