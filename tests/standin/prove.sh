#!/usr/bin/env bash
# End-to-end proof of the stand-in infrastructure (.ci/build-images.sh):
# a hand-written compose file modelled on the registry's `openai` template (core, asterisk,
# AMI bridge, Deepgram ASR/TTS, OpenAI LLM) plus the `app` template's mysql service, all
# pulled from the local registry (localhost:5000/...), ports published on 127.0.0.1 only
# (host ports chosen by Docker, so it cannot clash with anything else), a non-default
# subnet, project `standin-proof`. Checks:
#   * the registry serves every repository of the collection's registry (and of the example
#     catalogs docs/examples/*.yml) under its own tag and as v1.0.0 and v1.1.0 (STANDIN_VERSIONS),
#     each tag with its own manifest digest;
#   * `docker compose up -d --wait` gets every service healthy (the stand-in healthcheck,
#     and for mysql the registry's own `mysqladmin ping -h localhost` healthcheck while
#     the stand-in is given mysql's `command:`);
#   * core's /status (through its published 127.0.0.1 port) shows ASR_URL, LLM_URL and
#     TTS_URL reached; the LLM's /status (through `docker compose exec`) shows AMI_URL reached;
#   * core's /health answers 200 {"status": "ok", "version": null, ...};
#   * profile `versions`: avr-core :v1.0.0 and :v1.1.0 side by side, both with
#     STANDIN_BROKEN_VERSIONS=1.1.0: v1.0.0's /health answers 200 with its version and the
#     container turns healthy; v1.1.0's answers 503 {"status": "broken", ...}, it logs
#     that it is marked broken, and the same healthcheck turns it unhealthy;
#   * faults per version (STANDIN_FAULTS, for the health gate tests): avr-core:v1.1.0 with
#     `exit` exits at once with status 1, with `exit-after:2` answers /health and exits with
#     status 1 two seconds later, with `no-listen` runs but refuses connections, with `unhealthy`
#     answers /health 503, each announcing its fault in one stdout line; v1.0.0 given the same
#     settings for v1.1.0 has no fault;
#   * the all-in-one stand-in of the example catalog (docs/examples/voice-agent.yml, through
#     tests/standin/examples.py): with one required variable missing it prints exactly
#     `[FATAL] Missing required environment variables: <name>` to stderr and exits with status 1;
#     with a JSON variable that does not parse, `[FATAL] Invalid JSON in environment variable <name>`
#     and status 1; with everything set, `agent-healthcheck` inside it exits 0 once it is up, and
#     exits 1 on v1.1.0 given STANDIN_FAULTS=1.1.0=unhealthy;
#   * every published port is bound to 127.0.0.1; the network has the requested subnet;
#   * `docker compose down -v` leaves no container, network or volume of the project.
#
# Usage: tests/standin/prove.sh
# Environment: SKIP_BUILD=1     do not run .ci/build-images.sh first
#              PROOF_PROJECT    compose project name (default standin-proof)
#              PROOF_SUBNET     network subnet (default 172.29.0.0/24)
#              KEEP=1           leave the stack and the temp dir up for inspection
#              STANDIN_VERSIONS the versions build-images.sh pushes (default "1.0.0 1.1.0")
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PROJECT=${PROOF_PROJECT:-standin-proof}
SUBNET=${PROOF_SUBNET:-172.29.0.0/24}
PREFIX=localhost:5000/
REGISTRY_URL=http://127.0.0.1:5000
read -r -a VERSIONS <<<"${STANDIN_VERSIONS:-1.0.0 1.1.0}"
OLD_V=${VERSIONS[0]} NEW_V=${VERSIONS[-1]}   # the rollout pair checked below
T0=$SECONDS

say() { printf '[prove %3ds] %s\n' "$((SECONDS - T0))" "$*"; }
fail() { printf '[prove] FAIL: %s\n' "$*" >&2; exit 1; }
((${#VERSIONS[@]} >= 2)) || fail "STANDIN_VERSIONS must name at least two versions (old, new)"

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    "$REPO/.ci/build-images.sh" >/dev/null 2>"${TMPDIR:-/tmp}/standin-prove-build.log" \
        || { cat "${TMPDIR:-/tmp}/standin-prove-build.log" >&2; fail ".ci/build-images.sh failed"; }
    say "images and registry ready ($(grep -o 'done in .*' "${TMPDIR:-/tmp}/standin-prove-build.log"))"
fi

# --- every repository under its own tag and as v<version>, each with its own digest --------
manifest_digest() {  # manifest_digest <repo> <tag>: Docker-Content-Digest, empty if none
    curl -fsS --max-time 5 -o /dev/null -D - \
        -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
        -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
        "$REGISTRY_URL/v2/$1/manifests/$2" 2>/dev/null \
        | awk -F': ' 'tolower($1) == "docker-content-digest" { gsub(/\r/, "", $2); print $2 }'
}
# the image references of every registry generation, each once (oldest generation first)
mapfile -t refs < <(PYTHONPATH=$REPO/plugins/module_utils python3 -c '
from registry.generations import generations
refs = [img.image for gen in generations().values() for img in gen.images]
print("\n".join(dict.fromkeys(refs)))')
# and the images of the example catalogs (docs/examples/*.yml), which build-images.sh pushes too
mapfile -t -O "${#refs[@]}" refs < <(python3 "$HERE/examples.py" | cut -d'|' -f1)
((${#refs[@]})) || fail "no image found in the collection's registry"
declare -A seen_digest=() seen_repo=()
for ref in "${refs[@]}"; do
    if [[ ${ref##*/} == *:* ]]; then repo=${ref%:*} tag=${ref##*:}; else repo=$ref tag=latest; fi
    versions=("${VERSIONS[@]/#/v}")
    [[ -z ${seen_repo[$repo]:-} ]] || versions=()   # another tag of a repository: its v<version> set is checked once
    seen_repo[$repo]=1
    for t in "$tag" "${versions[@]}"; do
        digest=$(manifest_digest "$repo" "$t")
        [[ -n $digest ]] || fail "the registry does not serve $repo:$t"
        [[ -z ${seen_digest[$digest]:-} ]] || fail "$repo:$t has the digest of ${seen_digest[$digest]} ($digest)"
        seen_digest[$digest]=$repo:$t
    done
done
say "registry: ${#refs[@]} image references (${#seen_repo[@]} repositories), each as its own tag + ${VERSIONS[*]/#/v}: ${#seen_digest[@]} distinct digests"
say "  avr-core:v$OLD_V $(manifest_digest agentvoiceresponse/avr-core "v$OLD_V")"
say "  avr-core:v$NEW_V $(manifest_digest agentvoiceresponse/avr-core "v$NEW_V")"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/standin-proof.XXXXXX")
# (profile `versions` always on for the commands that take the project down)
dc() { docker compose -p "$PROJECT" --project-directory "$WORK" -f "$WORK/docker-compose.yml" "$@"; }
dc_all() { dc --profile versions "$@"; }

cleanup() {
    local rc=$?
    if [[ ${KEEP:-0} == 1 ]]; then
        say "KEEP=1: stack left up; files in $WORK"
        return
    fi
    if ((rc)); then
        dc_all ps -a >&2 || true
        dc_all logs --no-color --tail 15 >&2 || true
    fi
    dc_all down -v --remove-orphans --timeout 5 >/dev/null 2>&1 || true
    docker ps -aq --filter "label=org.voiceops.proof=$PROJECT" | xargs -r docker rm -f >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# Files the AVR compose examples mount (contents do not matter to the stand-in).
mkdir -p "$WORK/asterisk/conf" "$WORK/tools" "$WORK/db"
for f in manager pjsip extensions queues ari; do : >"$WORK/asterisk/conf/$f.conf"; done

cat >"$WORK/docker-compose.yml" <<EOF
# Modelled on the registry's "openai" template (+ the "app" template's database service).
x-standin-health: &standin-health
  # the stand-in writes the ports it listens on to /run/standin.ports
  test: ["CMD", "python3", "-c", "import urllib.request; p = open('/run/standin.ports').read().split()[0]; urllib.request.urlopen('http://127.0.0.1:' + p + '/health', timeout=2)"]
  interval: 1s
  timeout: 3s
  retries: 30

x-core-version: &core-version
  platform: linux/x86_64
  environment:
    PORT: "5001"
    # a host where the new version fails its health check
    STANDIN_BROKEN_VERSIONS: "$NEW_V"
  ports: ["127.0.0.1::5001"]
  healthcheck:
    <<: *standin-health
    retries: 2   # unhealthy within seconds
  networks: [avr]
  profiles: [versions]

services:
  avr-core:
    image: ${PREFIX}agentvoiceresponse/avr-core
    platform: linux/x86_64
    restart: always
    environment:
      PORT: "5001"
      ASR_URL: http://avr-asr-deepgram:6010/speech-to-text-stream
      LLM_URL: http://avr-llm-openai:6002/prompt-stream
      TTS_URL: http://avr-tts-deepgram:6011/text-to-speech-stream
      INTERRUPT_LISTENING: "true"
      SYSTEM_MESSAGE: Hello, how can I help you today?
    ports: ["127.0.0.1::5001"]
    healthcheck: *standin-health
    networks: [avr]

  avr-asr-deepgram:
    image: ${PREFIX}agentvoiceresponse/avr-asr-deepgram
    platform: linux/x86_64
    restart: always
    environment:
      PORT: "6010"
      DEEPGRAM_API_KEY: proof-not-a-key
      SPEECH_RECOGNITION_LANGUAGE: en-US
      SPEECH_RECOGNITION_MODEL: nova-2-phonecall
    healthcheck: *standin-health
    networks: [avr]

  avr-llm-openai:
    image: ${PREFIX}agentvoiceresponse/avr-llm-openai
    platform: linux/x86_64
    restart: always
    environment:
      PORT: "6002"
      OPENAI_API_KEY: proof-not-a-key
      OPENAI_MODEL: gpt-3.5-turbo
      OPENAI_MAX_TOKENS: "100"
      OPENAI_TEMPERATURE: "0.0"
      AMI_URL: http://avr-ami:6006
      SYSTEM_PROMPT: You are a helpful assistant.
    volumes: ["./tools:/usr/src/app/tools"]
    healthcheck: *standin-health
    networks: [avr]

  avr-tts-deepgram:
    image: ${PREFIX}agentvoiceresponse/avr-tts-deepgram
    platform: linux/x86_64
    restart: always
    environment:
      PORT: "6011"
      DEEPGRAM_API_KEY: proof-not-a-key
    healthcheck: *standin-health
    networks: [avr]

  avr-asterisk:
    image: ${PREFIX}agentvoiceresponse/avr-asterisk
    restart: always
    # no PORT here: the stand-in listens on the image's default ports (5038 5060 8088)
    ports: ["127.0.0.1::5038", "127.0.0.1::5060", "127.0.0.1::8088"]
    volumes:
      - ./asterisk/conf/manager.conf:/etc/asterisk/my_manager.conf
      - ./asterisk/conf/pjsip.conf:/etc/asterisk/my_pjsip.conf
      - ./asterisk/conf/extensions.conf:/etc/asterisk/my_extensions.conf
      - ./asterisk/conf/queues.conf:/etc/asterisk/my_queues.conf
      - ./asterisk/conf/ari.conf:/etc/asterisk/my_ari.conf
    healthcheck: *standin-health
    networks: [avr]

  avr-ami:
    image: ${PREFIX}agentvoiceresponse/avr-ami
    platform: linux/x86_64
    restart: always
    environment:
      PORT: "6006"
      AMI_HOST: avr-asterisk
      AMI_PORT: "5038"
      AMI_USERNAME: avr
      AMI_PASSWORD: proof-not-a-password
    ports: ["127.0.0.1::6006"]
    healthcheck: *standin-health
    networks: [avr]

  avr-app-db:
    image: ${PREFIX}mysql:8.0.15
    platform: linux/x86_64
    restart: always
    command: mysqld --default-authentication-plugin=mysql_native_password
    environment:
      MYSQL_DATABASE: avr
      MYSQL_USER: avr
      MYSQL_PASSWORD: proof-not-a-password
      MYSQL_ROOT_PASSWORD: proof-not-a-password
    ports: ["127.0.0.1::3306"]
    volumes: ["./db:/var/lib/mysql"]
    healthcheck:  # the registry's, with a short interval (its default 30s would slow --wait)
      test: ["CMD", "mysqladmin", "ping", "-h", "localhost"]
      timeout: 20s
      retries: 10
      interval: 1s
    networks: [avr]

  # two tagged versions side by side (profile "versions": the plain "up" leaves them out)
  avr-core-old:
    <<: *core-version
    image: ${PREFIX}agentvoiceresponse/avr-core:v$OLD_V

  avr-core-new:
    <<: *core-version
    image: ${PREFIX}agentvoiceresponse/avr-core:v$NEW_V

networks:
  avr:
    driver: bridge
    ipam:
      config:
        - subnet: ${SUBNET}
EOF

dc_all down -v --remove-orphans --timeout 5 >/dev/null 2>&1 || true   # leftovers of an aborted run
dc_all config --quiet || fail "docker compose config rejects the proof file"

say "docker compose up -d --wait --pull always (project $PROJECT, subnet $SUBNET)"
# --pull always: every image really comes from the local registry (its layers are local
# already, so this is quick)
dc up -d --wait --wait-timeout 120 --pull always >"$WORK/up.log" 2>&1 \
    || { sed 's/^/    /' "$WORK/up.log" >&2; fail "docker compose up -d --wait failed"; }
say "pulled $(grep -c ' Pulled' "$WORK/up.log") images from ${PREFIX%/}; $(grep -c ' Healthy' "$WORK/up.log") of $(dc ps --format '{{.Service}}' | wc -l) services healthy"

# --- core's /status through its published loopback port -----------------------------------
core_addr=$(dc port avr-core 5001)
[[ $core_addr == 127.0.0.1:* ]] || fail "avr-core 5001 published on '$core_addr', not 127.0.0.1"

check_reached() {  # check_reached <label> <expected vars> : reads a /status JSON on stdin
    python3 -c '
import json, sys
label, want = sys.argv[1], sys.argv[2].split()
st = json.load(sys.stdin)
missing = [v for v in want if not st["reached"].get(v)]
leaked = [k for k, v in st.items() if k not in ("env_names",) and "proof-not-a" in json.dumps(v)]
if missing or leaked:
    print("%s: not reached %s, leaked values in %s; status %s" % (label, missing, leaked, json.dumps(st)))
    sys.exit(1)
print("%s (%s) listening %s, reached %s" % (label, st["image"], st["listening"],
      " ".join("%s=%s" % kv for kv in sorted(st["reached"].items()))))
' "$1" "$2"
}

deadline=$((SECONDS + 30))
until out=$(curl -fsS --max-time 3 "http://$core_addr/status" | check_reached avr-core "ASR_URL LLM_URL TTS_URL"); do
    ((SECONDS < deadline)) || fail "$out"
    sleep 1
done
say "$out"

# --- the LLM's /status from inside its container ------------------------------------------
deadline=$((SECONDS + 30))
until out=$(dc exec -T avr-llm-openai python3 -c \
        'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:6002/status").read().decode())' \
        | check_reached avr-llm-openai "AMI_URL"); do
    ((SECONDS < deadline)) || fail "$out"
    sleep 1
done
say "$out"

# --- /health: 200 and the version (none on the registry's own tag) ------------------------
health() {  # health <addr>: "<HTTP code> <compact JSON body>"
    local body=$WORK/health.json
    rm -f "$body"
    curl -s --max-time 3 -o "$body" -w '%{http_code} ' "http://$1/health" 2>/dev/null || true
    python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1])), sort_keys=True))' "$body" 2>/dev/null \
        || printf '(no JSON)\n'
}
out=$(health "$core_addr")
[[ $out == '200 {"image": "agentvoiceresponse/avr-core", "status": "ok", "version": null}' ]] \
    || fail "avr-core /health: $out"
say "avr-core /health: $out"

# --- two tagged versions, the new one marked broken -----------------------------------------
dc_all up -d --pull always avr-core-old avr-core-new >"$WORK/up-versions.log" 2>&1 \
    || { sed 's/^/    /' "$WORK/up-versions.log" >&2; fail "docker compose up of avr-core v$OLD_V and v$NEW_V failed"; }
old_addr=$(dc_all port avr-core-old 5001)
new_addr=$(dc_all port avr-core-new 5001)
want_old='200 {"image": "agentvoiceresponse/avr-core", "status": "ok", "version": "'$OLD_V'"}'
want_new='503 {"status": "broken", "version": "'$NEW_V'"}'
deadline=$((SECONDS + 30))
until [[ $(health "$old_addr") == "$want_old" && $(health "$new_addr") == "$want_new" ]]; do
    ((SECONDS < deadline)) || fail "v$OLD_V /health: $(health "$old_addr"); v$NEW_V /health: $(health "$new_addr")"
    sleep 0.5
done
say "avr-core:v$OLD_V /health: $want_old"
say "avr-core:v$NEW_V /health: $want_new (STANDIN_BROKEN_VERSIONS=$NEW_V)"
# the container's stdout only (its stderr, where the rest of its log goes, is dropped)
logged=$(docker logs "$(dc_all ps -q avr-core-new)" 2>/dev/null \
         | grep -cx "standin: version $NEW_V is marked broken (STANDIN_BROKEN_VERSIONS)" || true)
[[ $logged == 1 ]] || fail "avr-core:v$NEW_V printed the 'marked broken' line to stdout $logged times, expected once"
state() { docker inspect -f '{{.State.Health.Status}}' "$(dc_all ps -q "$1")"; }
deadline=$((SECONDS + 30))
until [[ $(state avr-core-old) == healthy && $(state avr-core-new) == unhealthy ]]; do
    ((SECONDS < deadline)) || fail "health: v$OLD_V $(state avr-core-old), v$NEW_V $(state avr-core-new)"
    sleep 0.5
done
say "healthcheck: avr-core:v$OLD_V healthy, avr-core:v$NEW_V unhealthy; v$NEW_V logged that it is marked broken"

# --- faults per version (STANDIN_FAULTS) ----------------------------------------------------
fault_run() {  # fault_run <tag> <STANDIN_FAULTS> [docker run args...]: start detached, print the container id
    local tag=$1 faults=$2
    shift 2
    docker run -d --label "org.voiceops.proof=$PROJECT" -p 127.0.0.1::5001 -e PORT=5001 \
        -e STANDIN_FAULTS="$faults" "$@" "${PREFIX}agentvoiceresponse/avr-core:$tag"
}
fault_line() {  # fault_line <container> <line>: the line is on the container's stdout exactly once
    local n
    n=$(docker logs "$1" 2>/dev/null | grep -cxF "$2" || true)
    [[ $n == 1 ]] || fail "expected once on stdout of $1 ($n times): $2"
}
exit_code() { docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$1"; }
# exit: status 1 at once
cid=$(fault_run "v$NEW_V" "$NEW_V=exit")
code=$(timeout 10 docker wait "$cid") || fail "avr-core:v$NEW_V with exit did not exit"
[[ $code == 1 ]] || fail "avr-core:v$NEW_V with exit exited with $code, not 1"
fault_line "$cid" "standin: version $NEW_V exits at once (STANDIN_FAULTS: exit)"
say "STANDIN_FAULTS=$NEW_V=exit: exits at once with status 1"
# exit-after:2: answers /health, then exits with status 1
cid=$(fault_run "v$NEW_V" "$NEW_V=exit-after:2")
started=$SECONDS
addr=$(docker port "$cid" 5001 | head -n 1)
deadline=$((SECONDS + 10))
until [[ $(health "$addr") == 200* ]]; do
    ((SECONDS < deadline)) || fail "avr-core:v$NEW_V with exit-after:2 never answered /health"
    sleep 0.2
done
code=$(timeout 10 docker wait "$cid") || fail "avr-core:v$NEW_V with exit-after:2 did not exit"
if ! { ((SECONDS - started >= 2)) && [[ $code == 1 ]]; }; then
    fail "exit-after:2: exit $code after $((SECONDS - started)) s"
fi
fault_line "$cid" "standin: version $NEW_V exits after 2 s (STANDIN_FAULTS: exit-after)"
say "STANDIN_FAULTS=$NEW_V=exit-after:2: answered /health, exited with status 1 after $((SECONDS - started)) s"
# no-listen: runs, but nothing accepts connections
cid=$(fault_run "v$NEW_V" "$NEW_V=no-listen")
sleep 1.5
[[ $(exit_code "$cid") == "running 0" ]] || fail "avr-core:v$NEW_V with no-listen is $(exit_code "$cid")"
addr=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$cid")
if python3 -c 'import socket, sys; socket.create_connection((sys.argv[1], 5001), timeout=2)' "$addr" 2>/dev/null; then
    fail "avr-core:v$NEW_V with no-listen accepts connections on $addr:5001"
fi
fault_line "$cid" "standin: version $NEW_V never listens (STANDIN_FAULTS: no-listen)"
say "STANDIN_FAULTS=$NEW_V=no-listen: running, $addr:5001 refuses connections"
# unhealthy: /health answers 503; the other version has no fault
cid=$(fault_run "v$NEW_V" "$NEW_V=unhealthy")
old=$(fault_run "v$OLD_V" "$NEW_V=exit,$NEW_V=unhealthy")
addr=$(docker port "$cid" 5001 | head -n 1)
old_addr=$(docker port "$old" 5001 | head -n 1)
deadline=$((SECONDS + 10))
until [[ $(health "$addr") == 503* && $(health "$old_addr") == 200* ]]; do
    ((SECONDS < deadline)) || fail "unhealthy: v$NEW_V /health $(health "$addr"), v$OLD_V /health $(health "$old_addr")"
    sleep 0.2
done
fault_line "$cid" "standin: version $NEW_V answers /health with 503 (STANDIN_FAULTS: unhealthy)"
say "STANDIN_FAULTS=$NEW_V=unhealthy: /health 503; v$OLD_V given faults of v$NEW_V: /health 200"
docker ps -aq --filter "label=org.voiceops.proof=$PROJECT" | xargs -r docker rm -f >/dev/null

# --- the all-in-one stand-in of the example catalog -----------------------------------------
IFS="|" read -r agent_ref _ agent_required agent_json < <(python3 "$HERE/examples.py" "$REPO/docs/examples/voice-agent.yml")
read -r -a required <<<"$agent_required"
read -r -a json_vars <<<"$agent_json"
((${#required[@]} >= 2 && ${#json_vars[@]} >= 1)) || fail "examples.py: voice-agent has required '${agent_required}', json '${agent_json}'"
agent_repo=${agent_ref%:*}
agent_env=()   # every required variable set (proof values, no real secret)
for name in "${required[@]}"; do agent_env+=(-e "$name=proof-$name"); done
agent_run() {  # agent_run <tag> [docker run args...]: the stand-in of voice-agent, detached, its id
    local tag=$1
    shift
    docker run -d --label "org.voiceops.proof=$PROJECT" "$@" "$PREFIX$agent_repo:$tag"
}
# one required variable missing (the first): the FATAL line, status 1, nothing else
missing=${required[0]}
cid=$(agent_run "${agent_ref##*:}" "${agent_env[@]:2}")
code=$(timeout 10 docker wait "$cid") || fail "$agent_ref without $missing did not exit"
errors=$(docker logs "$cid" 2>&1 >/dev/null)
[[ $code == 1 && $errors == "[FATAL] Missing required environment variables: $missing" ]] \
    || fail "$agent_ref without $missing: exit $code, stderr '$errors'"
say "$agent_ref without $missing: exit 1, stderr: $errors"
# a JSON variable that does not parse
cid=$(agent_run "${agent_ref##*:}" "${agent_env[@]}" -e "${json_vars[0]}=[transfer")
code=$(timeout 10 docker wait "$cid") || fail "$agent_ref with bad JSON in ${json_vars[0]} did not exit"
errors=$(docker logs "$cid" 2>&1 >/dev/null)
[[ $code == 1 && $errors == "[FATAL] Invalid JSON in environment variable ${json_vars[0]}" ]] \
    || fail "$agent_ref with bad JSON: exit $code, stderr '$errors'"
say "$agent_ref with ${json_vars[0]}='[transfer': exit 1, stderr: $errors"
# everything set: agent-healthcheck passes once it is up; on a version whose health fails it fails
ok=$(agent_run "v$OLD_V" "${agent_env[@]}" -e "${json_vars[0]}=[\"transfer\"]" -e "STANDIN_FAULTS=$NEW_V=unhealthy")
bad=$(agent_run "v$NEW_V" "${agent_env[@]}" -e "STANDIN_FAULTS=$NEW_V=unhealthy")
deadline=$((SECONDS + 15))
until docker exec "$ok" agent-healthcheck >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "agent-healthcheck in $agent_repo:v$OLD_V never passed: $(docker exec "$ok" agent-healthcheck 2>&1)"
    sleep 0.3
done
deadline=$((SECONDS + 15))
until docker exec "$bad" sh -c 'test -s /run/standin.ports'; do
    ((SECONDS < deadline)) || fail "$agent_repo:v$NEW_V never listened"
    sleep 0.3
done
if out=$(docker exec "$bad" agent-healthcheck 2>&1); then fail "agent-healthcheck in $agent_repo:v$NEW_V (unhealthy) passed: $out"; fi
[[ $(docker inspect -f '{{.State.Status}}' "$bad") == running ]] || fail "$agent_repo:v$NEW_V is not running"
say "agent-healthcheck: $agent_repo:v$OLD_V exits 0; v$NEW_V with STANDIN_FAULTS=$NEW_V=unhealthy exits 1 ($out)"
docker ps -aq --filter "label=org.voiceops.proof=$PROJECT" | xargs -r docker rm -f >/dev/null

# --- loopback-only publishing and the subnet ----------------------------------------------
published=$(docker ps --filter "label=com.docker.compose.project=$PROJECT" --format '{{.Ports}}' | tr ',' '\n' | grep -- '->' || true)
[[ -n $published ]] || fail "no published port found"
if grep -v '^ *127\.0\.0\.1:' <<<"$published"; then fail "a port is published beyond 127.0.0.1"; fi
say "published ports: $(wc -l <<<"$published"), all on 127.0.0.1"
net=$(docker network ls -q --filter "label=com.docker.compose.project=$PROJECT")
got_subnet=$(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' "$net")
[[ $got_subnet == "$SUBNET" ]] || fail "network subnet is $got_subnet, not $SUBNET"
say "network $(docker network inspect -f '{{.Name}}' "$net") subnet $got_subnet"

# --- teardown leaves nothing ----------------------------------------------------------------
[[ ${KEEP:-0} == 1 ]] && exit 0
dc_all down -v --remove-orphans --timeout 5 >"$WORK/down.log" 2>&1 \
    || { sed 's/^/    /' "$WORK/down.log" >&2; fail "docker compose down -v failed"; }
say "down -v: $(grep -c ' Removed' "$WORK/down.log") objects removed"
left=$(
    docker ps -aq --filter "label=com.docker.compose.project=$PROJECT"
    docker network ls -q --filter "label=com.docker.compose.project=$PROJECT"
    docker volume ls -q --filter "label=com.docker.compose.project=$PROJECT"
)
[[ -z $left ]] || fail "left behind after down -v: $left"
say "down -v: no container, network or volume of project $PROJECT remains"
say "PROOF OK"
