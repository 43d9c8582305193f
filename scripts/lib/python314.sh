# Find or provide a Python >= 3.14.2 (sourced by scripts/setup).
# shellcheck shell=bash

PY314_MIN="3.14.2"
PY314_ROOT="$LR_CACHE/python3.14"

# Debian sid packages that make up a self-contained Python 3.14 with its own
# glibc: sid's python3.14 needs a newer glibc than Debian 12 provides.
PY314_DEBS=(
    python3.14 python3.14-minimal libpython3.14-minimal libpython3.14-stdlib
    libpython3.14 python3.14-dev libpython3.14-dev python3.14-venv
    python3-pip-whl python3-setuptools-whl libc6 libgcc-s1 libstdc++6 libssl3t64
    openssl-provider-legacy libexpat1 zlib1g libbz2-1.0 libdb5.3t64 libffi8
    liblzma5 libncursesw6 libtinfo6 libreadline8t64 libsqlite3-0 libuuid1
    libzstd1 libcrypt1
)

# The Debian mirror this machine already uses (first non-security archive).
debian_mirror() {
    local files=() f uri
    [[ -f /etc/apt/sources.list ]] && files+=(/etc/apt/sources.list)
    for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [[ -f "$f" ]] && files+=("$f")
    done
    ((${#files[@]})) || return 1
    uri="$(
        awk '
            /^[[:space:]]*#/ { next }
            /^deb[[:space:]]/ {
                for (i = 2; i <= NF; i++) if ($i ~ /^https?:\/\//) { print $i; break }
            }
            /^URIs:/ { for (i = 2; i <= NF; i++) print $i }
        ' "${files[@]}" |
            grep -E '^https?://[^ ]*/debian/?$' | head -n1
    )"
    [[ -n "$uri" ]] || return 1
    printf '%s\n' "${uri%/}"
}

# Build $PY314_ROOT from sid binary packages; prints nothing on success.
build_python314() {
    local mirror work apt_opts py
    command -v apt-get >/dev/null && command -v dpkg >/dev/null ||
        die "no Python >= $PY314_MIN found, and apt-get/dpkg are missing to build one; install Python 3.14 (e.g. 'uv python install 3.14') and run again"
    command -v patchelf >/dev/null ||
        die "patchelf is needed to build Python 3.14 (apt-get install patchelf)"
    mirror="$(debian_mirror)" || die "cannot find a Debian mirror in /etc/apt/sources.list(.d)"
    info "building Python 3.14 from Debian sid packages ($mirror) into $PY314_ROOT"

    work="$LR_CACHE/python3.14-work"
    rm -rf "$work" "$PY314_ROOT"
    mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs" "$PY314_ROOT"
    printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s sid main\n' \
        "$mirror" >"$work/sources.list"
    # A private apt configuration: the system's sources and lists stay untouched.
    apt_opts=(
        -q -o "Dir::Etc::sourcelist=$work/sources.list" -o "Dir::Etc::sourceparts=-"
        -o "Dir::State::lists=$work/lists" -o "Dir::Cache=$work/cache"
        -o "APT::Sandbox::User=root"
    )
    apt-get "${apt_opts[@]}" update >"$work/apt-update.log" 2>&1 ||
        die "apt-get update for sid failed, see $work/apt-update.log"
    (cd "$work/debs" && apt-get "${apt_opts[@]}" download "${PY314_DEBS[@]}") \
        >"$work/apt-download.log" 2>&1 ||
        die "downloading sid packages failed, see $work/apt-download.log"
    local deb
    for deb in "$work"/debs/*.deb; do
        dpkg -x "$deb" "$PY314_ROOT"
    done

    local lib="$PY314_ROOT/usr/lib/x86_64-linux-gnu"
    py="$PY314_ROOT/usr/bin/python3.14"
    [[ -x "$py" ]] || die "python3.14 missing after unpacking sid packages"
    # The binary must use the bundled loader and libraries, not the system's.
    patchelf --set-interpreter "$lib/ld-linux-x86-64.so.2" --force-rpath --set-rpath "$lib" "$py"
    # Debian's pyconfig.h only includes a multiarch path outside this tree.
    cp "$PY314_ROOT/usr/include/x86_64-linux-gnu/python3.14/pyconfig.h" \
        "$PY314_ROOT/usr/include/python3.14/pyconfig.h"
    python_in_range "$py" "$PY314_MIN" ||
        die "the Python built in $PY314_ROOT does not run or is older than $PY314_MIN"
    ls "$work"/debs >"$PY314_ROOT/PACKAGES"
    rm -rf "$work"
    touch "$PY314_ROOT/.complete"
}

# Print the path of a Python >= 3.14.2, providing one if needed.
find_python314() {
    local cand
    local -a cands=()
    [[ -n "${LR_PYTHON314:-}" ]] && cands+=("$LR_PYTHON314")
    cand="$(command -v python3.14 2>/dev/null)" && cands+=("$cand")
    if command -v pyenv >/dev/null 2>&1; then
        for cand in "$(pyenv root)"/versions/3.14*/bin/python3.14; do
            [[ -x "$cand" ]] && cands+=("$cand")
        done
    fi
    cand="$(uv python find --system --no-python-downloads ">=$PY314_MIN" 2>/dev/null)" && cands+=("$cand")
    [[ -f "$PY314_ROOT/.complete" ]] && cands+=("$PY314_ROOT/usr/bin/python3.14")
    for cand in "${cands[@]}"; do
        if python_in_range "$cand" "$PY314_MIN" "3.15"; then
            printf '%s\n' "$cand"
            return 0
        fi
    done
    # Where python-build-standalone is reachable this is the ordinary way.
    if uv python install --no-progress -q 3.14 >/dev/null 2>&1 &&
        cand="$(uv python find --system --no-python-downloads ">=$PY314_MIN" 2>/dev/null)" &&
        python_in_range "$cand" "$PY314_MIN" "3.15"; then
        printf '%s\n' "$cand"
        return 0
    fi
    build_python314 >&2
    printf '%s\n' "$PY314_ROOT/usr/bin/python3.14"
}
