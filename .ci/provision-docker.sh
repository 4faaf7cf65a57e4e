#!/usr/bin/env bash
# Provision a Docker engine with Compose v2 (plus debootstrap) on a Debian 12
# (bookworm) machine without systemd, and leave dockerd running.
#
#   * Fast path: daemon answers, `docker compose` is v2, debootstrap present -> exit 0.
#   * Packages present but daemon down: only start dockerd.
#   * Otherwise: add trixie (pinned to 100) from the same Debian mirror the
#     existing apt sources use, install docker.io/docker-cli/docker-compose from
#     trixie *by explicit selection* (never `-t trixie`, which would drag libc6,
#     python3, apt, ... to trixie), debootstrap from bookworm, then start dockerd.
#
# Environment knobs: DOCKERD_LOG (default /var/log/dockerd.log),
#                    DOCKERD_TIMEOUT (seconds to wait for the daemon, default 60).
set -euo pipefail
set -o errtrace  # let the ERR trap report failures inside functions too

DOCKERD_LOG=${DOCKERD_LOG:-/var/log/dockerd.log}
DOCKERD_TIMEOUT=${DOCKERD_TIMEOUT:-60}
TRIXIE_SOURCES=/etc/apt/sources.list.d/trixie.sources
TRIXIE_PREFS=/etc/apt/preferences.d/trixie
export DEBIAN_FRONTEND=noninteractive

log() { printf '[provision-docker] %s\n' "$*" >&2; }
die() { printf '[provision-docker] ERROR: %s\n' "$*" >&2; exit 1; }
trap 'die "command failed (exit $?) at line ${LINENO}: ${BASH_COMMAND}"' ERR

# --- checks -----------------------------------------------------------------

# Server version if the daemon answers on its socket, else non-zero.
server_version() {
    command -v docker >/dev/null 2>&1 || return 1
    timeout 10 docker version --format '{{.Server.Version}}' 2>/dev/null
}

# Compose version (e.g. 2.26.1) if `docker compose` (first docker on PATH) is v2.
compose_v2_version() {
    local v
    command -v docker >/dev/null 2>&1 || return 1
    v=$(timeout 10 docker compose version --short 2>/dev/null) || return 1
    v=${v#v}
    [[ $v == 2.* ]] || return 1
    printf '%s\n' "$v"
}

pkg_version() {  # prints the installed version of $1, non-zero if not installed
    local out
    out=$(dpkg-query -W -f='${Status}\t${Version}' "$1" 2>/dev/null) || return 1
    [[ $out == "install ok installed"$'\t'* ]] || return 1
    printf '%s\n' "${out#*$'\t'}"
}

packages_ok() {
    local v
    command -v dockerd >/dev/null 2>&1 || return 1
    command -v debootstrap >/dev/null 2>&1 || return 1
    pkg_version debootstrap >/dev/null || return 1
    v=$(pkg_version docker-compose) || return 1
    dpkg --compare-versions "$v" ge 2 || return 1
    compose_v2_version >/dev/null
}

summary() {
    local sv cv
    sv=$(server_version) || die "docker daemon is not answering"
    cv=$(compose_v2_version) || die "'$(command -v docker) compose version' does not report Compose v2"
    printf 'docker provisioning OK: server %s, compose %s (client %s), debootstrap %s\n' \
        "$sv" "$cv" "$(command -v docker)" "$(pkg_version debootstrap)"
}

# --- apt --------------------------------------------------------------------

# URI of the enabled deb source that carries "<codename> ... main" in the
# existing apt configuration (deb822 *.sources first, then one-line *.list).
find_debian_mirror() {
    local codename=$1 f uri
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f $f && $f != "$TRIXIE_SOURCES" ]] || continue
        uri=$(awk -v want="$codename" '
            function flush() {
                if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " want " ") \
                    && (" " comps " ") ~ / main / && enabled != "no" && uris != "" && !found) {
                    split(uris, u, " "); print u[1]; found = 1
                }
                types = suites = comps = uris = ""; enabled = "yes"
            }
            BEGIN { enabled = "yes" }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); next }
            {
                key = tolower($1); sub(/:$/, "", key)
                val = $0; sub(/^[^:]*:[ \t]*/, "", val); gsub(/[ \t]+/, " ", val)
                if (key == "types") types = val
                else if (key == "uris") uris = val
                else if (key == "suites") suites = val
                else if (key == "components") comps = val
                else if (key == "enabled") enabled = tolower(val)
            }
            END { flush() }' "$f")
        [[ -n $uri ]] && { printf '%s\n' "$uri"; return 0; }
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f $f ]] || continue
        uri=$(awk -v want="$codename" '
            $1 == "deb" {
                i = 2
                if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                if ($(i + 1) == want) {
                    for (j = i + 2; j <= NF; j++) if ($j == "main") { print $i; exit }
                }
            }' "$f")
        [[ -n $uri ]] && { printf '%s\n' "$uri"; return 0; }
    done
    return 1
}

write_if_changed() {  # write_if_changed <path> <content>
    if [[ ! -f $1 ]] || [[ "$(cat "$1")" != "$2" ]]; then
        printf '%s\n' "$2" >"$1"
        log "wrote $1"
    fi
}

install_packages() {
    local codename mirror
    # shellcheck source=/dev/null
    codename=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")
    [[ -n $codename ]] || die "cannot read VERSION_CODENAME from /etc/os-release"
    local apt_opts=(-y -q -o Acquire::Retries=3 -o DPkg::Lock::Timeout=300)
    local pkgs

    if [[ $codename == bookworm ]]; then
        mirror=$(find_debian_mirror "$codename") \
            || die "no enabled 'deb' source for '$codename main' found in /etc/apt; cannot derive the Debian mirror URL"
        log "Debian mirror from apt sources: $mirror"
        write_if_changed "$TRIXIE_SOURCES" "Types: deb
URIs: $mirror
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
        write_if_changed "$TRIXIE_PREFS" "Package: *
Pin: release n=trixie
Pin-Priority: 100"
        # Compose v2 only exists in trixie; take the docker packages from there
        # explicitly (dependencies stay on bookworm where they can).
        pkgs=(debootstrap docker.io/trixie docker-cli/trixie docker-buildx/trixie docker-compose/trixie)
    else
        log "codename '$codename' is not bookworm: installing from the configured suites only"
        pkgs=(debootstrap docker.io docker-cli docker-buildx docker-compose)
    fi

    log "apt-get update"
    apt-get update -q -o Acquire::Retries=3 >/dev/null \
        || die "apt-get update failed (is the Debian mirror reachable?)"
    log "apt-get install ${pkgs[*]}"
    apt-get install "${apt_opts[@]}" --no-install-recommends "${pkgs[@]}" \
        || die "apt-get install of ${pkgs[*]} failed"
}

# --- daemon -----------------------------------------------------------------

start_dockerd() {
    local pid
    if pgrep -x dockerd >/dev/null 2>&1; then
        pid=$(pgrep -x dockerd | head -n 1)
        log "dockerd already running (pid $pid), waiting for it to answer"
    else
        log "starting dockerd (log: $DOCKERD_LOG)"
        mkdir -p "$(dirname "$DOCKERD_LOG")"
        # New session + nohup: the daemon must outlive this script and its caller. setsid and nohup exec
        # into dockerd, so $! is its pid (watched by pid: for a moment after the start its name is not
        # dockerd yet, and pgrep would call it dead).
        setsid nohup dockerd </dev/null >>"$DOCKERD_LOG" 2>&1 &
        pid=$!
    fi
    local deadline=$((SECONDS + DOCKERD_TIMEOUT))
    until server_version >/dev/null; do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "dockerd exited; last lines of $DOCKERD_LOG:"
            tail -n 30 "$DOCKERD_LOG" >&2 || true
            die "dockerd died during startup"
        fi
        if ((SECONDS >= deadline)); then
            log "last lines of $DOCKERD_LOG:"
            tail -n 30 "$DOCKERD_LOG" >&2 || true
            die "dockerd did not answer on /var/run/docker.sock within ${DOCKERD_TIMEOUT}s"
        fi
        sleep 1
    done
    log "dockerd is answering"
}

# --- main -------------------------------------------------------------------

[[ $(id -u) -eq 0 ]] || die "must run as root"

if server_version >/dev/null && packages_ok; then
    summary
    exit 0
fi

if packages_ok; then
    log "packages present, daemon not answering: starting it only"
else
    install_packages
    packages_ok || die "after installation: dockerd, debootstrap or Compose v2 ('$(command -v docker || echo docker) compose version') still missing"
fi

server_version >/dev/null || start_dockerd
summary
