#!/usr/bin/env bash
# Provision what the tests need on a Debian 12 machine, and nothing when it is all there
# (scripts/test.sh runs this first; so does CI, through scripts/test.sh):
#
#   1. a Docker engine answering, with Compose v2 and debootstrap   (.ci/provision-docker.sh)
#   2. the Debian packages the tests use besides Docker: python3-venv (scripts/venv.sh), git (the
#      sanity test copies the files git tracks), shellcheck (ansible-test's shellcheck test),
#      chromium (the documentation site is opened in a headless browser), curl (the registry check),
#      python3-yaml (.ci/build-images.sh reads the example catalogs docs/examples/*.yml with the
#      system python3)
#   3. the local test images and the local registry on 127.0.0.1:5000   (.ci/build-images.sh)
#
# Each step first checks, without changing anything, whether it has work to do. As root it then
# does that work; as another user it prints one line naming what is missing and how to get it
# (sudo) and exits 1. Nothing is changed when nothing is missing.
#
# Environment: VOICEOPS_SKIP_PROVISION=1   scripts/test.sh does not run this script at all
#              (and what .ci/provision-docker.sh and .ci/build-images.sh read)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DEBIAN_FRONTEND=noninteractive
APT_PACKAGES=(python3-venv git shellcheck chromium curl python3-yaml)
T0=$SECONDS

log() { printf '[provision] %s\n' "$*" >&2; }

docker_ready() {  # the engine answers, `docker compose` is v2, debootstrap is there
    local v
    command -v docker >/dev/null 2>&1 || return 1
    command -v debootstrap >/dev/null 2>&1 || return 1
    timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1 || return 1
    v=$(timeout 10 docker compose version --short 2>/dev/null) || return 1
    [[ ${v#v} == 2.* ]]
}

missing_packages() {  # prints the packages of APT_PACKAGES that are not installed
    local pkg
    for pkg in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$' || printf '%s\n' "$pkg"
    done
}

images_why=""
images_ready() {  # .ci/build-images.sh check: every image current, every tag served
    local out
    out=$(bash "$ROOT/.ci/build-images.sh" check 2>&1) && return 0
    images_why=${out##*\] }   # its one line, without the "[build-images] " tag
    return 1
}

# --- what is missing (changes nothing) ------------------------------------------------------
need_docker=0 need_images=0
docker_ready || need_docker=1
mapfile -t packages < <(missing_packages)
if ((need_docker)) || ! images_ready; then need_images=1; fi

if ((need_docker + ${#packages[@]} + need_images == 0)); then
    log "nothing to do: Docker engine with Compose v2, ${APT_PACKAGES[*]}, local images and registry present ($((SECONDS - T0))s)"
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    what=()
    ((need_docker)) && what+=("a Docker engine answering with Compose v2 and debootstrap")
    ((${#packages[@]})) && what+=("the Debian packages ${packages[*]}")
    ((need_images)) && what+=("the local test images and registry${images_why:+ ($images_why)}")
    log "missing: $(IFS=';'; printf '%s' "${what[*]}" | sed 's/;/, /g'); run 'sudo $ROOT/scripts/provision.sh' once (it installs them), then the tests again"
    exit 1
fi

# --- as root: do what is missing ------------------------------------------------------------
if ((need_docker)); then
    log "Docker engine with Compose v2 (.ci/provision-docker.sh)"
    bash "$ROOT/.ci/provision-docker.sh"
fi
if ((${#packages[@]})); then
    log "apt-get install ${packages[*]}"
    apt-get update -q -o Acquire::Retries=3 >/dev/null
    apt-get install -y -q --no-install-recommends -o Acquire::Retries=3 -o DPkg::Lock::Timeout=300 "${packages[@]}" >/dev/null
fi
if ((need_images)); then
    log "local images and registry (.ci/build-images.sh)"
    bash "$ROOT/.ci/build-images.sh"
fi
log "provisioned in $((SECONDS - T0))s"
