#!/usr/bin/env bash
# Install what is needed and serve the dashboard (bundled trial unless a data folder is given).
# Usage: bash scripts/serve.sh [DATA] [--port N] [--address A]   (prints the URL; Ctrl-C stops)
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
install_project ""
exec "$PY" -m dashboard serve "$@"
