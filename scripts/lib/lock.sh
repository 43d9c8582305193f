# Regenerate the committed lock files (sourced by `scripts/setup --lock`).
# shellcheck shell=bash

# Home Assistant's own pins (its package_constraints.txt) of version $1 for Python $2, into file $3.
ha_constraints() {
    local version="$1" pyver="$2" out="$3" tmp
    tmp="$(mktemp -d)"
    uv venv -q -p "$(find_python_tools)" "$tmp/venv"
    # pip can fetch a wheel for another Python version without installing it.
    uv pip install -q --python "$tmp/venv/bin/python" pip
    "$tmp/venv/bin/python" -m pip download -q --no-deps --only-binary=:all: \
        --python-version "$pyver" --dest "$tmp/dl" "homeassistant==$version" 2>"$tmp/pip.log" ||
        die "downloading homeassistant==$version failed: $(tail -n 3 "$tmp/pip.log")"
    "$tmp/venv/bin/python" - "$tmp"/dl/homeassistant-*.whl "$out" <<'PY'
import sys
import zipfile

with zipfile.ZipFile(sys.argv[1]) as wheel:
    text = wheel.read("homeassistant/package_constraints.txt").decode()
with open(sys.argv[2], "w", encoding="utf-8") as out:
    out.write(text)
PY
    rm -rf "$tmp"
}

# Lock requirements/$1.in (+ pyproject.toml) for Python $2 under Home Assistant's pins.
lock_ha_env() {
    local name="$1" pyver="$2" raw ha constraints
    raw="$(mktemp)"
    constraints="$(mktemp)"
    step "locking requirements/$name.lock (Python $pyver)"
    uv pip compile -q --python-version "$pyver" --no-header \
        "$ROOT/pyproject.toml" "$ROOT/requirements/$name.in" -o "$raw"
    ha="$(sed -n 's/^homeassistant==//p' "$raw")"
    [[ -n "$ha" ]] || die "no homeassistant pin in the resolution of requirements/$name.in"
    info "Home Assistant $ha: applying its package constraints"
    ha_constraints "$ha" "$pyver" "$constraints"
    (cd "$ROOT" && uv pip compile -q --python-version "$pyver" \
        --custom-compile-command "scripts/setup --lock" \
        pyproject.toml "requirements/$name.in" -c "$constraints" \
        -o "requirements/$name.lock")
    # The constraints file is a temporary download: keep its name out of the lock.
    sed -i "s|$constraints|Home Assistant $ha package_constraints.txt|" "$ROOT/requirements/$name.lock"
    rm -f "$raw" "$constraints"
    ok "requirements/$name.lock: homeassistant==$ha"
}

lock_all() {
    lock_ha_env min 3.13.0
    lock_ha_env latest 3.14.2
    step "locking requirements/firmware.lock (Python 3.13)"
    (cd "$ROOT" && uv pip compile -q --python-version 3.13 \
        --custom-compile-command "scripts/setup --lock" \
        requirements/firmware.in -o requirements/firmware.lock)
    ok "requirements/firmware.lock"
}
