# Find the Python interpreters the environments need, or provide them
# (sourced by scripts/setup).
# shellcheck shell=bash

PY314_MIN="3.14.2"

# Debian packages that make up a self-contained CPython with its own glibc
# ("X.Y" stands for the Python version). A newer Debian suite's python needs a
# newer glibc than Debian 12 provides, so the suite's own glibc comes along.
DEBIAN_PYTHON_DEBS=(
    pythonX.Y pythonX.Y-minimal libpythonX.Y-minimal libpythonX.Y-stdlib
    libpythonX.Y pythonX.Y-dev libpythonX.Y-dev pythonX.Y-venv
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

# Folder a Debian-built Python X.Y lives in. It cannot move once built: the
# loader path patched into the binary is absolute.
debian_python_root() { printf '%s\n' "$LR_CACHE/python$1"; }

# debian_python VERSION SUITE: print the interpreter assembled from SUITE's
# binary packages, building it first if needed (progress goes to stderr).
debian_python() {
    local version="$1" suite="$2" root work mirror py lib deb
    root="$(debian_python_root "$version")"
    py="$root/usr/bin/python$version"
    if [[ -f "$root/.complete" ]] && "$py" -c '' 2>/dev/null; then
        printf '%s\n' "$py"
        return 0
    fi
    if ! command -v apt-get >/dev/null || ! command -v dpkg >/dev/null; then
        die "no Python $version found, and apt-get/dpkg are missing to assemble one; install Python $version (e.g. 'uv python install $version') and run again"
    fi
    command -v patchelf >/dev/null ||
        die "patchelf is needed to assemble Python $version (apt-get install patchelf)"
    mirror="$(debian_mirror)" || die "cannot find a Debian mirror in /etc/apt/sources.list(.d)"
    info "assembling Python $version from Debian $suite packages ($mirror) into $root" >&2

    work="$root-work"
    rm -rf "$work" "$root"
    mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs" "$root"
    printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
        "$mirror" "$suite" >"$work/sources.list"
    # A private apt configuration: the system's sources and lists stay untouched.
    local -a apt_opts=(
        -q -o "Dir::Etc::sourcelist=$work/sources.list" -o "Dir::Etc::sourceparts=-"
        -o "Dir::State::lists=$work/lists" -o "Dir::Cache=$work/cache"
        -o "APT::Sandbox::User=root"
    )
    apt-get "${apt_opts[@]}" update >"$work/apt-update.log" 2>&1 ||
        die "apt-get update for $suite failed, see $work/apt-update.log"
    (cd "$work/debs" && apt-get "${apt_opts[@]}" download "${DEBIAN_PYTHON_DEBS[@]//X.Y/$version}") \
        >"$work/apt-download.log" 2>&1 ||
        die "downloading $suite packages failed, see $work/apt-download.log"
    for deb in "$work"/debs/*.deb; do
        dpkg -x "$deb" "$root"
    done

    lib="$root/usr/lib/x86_64-linux-gnu"
    [[ -x "$py" ]] || die "python$version missing after unpacking the $suite packages"
    # The binary must use the bundled loader and libraries, not the system's.
    patchelf --set-interpreter "$lib/ld-linux-x86-64.so.2" --force-rpath --set-rpath "$lib" "$py"
    # Debian's pyconfig.h only includes a multiarch path outside this tree;
    # without the real one no extension module builds from source.
    cp "$root/usr/include/x86_64-linux-gnu/python$version/pyconfig.h" \
        "$root/usr/include/python$version/pyconfig.h"
    "$py" -c '' || die "the Python assembled in $root does not run"
    ls "$work/debs" >"$root/PACKAGES"
    rm -rf "$work"
    touch "$root/.complete"
    printf '%s\n' "$py"
}

# pick_python LOW HIGH CANDIDATE...: print the first candidate in [LOW, HIGH).
pick_python() {
    local low="$1" high="$2" cand
    shift 2
    for cand in "$@"; do
        if [[ -n "$cand" && -x "$cand" ]] && python_in_range "$cand" "$low" "$high"; then
            printf '%s\n' "$cand"
            return 0
        fi
    done
    return 1
}

# Candidates for Python X.Y: $2 (an override), pyenv's installs, python X.Y on
# PATH, uv. pyenv's own binaries come before PATH, where pyenv puts shims.
python_candidates() {
    local version="$1" cand
    [[ -n "${2:-}" ]] && printf '%s\n' "$2"
    if command -v pyenv >/dev/null 2>&1; then
        for cand in "$(pyenv root)/versions/$version".*/bin/python"$version"; do
            printf '%s\n' "$cand"
        done
    fi
    command -v "python$version" 2>/dev/null || true
    uv python find --system --no-python-downloads "$version" 2>/dev/null || true
}

# Python >= 3.14.2 for the newest Home Assistant.
find_python314() {
    local -a cands
    mapfile -t cands < <(python_candidates 3.14 "${LR_PYTHON314:-}")
    pick_python "$PY314_MIN" 3.15 "${cands[@]}" && return 0
    pick_python "$PY314_MIN" 3.15 "$(debian_python_root 3.14)/usr/bin/python3.14" && return 0
    # Where python-build-standalone is reachable this is the ordinary way.
    if uv python install --no-progress -q 3.14 >/dev/null 2>&1; then
        pick_python "$PY314_MIN" 3.15 \
            "$(uv python find --system --no-python-downloads ">=$PY314_MIN" 2>/dev/null)" &&
            return 0
    fi
    local py
    py="$(debian_python 3.14 sid)"
    python_in_range "$py" "$PY314_MIN" 3.15 ||
        die "the Python in $(debian_python_root 3.14) is older than $PY314_MIN"
    printf '%s\n' "$py"
}

# Python 3.13 for the oldest Home Assistant we support (any 3.13 satisfies it).
find_python313() {
    local -a cands
    mapfile -t cands < <(python_candidates 3.13 "${LR_PYTHON313:-}")
    pick_python 3.13 3.14 "${cands[@]}" && return 0
    pick_python 3.13 3.14 "$(debian_python_root 3.13)/usr/bin/python3.13" && return 0
    if uv python install --no-progress -q 3.13 >/dev/null 2>&1; then
        pick_python 3.13 3.14 \
            "$(uv python find --system --no-python-downloads 3.13 2>/dev/null)" && return 0
    fi
    # Debian 13 (trixie) ships Python 3.13.
    debian_python 3.13 trixie
}

# Python 3.12-3.13 for the firmware tools (esphome needs 3.12, the MicroPython
# wheels stop at 3.13).
find_python_tools() {
    local py
    local -a cands
    mapfile -t cands < <(python_candidates 3.13)
    py="$(pick_python 3.12 3.14 "${cands[@]}" \
        "$(command -v python3.12)" "$(command -v python3)")" && {
        printf '%s\n' "$py"
        return 0
    }
    find_python313
}
