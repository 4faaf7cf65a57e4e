#!/usr/bin/env bash
# Build the local images the Docker-based tests need, without any outside image
# registry, and serve them from a local registry on 127.0.0.1:5000.
#
#   1. localhost/voiceops-target:bookworm         debootstrap minbase + python3, python3-apt, sudo
#      localhost/voiceops-target:bookworm-docker  the same + docker-cli and the Compose v2 plugin
#                                                  (trixie's docker-cli/docker-compose; they only
#                                                  need libc6 >= 2.34, so they run on bookworm)
#   2. localhost/voiceops-standin:latest          target + tests/standin/standin.py (stdlib HTTP
#                                                  stand-in for every AVR service) + mysqladmin shim
#   3. a docker-registry (Debian package) on 127.0.0.1:5000, started by hand (no systemd), with
#      the stand-in pushed under every image name of the collection's registry:
#      localhost:5000/agentvoiceresponse/avr-core:latest, ..., localhost:5000/mysql:8.0.15,
#      localhost:5000/n8nio/n8n:latest (each with STANDIN_IMAGE and STANDIN_DEFAULT_PORTS set,
#      STANDIN_VERSION unset), and each repository also as :v<version> for every version of
#      STANDIN_VERSIONS (localhost:5000/mysql:v1.0.0, ...:v1.1.0: the same plus STANDIN_VERSION
#      and label org.voiceops.standin.version, so every tag has its own manifest digest; for
#      rollout tests, see tests/standin/README.md; a version's faults for the health gate tests
#      (exit, exit-after, no-listen, unhealthy) are set at run time with STANDIN_FAULTS, so no
#      tag per fault is pushed)
#   4. the all-in-one stand-in of every image of the example catalogs (docs/examples/*.yml), e.g.
#      localhost:5000/voiceops-examples/voice-agent:1.0.0 (and :v<version> like every repository):
#      the stand-in plus STANDIN_REQUIRED (the catalog's required variables, secret or not),
#      STANDIN_JSON (its `format: json` variables) and STANDIN_DEFAULT_PORTS (its port, 8080), so it
#      exits with `[FATAL] Missing required environment variables: ...` where the real image would
#      (tests/standin/examples.py reads the catalogs; it needs PyYAML: python3-yaml)
#
# Idempotent and fast on a re-run: an image (each pushed tag is one) is rebuilt only when
# missing, when its recipe (label org.voiceops.recipe) changed, or with FORCE=1; the registry
# is started only when http://127.0.0.1:5000/v2/ does not answer; a push is skipped when the
# registry already serves the local image's manifest digest.
#
# Needs: root, a running Docker engine with BuildKit/buildx (.ci/provision-docker.sh), apt
# access to bookworm (and trixie for the -docker variant, as configured by provision-docker.sh),
# a python3 with PyYAML (python3-yaml; scripts/provision.sh installs it) for the example catalogs.
#
# Usage: .ci/build-images.sh [all|targets|standin|registry|check]      (default: all)
#        check: change nothing (no root needed, only the Docker socket); exit 0 when every image
#        is up to date and the registry serves every tag with the local digest, else print what
#        a run would do in one line and exit 1 (scripts/provision.sh uses it as its fast path)
# Environment: FORCE=1                 rebuild images (and re-debootstrap) even if present
#              VOICEOPS_CACHE          cache directory (default /var/cache/voiceops)
#              VOICEOPS_REGISTRY_DIR   registry config/data/log (default /var/lib/voiceops/registry)
#              REGISTRY_ADDR           listen address (default 127.0.0.1:5000)
#              STANDIN_VERSIONS        versions pushed as :v<version> (default "1.0.0 1.1.0";
#                                      tags are only ever added to the registry, never removed)
set -euo pipefail
set -o errtrace

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
STANDIN_DIR=$REPO/tests/standin
FORCE=${FORCE:-0}
CACHE=${VOICEOPS_CACHE:-/var/cache/voiceops}
REGISTRY_DIR=${VOICEOPS_REGISTRY_DIR:-/var/lib/voiceops/registry}
REGISTRY_ADDR=${REGISTRY_ADDR:-127.0.0.1:5000}
REGISTRY_PREFIX=localhost:${REGISTRY_ADDR##*:}/
SUITE=bookworm
TARGET_IMAGE=localhost/voiceops-target:$SUITE
TARGET_DOCKER_IMAGE=localhost/voiceops-target:$SUITE-docker
STANDIN_IMAGE=localhost/voiceops-standin:latest
# What an Ansible/Molecule target needs: python3 for modules, python3-apt for apt/package,
# sudo for `become` (Ansible runs sudo even when already root).
TARGET_PACKAGES=python3,python3-apt,sudo
DOCKER_DEBS=(docker-cli docker-compose)   # taken from trixie (see header)
RECIPE_VERSION=1                          # bump to force a rebuild everywhere
# every registry repository is also pushed as :v<version> of each of these (see the header)
STANDIN_VERSIONS=${STANDIN_VERSIONS:-1.0.0 1.1.0}
export DEBIAN_FRONTEND=noninteractive

T0=$SECONDS
START_EPOCH=$(date +%s)
log() { printf '[build-images %3ds] %s\n' "$((SECONDS - T0))" "$*" >&2; }
die() { printf '[build-images] ERROR: %s\n' "$*" >&2; exit 1; }
trap 'die "command failed (exit $?) at line ${LINENO}: ${BASH_COMMAND}"' ERR

timed() {  # timed <label> <command...>: run and log the wall time
    local label=$1 start=$SECONDS
    shift
    "$@"
    log "$label: $((SECONDS - start))s"
}

sha() { sha256sum | cut -c1-16; }

CHECK=0       # 1: `check` mode, nothing is built, started or pushed
PENDING=()    # what a run would do (check mode)
pending() {   # pending <what>: in check mode, note it and succeed; otherwise fail (do it)
    ((CHECK)) || return 1
    PENDING+=("$1")
}

image_label() {  # image_label <image> <label>: prints the label, non-zero if the image is missing
    docker image inspect -f "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null
}

up_to_date() {  # up_to_date <image> <recipe>
    [[ $FORCE == 1 ]] && return 1
    local have
    have=$(image_label "$1" org.voiceops.recipe) || return 1
    [[ $have == "$2" ]]
}

# URI of the Debian mirror apt uses for "<suite> main" (deb822 or one-line sources alike).
debian_mirror() {
    # shellcheck disable=SC2016 # apt's own $(FIELD) placeholders, not shell expansions
    apt-get indextargets --no-release-info --format '$(SITE) $(RELEASE) $(COMPONENT) $(IDENTIFIER)' \
        | awk -v s="$1" '$2 == s && $3 == "main" && $4 == "Packages" { print $1; exit }'
}

# --- 1. target images ---------------------------------------------------------------------

# Where to unpack a rootfs: /dev/shm (tmpfs: dpkg's many fsyncs cost nothing there; a
# debootstrap on this disk took ~1.5x longer) when it has 2 GiB free, else the cache dir.
scratch_dir() {
    local free_kb
    free_kb=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')
    if [[ ${free_kb:-0} -gt 2097152 && -w /dev/shm ]]; then
        printf '/dev/shm\n'
    else
        printf '%s\n' "$CACHE"
    fi
}

# Cached rootfs tarball of `debootstrap --variant=minbase --include=$TARGET_PACKAGES`.
rootfs_tarball() {
    local key tarball mirror work
    key=$(printf '%s %s %s\n' "$RECIPE_VERSION" "$SUITE" "$TARGET_PACKAGES" | sha)
    tarball=$CACHE/rootfs-$SUITE-$key.tar
    # FORCE=1 re-debootstraps once per run: a tarball made during this run is reused
    if [[ -s $tarball ]] && { [[ $FORCE != 1 ]] || (($(stat -c %Y "$tarball") >= START_EPOCH)); }; then
        printf '%s\n' "$tarball"
        return 0
    fi
    command -v debootstrap >/dev/null || die "debootstrap missing (run .ci/provision-docker.sh)"
    mirror=$(debian_mirror "$SUITE")
    [[ -n $mirror ]] || die "no apt source for '$SUITE main' found; cannot pick a Debian mirror"
    mkdir -p "$CACHE"
    work=$(mktemp -d "$(scratch_dir)/voiceops-rootfs.XXXXXX")
    log "debootstrap $SUITE (minbase + $TARGET_PACKAGES) from $mirror"
    if ! debootstrap --variant=minbase --include="$TARGET_PACKAGES" "$SUITE" "$work/root" "$mirror" \
            >"$work/debootstrap.log" 2>&1; then
        tail -n 30 "$work/debootstrap.log" >&2
        [[ -f $work/root/debootstrap/debootstrap.log ]] && tail -n 30 "$work/root/debootstrap/debootstrap.log" >&2
        rm -rf "$work"
        die "debootstrap failed"
    fi
    slim_rootfs "$work/root"
    tar --numeric-owner --xattrs -C "$work/root" -cf "$tarball.part" .
    mv -f "$tarball.part" "$tarball"
    rm -rf "$work"
    find "$CACHE" -maxdepth 1 -name "rootfs-$SUITE-*.tar" ! -name "${tarball##*/}" -delete  # stale recipes
    printf '%s\n' "$tarball"
}

slim_rootfs() {  # drop what a test container never needs
    local root=$1
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
        "$root"/var/cache/debconf/*-old "$root"/var/log/* \
        "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/*
    # docker manages these at run time
    : >"$root/etc/hostname"
    rm -f "$root/etc/resolv.conf"
}

import_rootfs() {  # import_rootfs <dir-or-tarball> <image> <recipe> <description>
    local src=$1 image=$2 recipe=$3 desc=$4
    local changes=(
        --change 'CMD ["/bin/bash"]'
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
        --change "LABEL org.voiceops.recipe=$recipe"
        --change "LABEL org.opencontainers.image.description=\"$desc\""
    )
    if [[ -d $src ]]; then
        tar --numeric-owner --xattrs -C "$src" -c . | docker import "${changes[@]}" - "$image" >/dev/null
    else
        docker import "${changes[@]}" "$src" "$image" >/dev/null
    fi
}

build_target() {
    local recipe tarball
    recipe=$(printf 'target %s %s %s\n' "$RECIPE_VERSION" "$SUITE" "$TARGET_PACKAGES" | sha)
    if up_to_date "$TARGET_IMAGE" "$recipe"; then
        log "$TARGET_IMAGE up to date"
        return 0
    fi
    pending "build $TARGET_IMAGE" && return 0
    tarball=$(rootfs_tarball)
    import_rootfs "$tarball" "$TARGET_IMAGE" "$recipe" "Debian $SUITE minbase + $TARGET_PACKAGES (voiceops test target)"
    docker run --rm --network none "$TARGET_IMAGE" python3 -c 'import apt_pkg, json; print("ok")' >/dev/null \
        || die "$TARGET_IMAGE: python3/python3-apt do not work"
    log "built $TARGET_IMAGE"
}

# .deb files of DOCKER_DEBS from trixie (host apt; provision-docker.sh adds trixie pinned to
# 100), downloaded afresh into $CACHE/debs (only when the image is built).
fetch_docker_debs() {
    local dir=$CACHE/debs
    rm -rf "$dir"
    mkdir -p "$dir"
    log "apt-get download ${DOCKER_DEBS[*]/%//trixie}"
    (cd "$dir" && apt-get download -q -o APT::Sandbox::User=root "${DOCKER_DEBS[@]/%//trixie}" >/dev/null) \
        || die "apt-get download of ${DOCKER_DEBS[*]} from trixie failed (run .ci/provision-docker.sh first: it adds trixie pinned to 100)"
}

build_target_docker() {
    # The recipe names the packages, not their versions: no apt run on the fast path
    # (apt-cache takes seconds here). FORCE=1 picks up newer trixie versions.
    local recipe tarball work debs=()
    recipe=$(printf 'target-docker %s %s %s %s\n' "$RECIPE_VERSION" "$SUITE" "$TARGET_PACKAGES" "${DOCKER_DEBS[*]}" | sha)
    if up_to_date "$TARGET_DOCKER_IMAGE" "$recipe"; then
        log "$TARGET_DOCKER_IMAGE up to date"
        return 0
    fi
    pending "build $TARGET_DOCKER_IMAGE" && return 0
    fetch_docker_debs
    debs=("$CACHE"/debs/*.deb)
    ((${#debs[@]} == ${#DOCKER_DEBS[@]})) || die "expected ${#DOCKER_DEBS[@]} .deb files in $CACHE/debs, found ${#debs[@]}"
    tarball=$(rootfs_tarball)
    work=$(mktemp -d "$(scratch_dir)/voiceops-rootfs-docker.XXXXXX")
    tar -C "$work" --numeric-owner -xf "$tarball"
    mkdir -p "$work/tmp/debs"
    cp "${debs[@]}" "$work/tmp/debs/"
    # Both packages depend only on libc6 (>= 2.34): dpkg in a chroot is enough, no apt run.
    if ! chroot "$work" sh -c 'dpkg -i /tmp/debs/*.deb' >"$CACHE/dpkg-docker.log" 2>&1; then
        tail -n 30 "$CACHE/dpkg-docker.log" >&2
        rm -rf "$work"
        die "dpkg -i ${DOCKER_DEBS[*]} in the target rootfs failed"
    fi
    rm -rf "$work/tmp/debs" "$work"/usr/share/doc/* "$work"/usr/share/man/* "$work"/var/log/*
    import_rootfs "$work" "$TARGET_DOCKER_IMAGE" "$recipe" \
        "Debian $SUITE minbase + $TARGET_PACKAGES + docker-cli and Compose v2 from trixie (voiceops test target)"
    rm -rf "$work"
    docker run --rm --network none "$TARGET_DOCKER_IMAGE" sh -c 'docker --version && docker compose version' >/dev/null \
        || die "$TARGET_DOCKER_IMAGE: docker CLI or compose plugin does not run"
    log "built $TARGET_DOCKER_IMAGE"
}

# --- 2. stand-in image --------------------------------------------------------------------

build_standin() {
    local recipe base_id
    if ! base_id=$(docker image inspect -f '{{.Id}}' "$TARGET_IMAGE" 2>/dev/null); then
        pending "build $STANDIN_IMAGE" && return 0
        die "$TARGET_IMAGE missing"
    fi
    recipe=$( (printf 'standin %s %s\n' "$RECIPE_VERSION" "$base_id"
               cat "$STANDIN_DIR/Dockerfile" "$STANDIN_DIR/standin.py" "$STANDIN_DIR/mysqladmin" \
                   "$STANDIN_DIR/agent-healthcheck") | sha)
    if up_to_date "$STANDIN_IMAGE" "$recipe"; then
        log "$STANDIN_IMAGE up to date"
        return 0
    fi
    pending "build $STANDIN_IMAGE" && return 0
    DOCKER_BUILDKIT=1 docker build -q --pull=false --build-arg "BASE=$TARGET_IMAGE" \
        --label "org.voiceops.recipe=$recipe" -t "$STANDIN_IMAGE" \
        -f "$STANDIN_DIR/Dockerfile" "$STANDIN_DIR" >/dev/null
    log "built $STANDIN_IMAGE"
}

# --- 3. local registry --------------------------------------------------------------------

registry_up() { curl -fsS -o /dev/null --max-time 2 "http://$REGISTRY_ADDR/v2/" 2>/dev/null; }

start_registry() {
    if registry_up; then
        log "registry already answering on $REGISTRY_ADDR"
        return 0
    fi
    pending "start the registry on $REGISTRY_ADDR" && return 0
    if ! command -v docker-registry >/dev/null; then
        log "apt-get install docker-registry"
        # The package's postinst would start its init script (default config: all interfaces,
        # an htpasswd path that is a directory): keep invoke-rc.d from starting anything.
        local own_policy=0
        if [[ ! -e /usr/sbin/policy-rc.d ]]; then
            printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
            chmod 0755 /usr/sbin/policy-rc.d
            own_policy=1
        fi
        local rc=0
        apt-get install -y -q -o Acquire::Retries=3 -o DPkg::Lock::Timeout=300 --no-install-recommends \
            docker-registry >/dev/null || rc=$?
        ((own_policy)) && rm -f /usr/sbin/policy-rc.d
        if ((rc)); then
            apt-get update -q -o Acquire::Retries=3 >/dev/null
            apt-get install -y -q -o Acquire::Retries=3 -o DPkg::Lock::Timeout=300 --no-install-recommends \
                docker-registry >/dev/null || die "apt-get install docker-registry failed"
        fi
    fi
    mkdir -p "$REGISTRY_DIR/data"
    cat >"$REGISTRY_DIR/config.yml" <<EOF
# written by .ci/build-images.sh
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: $REGISTRY_DIR/data
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
  headers:
    X-Content-Type-Options: [nosniff]
EOF
    local pid
    if [[ -f $REGISTRY_DIR/registry.pid ]] && pid=$(cat "$REGISTRY_DIR/registry.pid") \
            && kill -0 "$pid" 2>/dev/null && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == docker-registry ]]; then
        log "registry process $pid exists but does not answer yet"
    else
        log "starting docker-registry on $REGISTRY_ADDR (log: $REGISTRY_DIR/registry.log)"
        # New session + nohup: the registry must outlive this script and its caller.
        # (fd 9, the build lock, must not be inherited: the registry would hold it forever)
        setsid nohup docker-registry serve "$REGISTRY_DIR/config.yml" \
            </dev/null >>"$REGISTRY_DIR/registry.log" 2>&1 9>&- &
        pid=$!
        printf '%s\n' "$pid" >"$REGISTRY_DIR/registry.pid"
    fi
    local deadline=$((SECONDS + 30))
    until registry_up; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 20 "$REGISTRY_DIR/registry.log" >&2
            die "docker-registry exited (port ${REGISTRY_ADDR##*:} taken?)"
        fi
        ((SECONDS < deadline)) || die "docker-registry did not answer on $REGISTRY_ADDR within 30s"
        sleep 0.2
    done
    log "registry answering on $REGISTRY_ADDR (pid $pid)"
}

# "<image reference>|<default ports>||" for every image of every generation of the collection's
# registry, once per image reference (oldest generation first): default ports are the union over
# the generations of each image's PORT plus the container side of its TCP port mappings. (The two
# empty fields: no required and no JSON variables, see example_images.)
registry_images() {
    PYTHONPATH=$REPO/plugins/module_utils python3 - <<'EOF'
from registry.generations import generations

ports_of = {}
for gen in generations().values():
    for img in gen.images:
        ports = ports_of.setdefault(img.image, [])
        candidates = [str(img.port)] if img.port else []
        for mapping in img.ports:
            spec, _, proto = mapping.partition("/")
            inner = spec.rsplit(":", 1)[-1]
            if proto in ("", "tcp") and inner.isdigit():
                candidates.append(inner)
        ports.extend(port for port in dict.fromkeys(candidates) if port not in ports)
for ref, ports in ports_of.items():
    print("%s|%s||" % (ref, " ".join(ports)))
EOF
}

# A python3 that has PyYAML (the system's, else the project's venv), for example_images.
yaml_python() {
    local py
    for py in python3 "$REPO/.venv/bin/python"; do
        if "$py" -c 'import yaml' >/dev/null 2>&1; then
            printf '%s\n' "$py"
            return 0
        fi
    done
    return 1
}

# "<image reference>|<default ports>|<required variables>|<JSON variables>" for every image of
# the example catalogs docs/examples/*.yml (tests/standin/examples.py: the catalog is the one source).
# example_images <python with PyYAML>
example_images() {
    "$1" "$STANDIN_DIR/examples.py" || die "tests/standin/examples.py could not read docs/examples/*.yml"
}

# remote_digests <assoc array name> <repo:tag...>: fills the array with repo:tag -> manifest
# digest the registry serves (no entry when it serves none), by HEAD requests in one
# parallel curl.
remote_digests() {
    local -n digests_into=$1
    local ref url digest base="http://$REGISTRY_ADDR/v2/" args=()
    shift
    digests_into=()
    for ref in "$@"; do
        args+=(-o /dev/null "$base${ref%:*}/manifests/${ref##*:}")
    done
    while read -r url digest; do
        ref=${url#"$base"}
        # shellcheck disable=SC2034 # a nameref: the caller's associative array
        if [[ -n $digest ]]; then digests_into["${ref%/manifests/*}:${ref##*/manifests/}"]=$digest; fi
    done < <(curl -sS -I --parallel --parallel-max 16 --max-time 5 \
                 -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
                 -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
                 -w '%{url_effective} %header{docker-content-digest}\n' "${args[@]}" 2>/dev/null || true)
}

# image_recipes <assoc array name> <image...>: fills the array with recipe label -> repo
# digests of each image that exists, in one `docker image inspect` (a missing image prints
# nothing; a recipe names the one target it was built for).
image_recipes() {
    local -n recipes_into=$1
    local recipe digests
    shift
    recipes_into=()
    while read -r recipe digests; do
        # shellcheck disable=SC2034 # a nameref: the caller's associative array
        if [[ -n $recipe ]]; then recipes_into["$recipe"]=$digests; fi
    done < <(docker image inspect -f '{{index .Config.Labels "org.voiceops.recipe"}} {{join .RepoDigests " "}}' \
                 "$@" 2>/dev/null || true)
}

# Bake target (JSON) of one stand-in image: the stand-in plus ENV and labels, no layer.
# bake_target <name> <target> <recipe> <ref> <ports> <version (empty: none)> [<required> <json>]
bake_target() {
    local env="STANDIN_IMAGE=$4 STANDIN_DEFAULT_PORTS=\\\"$5\\\""
    local labels="org.voiceops.recipe=$3 org.voiceops.standin.for=$4"
    if [[ -n $6 ]]; then
        env+=" STANDIN_VERSION=$6"
        labels+=" org.voiceops.standin.version=$6"
    fi
    if [[ -n ${7:-} ]]; then env+=" STANDIN_REQUIRED=\\\"$7\\\""; fi
    if [[ -n ${8:-} ]]; then env+=" STANDIN_JSON=\\\"$8\\\""; fi
    printf '"%s": {"context": "context", "pull": false, "tags": ["%s"], "dockerfile-inline": "FROM %s\\nENV %s\\nLABEL %s\\n"}' \
        "$1" "$2" "$STANDIN_IMAGE" "$env" "$labels"
}

push_standins() {
    local standin_id lines py examples line ref ports required json_vars repo tag target version digest word kept=0 i
    local targets=() versions=() refs=() portss=() requireds=() jsons=() wants=() stale=() todo=()
    local -A seen_repo=() built=()
    if ! standin_id=$(docker image inspect -f '{{.Id}}' "$STANDIN_IMAGE" 2>/dev/null); then
        pending "tag and push the stand-in images" && return 0
        die "$STANDIN_IMAGE missing"
    fi
    mapfile -t lines < <(registry_images)
    ((${#lines[@]})) || die "no image found in the collection's registry"
    if ! py=$(yaml_python); then
        pending "install python3-yaml (the example catalogs docs/examples/*.yml are read with PyYAML)" && return 0
        die "reading docs/examples/*.yml needs PyYAML: apt-get install python3-yaml (scripts/provision.sh installs it)"
    fi
    examples=$(example_images "$py")
    [[ -z $examples ]] || mapfile -t -O "${#lines[@]}" lines <<<"$examples"

    # Every tag to serve: each registry image under its own tag (STANDIN_VERSION unset, the
    # same recipe as before versions existed) and, once per repository, as v<version> for each
    # of STANDIN_VERSIONS (STANDIN_VERSION set: every tag has its own manifest digest).
    # (an example catalog's image also carries its required and JSON variables: in its recipe too)
    add_tag() {  # add_tag <target> <version or empty> (ref, ports, required, json_vars: the caller's)
        targets+=("$1") versions+=("$2") refs+=("$ref") portss+=("$ports") requireds+=("$required") jsons+=("$json_vars")
        wants+=("$(printf '%s %s %s%s%s\n' "$standin_id" "$ref" "$ports" "${2:+ $2}" \
                       "${required:+ required=$required}${json_vars:+ json=$json_vars}" | sha)")
    }
    for line in "${lines[@]}"; do
        IFS="|" read -r ref ports required json_vars <<<"$line"
        if [[ ${ref##*/} == *:* ]]; then repo=${ref%:*} tag=${ref##*:}; else repo=$ref tag=latest; fi
        add_tag "$REGISTRY_PREFIX$repo:$tag" ""
        [[ -n ${seen_repo[$repo]:-} ]] && continue   # another tag of a repository: no second v<version> set
        seen_repo[$repo]=1
        for version in $STANDIN_VERSIONS; do
            add_tag "$REGISTRY_PREFIX$repo:v$version" "$version"
        done
    done

    # 1. one image per tag, (re)built in a single `buildx bake` when missing or out of date
    image_recipes built "${targets[@]}"
    for i in "${!targets[@]}"; do
        if [[ $FORCE == 1 || -z ${built[${wants[$i]}]+set} ]]; then stale+=("i$i"); fi
    done
    if ((${#stale[@]})); then
        pending "tag ${#stale[@]} stand-in images and push them" && return 0
        local bake=$CACHE/standin-bake/bake.json sep=''
        mkdir -p "$CACHE/standin-bake/context"   # empty build context
        printf '{"target": {' >"$bake"
        for i in "${stale[@]#i}"; do
            printf '%s' "$sep" >>"$bake"
            sep=,
            bake_target "i$i" "${targets[$i]}" "${wants[$i]}" "${refs[$i]}" "${portss[$i]}" "${versions[$i]}" \
                "${requireds[$i]}" "${jsons[$i]}" >>"$bake"
        done
        printf '}}\n' >>"$bake"
        (cd "$CACHE/standin-bake" && docker buildx bake -f "$bake" --progress quiet "${stale[@]}" >/dev/null 2>"$CACHE/bake.log") \
            || { tail -n 20 "$CACHE/bake.log" >&2; die "docker buildx bake of the stand-in images failed"; }
        log "tagged ${#stale[@]} stand-in images"
        image_recipes built "${targets[@]}"
    fi

    # 2. push what the registry does not serve with the local digest yet
    local -A served=()
    remote_digests served "${targets[@]#"$REGISTRY_PREFIX"}"
    for i in "${!targets[@]}"; do
        target=${targets[$i]}
        repo=${target#"$REGISTRY_PREFIX"}; repo=${repo%:*}
        [[ -n ${built[${wants[$i]}]+set} ]] || die "$target missing or not of recipe ${wants[$i]} after the build"
        digest=
        for word in ${built[${wants[$i]}]}; do   # the digest of the local image in this repository
            if [[ $word == "$REGISTRY_PREFIX$repo@"* ]]; then digest=${word#*@}; break; fi
        done
        if [[ -n $digest && ${served[${target#"$REGISTRY_PREFIX"}]:-} == "$digest" ]]; then
            kept=$((kept + 1))
        else
            todo+=("$target")
        fi
    done
    if ((${#todo[@]})); then
        pending "push ${#todo[@]} stand-in tags to the registry" && return 0
        # the first push uploads the shared layers; the others only add their config and
        # manifest, in parallel
        docker push -q "${todo[0]}" >/dev/null || die "docker push ${todo[0]} failed"
        if ((${#todo[@]} > 1)); then
            # shellcheck disable=SC2016
            printf '%s\n' "${todo[@]:1}" \
                | xargs -P 8 -I{} sh -c 'docker push -q "$1" >/dev/null || { echo "docker push $1 failed" >&2; exit 255; }' _ {} \
                || die "docker push failed"
        fi
    fi
    log "registry: ${#lines[@]} images (example catalogs included), ${#targets[@]} tags (own tag + v${STANDIN_VERSIONS// /, v}): ${#todo[@]} pushed, $kept already there"
}

verify_pull() {
    local ref=${REGISTRY_PREFIX}agentvoiceresponse/avr-core
    docker rmi -f "$ref:latest" >/dev/null 2>&1 || true   # force a real pull (the layers stay local)
    docker pull -q "$ref" >/dev/null || die "docker pull $ref failed"
    log "docker pull $ref: ok"
}

# --- main ---------------------------------------------------------------------------------

what=${1:-all}
case $what in
    all|targets|standin|registry) ;;
    check) CHECK=1 ;;
    *) die "usage: $0 [all|targets|standin|registry|check]" ;;
esac

docker version --format '{{.Server.Version}}' >/dev/null 2>&1 \
    || die "the Docker daemon does not answer (run .ci/provision-docker.sh)"

for v in $STANDIN_VERSIONS; do
    [[ $v =~ ^[0-9A-Za-z][0-9A-Za-z._-]{0,126}$ ]] || die "STANDIN_VERSIONS: '$v' cannot be part of a tag (v$v)"
done

if ((CHECK)); then
    log() { :; }   # quiet: the one line below says it all
    build_target
    build_target_docker
    build_standin
    start_registry
    # with the registry down or an image to build, what would be pushed is not known yet
    if ((${#PENDING[@]} == 0)); then push_standins; fi
    if ((${#PENDING[@]})); then
        printf '[build-images] out of date: %s\n' "$(IFS=';'; printf '%s' "${PENDING[*]}" | sed 's/;/; /g')" >&2
        exit 1
    fi
    exit 0
fi

[[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap, chroot, registry under /var/lib)"

# One build at a time (tests running in parallel may all call this script).
LOCK_FILE=${VOICEOPS_BUILD_LOCK:-/run/lock/voiceops-build-images.lock}
mkdir -p "$(dirname "$LOCK_FILE")"
exec 9>"$LOCK_FILE"
if ! flock -n 9; then
    log "another build-images.sh run holds $LOCK_FILE; waiting"
    flock 9
fi

if [[ $what == all || $what == targets ]]; then
    timed "target image" build_target
    timed "target-docker image" build_target_docker
fi
if [[ $what == all || $what == standin ]]; then
    [[ $what == standin ]] && timed "target image" build_target
    timed "stand-in image" build_standin
fi
if [[ $what == all || $what == registry ]]; then
    timed "registry start" start_registry
    timed "registry push" push_standins
    timed "registry pull check" verify_pull
fi
# images this script replaced (untagged, labelled by it): gone, unless a container uses one
docker image prune -f --filter label=org.voiceops.recipe >/dev/null 2>&1 || true
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' \
    | grep -E '^localhost/voiceops-' | sed 's/^/[build-images] /' >&2 || true
log "done in $((SECONDS - T0))s"
