#!/usr/bin/env bash
# Build the documentation as CI does, then check the built pages in a real browser.
#
#   docs/build.sh             clean build: sphinx-build -W --keep-going (warnings are
#                             errors), the gallery's plot_ examples run at reduced size
#                             (conf.py sets SKLEARN_MUSEMB_QUICK=1), then
#                             docs/check_rendered.py opens the pages in headless
#                             Chromium and saves screenshots to docs/_build/screenshots
#   docs/build.sh --keep      keep the previous build and the executed gallery (faster
#                             while writing; warnings of unchanged pages are not
#                             repeated, so CI always builds clean)
#
# Needs the docs extra (pip install -e ".[docs]") and, for the check, chromium and
# chromium-driver (Debian packages).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" != "--keep" ]; then
    rm -rf docs/_build docs/generated docs/auto_examples docs/sg_execution_times.rst
fi

start=$SECONDS
python -m sphinx -W --keep-going -b html docs docs/_build/html
echo "docs: HTML built in $((SECONDS - start)) s (docs/_build/html/index.html)"

start=$SECONDS
python docs/check_rendered.py
echo "docs: browser check done in $((SECONDS - start)) s"
