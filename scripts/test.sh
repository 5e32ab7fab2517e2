#!/usr/bin/env bash
# Install what is needed and run the whole test suite (extra arguments go to pytest).
# Browser tests use Debian's Chromium: installed with apt-get when missing and running as root,
# otherwise those tests are skipped with a loud reason.
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
install_project "test"

if [ -z "${CHROMIUM_PATH:-}" ] && ! command -v chromium >/dev/null 2>&1; then
    apt_install chromium || say "WARNING: no Chromium and cannot apt-get it (not root?): browser tests will be SKIPPED"
fi
# The meeting pack's PDF is laid out by WeasyPrint, which needs Pango (and a font) from Debian.
if ! ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0; then
    apt_install libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
        || say "WARNING: no Pango and cannot apt-get it (not root?): meeting-pack PDF tests will FAIL"
fi
# The notebooks run on the "python3" kernel of this environment.
"$PY" -m ipykernel install --sys-prefix --name python3 >/dev/null

set +e
"$PY" -m pytest -n "${TEST_WORKERS:-2}" "$@"
status=$?
set -e
if [ "$status" = 5 ]; then
    say "pytest collected no tests: failing"
    exit 1
fi
exit "$status"
