#!/usr/bin/env bash
# Builds the Go-built tools the tests and the demo use into a cache directory
# outside the repository, keyed by version; a second run reuses the cache.
#
#   kube-testbin (kube-apiserver, etcd, kube-controller-manager, kubectl), Kubernetes v1.34.4
#   helm          v3.22.0
#   versitygw     v1.7.0 (S3-compatible server, posix backend)
#   kstatus       hack/kstatus (sigs.k8s.io/cli-utils v0.37.2, the health library Flux uses)
#   kube-score    v1.20.0 (an independent linter of the rendered chart)
#
#   hack/tools.sh [TOOL...]   every tool, or only these (kube-testbin is kube-apiserver, etcd,
#                             kube-controller-manager and kubectl); `make demo` asks for the two
#                             it uses, so a first demo does not wait for helm or kube-score.
#
# Prints the bin directory on stdout when done. Progress goes to stderr: what is
# being built, and every CLOUDREC_TOOLS_TICK seconds (default 30) how long it took so far.
set -euo pipefail

K8S_VERSION=v1.34.4
HELM_VERSION=v3.22.0
VERSITYGW_VERSION=v1.7.0
KSTATUS_VERSION=cli-utils-v0.37.2
KUBE_SCORE_VERSION=v1.20.0
TICK=${CLOUDREC_TOOLS_TICK:-30}

wanted=()
for name in "$@"; do
  case "$name" in
    kube-apiserver | kube-controller-manager | etcd | kubectl) wanted+=(kube-testbin) ;;
    kube-testbin | helm | versitygw | kube-score | kstatus) wanted+=("$name") ;;
    *) echo "[tools] unknown tool $name" >&2; exit 2 ;;
  esac
done

here=$(cd "$(dirname "$0")" && pwd)
cache=${CLOUDREC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cloudrec}
bin="$cache/bin"
mkdir -p "$bin"
export GOFLAGS=${GOFLAGS:--mod=mod}

log() { printf '[tools] %s\n' "$*" >&2; }

command -v go >/dev/null || { log "Go is missing: install the Go 1.26 toolchain (https://go.dev/dl/)"; exit 1; }
command -v flock >/dev/null || { log "flock is missing: hack/deps.sh installs it (util-linux)"; exit 1; }

# One build at a time (CI, `make test` and tests calling tools.tool() may race).
exec 9>"$cache/.lock"
if ! flock -n 9; then
  log "another hack/tools.sh is building into $cache: waiting for it"
  flock 9
fi

timed() { # what command...: runs it, saying every $TICK s that it still runs
  local what=$1 t0=$SECONDS rc=0
  shift
  (
    nap=
    trap '[ -z "$nap" ] || kill "$nap" 2>/dev/null; exit 0' TERM
    while :; do
      sleep "$TICK" &
      nap=$!
      wait "$nap"
      log "still building $what: $((SECONDS - t0))s so far"
    done
  ) &
  local ticker=$!
  "$@" || rc=$?
  kill "$ticker" 2>/dev/null || true
  wait "$ticker" 2>/dev/null || true
  if [ $rc -ne 0 ]; then
    log "$what failed after $((SECONDS - t0))s"
    return $rc
  fi
  log "$what took $((SECONDS - t0))s"
}

build_k8s() {
  local out="$cache/k8s-$K8S_VERSION/kube-testbin"
  if [ ! -x "$out" ]; then
    log "building kube-apiserver, etcd, kube-controller-manager and kubectl $K8S_VERSION (first time only: ~5 min on 2 idle cores, up to 20 min on busy ones)"
    local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
    local pkg=k8s.io/component-base/version
    mkdir -p "$(dirname "$out")"
    (cd "$here/controlplane" && timed "kube-testbin $K8S_VERSION build" go build -trimpath -o "$out.tmp" \
      -ldflags "-s -w -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean" .)
    # The build must report the release it was built from (clients and kopf read it).
    local probe
    probe=$(mktemp -d)
    ln -s "$out.tmp" "$probe/kube-apiserver"
    "$probe/kube-apiserver" --version | grep -qx "Kubernetes $K8S_VERSION" ||
      { log "kube-testbin does not report $K8S_VERSION"; rm -rf "$probe"; exit 1; }
    rm -rf "$probe"
    mv "$out.tmp" "$out"
  fi
  for name in kube-apiserver kube-controller-manager etcd kubectl; do
    ln -sfn "$out" "$bin/$name"
  done
}

build_go_tool() { # name module version
  local name=$1 module=$2 version=$3
  local out="$cache/$name-$version/$name"
  if [ ! -x "$out" ]; then
    log "building $name $version"
    mkdir -p "$(dirname "$out")"
    GOBIN="$(dirname "$out")" GOFLAGS= timed "$name $version build" go install -trimpath -ldflags "-s -w" "$module@$version"
  fi
  ln -sfn "$out" "$bin/$name"
}

build_kstatus() {
  local out="$cache/kstatus-$KSTATUS_VERSION/kstatus"
  if [ ! -x "$out" ]; then
    log "building kstatus ($KSTATUS_VERSION)"
    mkdir -p "$(dirname "$out")"
    (cd "$here/kstatus" && timed "kstatus build" go build -trimpath -ldflags "-s -w" -o "$out" .)
  fi
  ln -sfn "$out" "$bin/kstatus"
}

want() { # name: asked for (no argument asks for every tool)
  [ ${#wanted[@]} -eq 0 ] || [[ " ${wanted[*]} " == *" $1 "* ]]
}

want helm && build_go_tool helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION"
want versitygw && build_go_tool versitygw github.com/versity/versitygw/cmd/versitygw "$VERSITYGW_VERSION"
want kube-score && build_go_tool kube-score github.com/zegl/kube-score/cmd/kube-score "$KUBE_SCORE_VERSION"
want kube-testbin && build_k8s
want kstatus && build_kstatus
log "tools ready in $bin${wanted[*]:+ (${wanted[*]})}"
echo "$bin"
