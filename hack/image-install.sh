#!/usr/bin/env bash
# Installs one image target's runtime into a fresh virtualenv.
# The Dockerfile runs exactly this, and tests/packaging runs it into a
# temporary directory (no Docker engine needed to check the image's contents).
#
#   hack/image-install.sh operator|recorder VENV_DIR [SOURCE_DIR]
set -euo pipefail
target=$1 venv=$2 src=${3:-$(cd "$(dirname "$0")/.." && pwd)}
case "$target" in
  operator) spec="$src" ;;
  recorder) spec="$src[recorder]" ;;
  *) echo "unknown target $target (operator|recorder)" >&2; exit 2 ;;
esac
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-compile "$spec"
# Runtime only: no build tools, no test tools.
"$venv/bin/pip" uninstall --quiet --yes pip setuptools wheel >/dev/null 2>&1 || true
