#!/usr/bin/env bash
# Rewrites the module paths that the protocol package move changed, in every tracked or new
# text file below the current directory (idempotent). For branches made before the move:
#   cloudrec_operator.protocol.client -> cloudrec_operator.client.recording
#   cloudrec_operator.protocol        -> cloudrec_protocol
#   cloudrec_operator.devenv          -> cloudrec_devenv
# plus the file paths in docs and scripts (operator/cloudrec_operator/{protocol,devenv}/).
set -euo pipefail
cd "${1:-.}"
git ls-files -co --exclude-standard -z |
  xargs -0 grep -lIE 'cloudrec_operator[./](protocol|devenv)|from cloudrec_operator import (devenv|protocol)' 2>/dev/null |
  while IFS= read -r f; do
    case "$f" in hack/migrate-imports.sh) continue ;; esac
    sed -i -E \
      -e 's#operator/cloudrec_operator/protocol/client\.py#operator/cloudrec_operator/client/recording.py#g' \
      -e 's#operator/cloudrec_operator/protocol#protocol/cloudrec_protocol#g' \
      -e 's#operator/cloudrec_operator/devenv#devenv/cloudrec_devenv#g' \
      -e 's#cloudrec_operator/protocol#cloudrec_protocol#g' \
      -e 's#cloudrec_operator/devenv#cloudrec_devenv#g' \
      -e 's/cloudrec_operator\.protocol\.client/cloudrec_operator.client.recording/g' \
      -e 's/cloudrec_operator\.protocol/cloudrec_protocol/g' \
      -e 's/cloudrec_operator\.devenv/cloudrec_devenv/g' \
      -e 's/from cloudrec_operator import devenv/import cloudrec_devenv as devenv/g' \
      -e 's/from cloudrec_operator import protocol/import cloudrec_protocol as protocol/g' \
      "$f"
    echo "rewrote $f"
  done
