#!/usr/bin/env bash
# Installs one image target's runtime into a fresh virtualenv.
# The Dockerfile runs exactly this, and tests/packaging runs it into a
# temporary directory (no Docker engine needed to check the image's contents).
#
#   hack/image-install.sh operator|recorder VENV_DIR [SOURCE_DIR]
set -euo pipefail
target=$1 venv=$2 src=${3:-$(cd "$(dirname "$0")/.." && pwd)}
# Each image carries its own side and the protocol package, nothing else: the
# project is built from a copy holding only those source roots (setuptools
# finds no package in the roots that are absent).
case "$target" in
  operator) roots=(protocol operator) extra="[operator]" ;;
  recorder) roots=(protocol recorder) extra="[recorder]" ;;
  *) echo "unknown target $target (operator|recorder)" >&2; exit 2 ;;
esac
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "$src/pyproject.toml" "$src/README.md" "$stage/"
for root in "${roots[@]}"; do cp -r "$src/$root" "$stage/$root"; done
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-compile "$stage$extra"
# Runtime only: no build tools, no test tools.
"$venv/bin/pip" uninstall --quiet --yes pip setuptools wheel >/dev/null 2>&1 || true
