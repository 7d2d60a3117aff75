#!/usr/bin/env bash
# Runs `make demo` (or `make test`) as a new user would: in a container made from Debian
# bookworm with nothing but the toolchains (the host's Go, Debian's python3; git and make to
# clone and run), cold pip, Go and tool caches, on a fresh clone of this repository's HEAD.
# It prints each step's time; the README's "Timings" quote its runs.
#
#   hack/fresh-machine.sh [demo|test]     (default demo; root, podman and runc needed)
#
# The base is the packaging test's bookworm root filesystem (mmdebstrap, cached under
# ~/.cache/cloudrec/containers/); the host's CA bundle is mounted because this workplace
# reaches PyPI, the Go proxy and Debian through a TLS-inspecting proxy. The container is
# privileged, on the host network, because hack/netns-run makes a network namespace.
set -euo pipefail
target=${1:-demo}
here=$(cd "$(dirname "$0")/.." && pwd)
cache=${CLOUDREC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cloudrec}
base=$(ls "$cache"/containers/base-bookworm-*.tar 2>/dev/null | head -1 || true)
[ -n "$base" ] || { echo "fresh-machine: no bookworm base yet: run 'make test-packaging' once" >&2; exit 1; }
go_root=$(go env GOROOT)
podman import -q "$base" localhost/cloudrec-fresh:latest >/dev/null
inner=$(mktemp)
trap 'rm -f "$inner"' EXIT
cat >"$inner" <<INNER
set -euo pipefail
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq git make >/dev/null
echo "[fresh] \$(go version | cut -d' ' -f3), \$(python3 --version); git and make installed"
git clone -q /src /w && cd /w
t0=\$SECONDS
make $target
echo "[fresh] make $target: \$((SECONDS - t0)) s"
INNER
ca=/etc/ssl/certs/ca-certificates.crt
exec podman run --rm --runtime runc --privileged --network host \
  --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 \
  -v "$go_root:/usr/local/go:ro" -v "$here:/src:ro" -v "$inner:/fresh.sh:ro" -v "$ca:$ca:ro" \
  -e SSL_CERT_FILE=$ca -e PIP_CERT=$ca -e REQUESTS_CA_BUNDLE=$ca -e GIT_SSL_CAINFO=$ca \
  -e PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  localhost/cloudrec-fresh:latest bash /fresh.sh
