#!/usr/bin/env bash
# Installs the Debian packages that `make demo` and `make test` need, and says
# what it installs and why. The one list of the machine's commands: .ci/run and
# the Makefile both call this script, and tests/contract/test_deps.py checks
# that every command the code runs (system_tool(...), shutil.which(...), a
# literal argv[0], `command -v` in hack/) has a line here.
#
#   hack/deps.sh [--dry-run] [demo|test|bench]  install what is missing (no profile: every row)
#   hack/deps.sh --check [demo|test|bench]      exit 1 when something is missing, install nothing
#   hack/deps.sh --list                         print the table (command, package, needed for, why)
#
# --dry-run prints what it would install and the apt-get command, and installs nothing.
# Commands are looked up on PATH, as the code does.
set -euo pipefail

IFS= read -r -d '' TABLE <<'EOF' || true
# command     package        for              why
bash          bash           demo,test,bench  runs hack/*.sh (the tools build, the network namespace)
flock         util-linux     demo,test,bench  hack/tools.sh builds the Go tools one at a time
unshare       util-linux     demo,test,bench  hack/netns-run without root: a user + network namespace
ip            iproute2       demo,test,bench  hack/netns-run: the namespace veth pair that carries WebRTC media
iptables      iptables       test             the lossy-network test drops media packets on the forwarded path (tc netem: no sch_netem in this kernel)
py:ensurepip  python3-venv   demo,test,bench  make install creates the virtualenv (python3 -m venv)
janus         janus          demo,test,bench  the Janus VideoRoom server whose channels are recorded
ffprobe       ffmpeg         demo,test        the demo (and its end-to-end test) describes the downloaded MP4
ffmpeg        ffmpeg         bench            the ffmpeg floor of the media and recorder benchmarks
chromium      chromium       test             the browser publisher of the simulcast tests (a real WebRTC client)
lua5.4        lua5.4         test             runs the Argo CD health check of gitops/ (gitops tests)
buildah       buildah        test             the packaging test builds both Dockerfile targets without a daemon
mmdebstrap    mmdebstrap     test             the local base image of the packaging test, from Debian packages
podman        podman         test             the packaging test runs both images (read-only root, non-root user)
runc          runc           test             the OCI runtime podman uses there (crun refuses hybrid cgroups)
mount         mount          bench            the memory benchmark mounts a cgroup v1 cpu controller
umount        mount          bench            the memory benchmark unmounts it afterwards
go            -              demo,test,bench  hack/tools.sh builds Kubernetes, helm, versitygw: the Go 1.26 toolchain (https://go.dev/dl/), not a Debian package
EOF

mode=install
profile=all
for arg in "$@"; do
  case "$arg" in
    --dry-run) mode=dry-run ;;
    --check) mode=check ;;
    --list) mode=list ;;
    demo | test | bench) profile=$arg ;;
    -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "deps: unknown argument $arg (--dry-run, --check, --list, demo, test, bench)" >&2; exit 2 ;;
  esac
done

rows() { printf '%s\n' "$TABLE" | sed '/^#/d; /^$/d'; }

if [ "$mode" = list ]; then
  rows | while read -r cmd pkg for why; do printf '%s\t%s\t%s\t%s\n' "$cmd" "$pkg" "$for" "$why"; done
  exit 0
fi

present() { # command (py:MODULE checks a module of python3)
  case "$1" in
    py:*) command -v python3 >/dev/null && python3 -c "import ${1#py:}" 2>/dev/null ;;
    *) command -v "$1" >/dev/null ;;
  esac
}

describe() { # command
  case "$1" in
    py:*) echo "python3's ${1#py:} module" ;;
    *) echo "$1" ;;
  esac
}

packages=()
missing=0
not_debian=()
while read -r cmd pkg for why; do
  [ "$profile" = all ] || [[ ",$for," == *",$profile,"* ]] || continue
  present "$cmd" && continue
  missing=$((missing + 1))
  if [ "$pkg" = - ]; then
    not_debian+=("$cmd: $why")
    continue
  fi
  echo "deps: $(describe "$cmd") is missing -> Debian package $pkg: $why"
  [[ " ${packages[*]} " == *" $pkg "* ]] || packages+=("$pkg")
done < <(rows)

if [ $missing -eq 0 ]; then
  echo "deps: every command is present (${profile/all/every profile})"
  exit 0
fi
for line in "${not_debian[@]}"; do
  echo "deps: ${line%%:*} is missing and is not installed from Debian: ${line#*: }" >&2
done

sudo=()
as_root=""
[ "$(id -u)" = 0 ] || { sudo=(sudo); as_root="sudo "; }
apt=(apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 "${packages[@]}")
case "$mode" in
  check)
    exit 1
    ;;
  dry-run)
    [ ${#packages[@]} -eq 0 ] || echo "deps: would run: ${as_root}apt-get update && ${as_root}${apt[*]}"
    [ ${#not_debian[@]} -eq 0 ]
    exit
    ;;
esac

if [ ${#packages[@]} -gt 0 ]; then
  if [ ${#sudo[@]} -gt 0 ] && ! command -v sudo >/dev/null; then
    echo "deps: not root and no sudo: run as root: apt-get update && ${apt[*]}" >&2
    exit 1
  fi
  echo "deps: installing ${packages[*]} (apt-get; first time only)"
  t0=$SECONDS
  "${sudo[@]}" apt-get update -q -o DPkg::Lock::Timeout=600
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive "${apt[@]}"
  echo "deps: installed ${packages[*]} in $((SECONDS - t0))s"
fi
[ ${#not_debian[@]} -eq 0 ]
