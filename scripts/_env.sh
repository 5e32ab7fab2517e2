# Shared by scripts/serve.sh and scripts/test.sh (sourced, not run): pick a Python environment and
# install the project into it.
#
# - An active virtualenv or (non-base) conda environment is used as it is.
# - Otherwise ./.venv is created (or reused) from python3, seeing the interpreter's own packages
#   (--system-site-packages) so that nothing already installed is downloaded again.
# - On Debian without the venv module, root gets python3-venv from apt-get; others get a clear message.
# - `pip install -c constraints.txt -e ".[extras]"` runs when pyproject.toml or constraints.txt changed since
#   the last install (stamp file).

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '\033[1m[trial-dashboard]\033[0m %s\n' "$*" >&2; }

is_root() { [ "$(id -u)" = "0" ]; }

apt_install() {
    # apt_install PACKAGE...: install Debian packages (root only); returns non-zero when impossible.
    is_root && command -v apt-get >/dev/null 2>&1 || return 1
    say "apt-get install $*"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

pick_python() {
    if [ -n "${VIRTUAL_ENV:-}" ] || { [ -n "${CONDA_PREFIX:-}" ] && [ "${CONDA_DEFAULT_ENV:-}" != "base" ]; }; then
        PY="$(command -v python)"
        say "using the active environment: $PY"
        return
    fi
    local base
    base="$(command -v python3 || command -v python || true)"
    if [ -z "$base" ]; then
        say "no python3 found: install Python 3.11 or newer"; exit 1
    fi
    if ! "$base" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        say "$base is $("$base" --version 2>&1); Python 3.11 or newer is needed"; exit 1
    fi
    if [ ! -x .venv/bin/python ]; then
        say "creating .venv from $base"
        if ! "$base" -m venv --system-site-packages .venv 2>/dev/null; then
            rm -rf .venv
            local ver
            ver="$("$base" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
            apt_install "python${ver}-venv" || apt_install python3-venv || {
                say "cannot create a virtual environment: install python3-venv (apt-get install python3-venv) or activate one"; exit 1; }
            "$base" -m venv --system-site-packages .venv
        fi
    fi
    PY="$ROOT/.venv/bin/python"
}

install_project() {
    # install_project EXTRAS: pip install -e ".[EXTRAS]" unless already done for this pyproject.toml.
    local extras="$1" spec="." stamp digest
    [ -n "$extras" ] && spec=".[$extras]"
    stamp="$("$PY" -c 'import sys; print(sys.prefix)')/.trial-dashboard-installed"
    digest="$(cat pyproject.toml constraints.txt 2>/dev/null | sha256sum | cut -c1-16) $ROOT $extras"
    if [ -f "$stamp" ] && grep -qxF "$digest" "$stamp"; then
        return
    fi
    say "pip install -e '$spec' (first run downloads the dependencies)"
    # constraints.txt pins the versions the suite was tested with (scripts/lock.sh writes it).
    "$PY" -m pip install --disable-pip-version-check -q -c constraints.txt -e "$spec"
    echo "$digest" >> "$stamp"
}

pick_python
