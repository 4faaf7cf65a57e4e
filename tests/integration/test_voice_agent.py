"""The example catalog of the single-image ("all-in-one") voice agent, docs/examples/voice-agent.yml, on real
Docker with its stand-in from the local registry (.ci/build-images.sh pushes it as
localhost:5000/voiceops-examples/voice-agent:1.0.0, :v1.0.0 and :v1.1.0, tests/standin/README.md).

- The build script takes the stand-in's required and JSON variables from the catalog itself
  (tests/standin/examples.py): its derivation is checked against the catalog and the registry the catalog
  makes, and the pushed images carry what it derives.
- The image's own guarantee: started without a required variable it prints
  ``[FATAL] Missing required environment variables: ...`` and exits 1 (and with a JSON variable that does not
  parse, ``[FATAL] Invalid JSON in environment variable ...``).
- The role ``voiceops.avr.stack`` deploys template voice-agent from the catalog file: the container turns
  healthy through the catalog's health check, the gate waited for it (a health probe), the derived defaults
  are in the compose file, and no secret value is in environment.json or in the play's output.
- The health gate rolls back a v1.0.0 -> v1.1.0 update whose health check fails (STANDIN_FAULTS, which a
  copy of the catalog gives the image's schema).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml

from ansible_collections.voiceops.avr.plugins.module_utils.registry.catalog import effective_registry
from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import readiness

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "docs" / "examples" / "voice-agent.yml"
EXAMPLES_PY = ROOT / "tests" / "standin" / "examples.py"
PLAYBOOK = Path(__file__).resolve().parent / "playbooks" / "stack.yml"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
REGISTRY = "localhost:5000"
REPOSITORY = "voiceops-examples/voice-agent"
PREFIX = "standin-"  # every container, network and project this module creates

SECRETS = {"DATABASE_URL": "postgres://agent:standin-db-pw-0001@db.example.com:5432/agents",
           "WEBRTC_PASSWORD": "standin-webrtc-pw-0002"}
KEYS = {"openai": "sk-standin-not-real-0003", "deepgram": "dg-standin-not-real-0004"}
ENV = {"DEPARTMENT_ID": "sales", "DEPARTMENT_NAME": "Sales", "WORKFLOW_WEBHOOK_BASE": "https://flows.example.com/webhook",
       "WEBRTC_USERNAME": "sales-agent"}
HIDDEN = list(SECRETS.values()) + list(KEYS.values())


def catalog_data() -> Dict[str, Any]:
    with CATALOG.open() as handle:
        return dict(yaml.safe_load(handle))


def derived() -> List[List[str]]:
    """What .ci/build-images.sh bakes into the stand-in, by the script it runs (fields of examples.py)."""
    out = subprocess.run([sys.executable, str(EXAMPLES_PY), str(CATALOG)], capture_output=True, text=True,
                         check=True).stdout
    return [line.split("|") for line in out.splitlines()]


# --- the build script's derivation ------------------------------------------------------------------------------

def test_build_script_derives_the_stand_in_from_the_catalog() -> None:
    image = catalog_data()["images"][0]
    names = [var["name"] for var in image["env"]]
    assert derived() == [[
        "voiceops-examples/voice-agent:1.0.0", "8080",
        "DEPARTMENT_ID DEPARTMENT_NAME DATABASE_URL WORKFLOW_WEBHOOK_BASE WEBRTC_USERNAME WEBRTC_PASSWORD",
        "ENABLED_TOOLS"]]
    assert names.index("DATABASE_URL") < names.index("WEBRTC_PASSWORD")  # required secret variables included
    # the script reads every example catalog by default: the same line for this one
    out = subprocess.run([sys.executable, str(EXAMPLES_PY)], capture_output=True, text=True, check=True).stdout
    assert "|".join(derived()[0]) in out.splitlines()
    # and what the build script runs is that script, for the example catalogs
    script = (ROOT / ".ci" / "build-images.sh").read_text()
    assert '"$1" "$STANDIN_DIR/examples.py"' in script and "examples=$(example_images \"$py\")" in script


def test_derivation_agrees_with_the_registry_the_catalog_makes() -> None:
    for generation in ("2025.09", "2026.06"):
        reg = effective_registry(catalog_data(), generation)
        img = reg.images["service/voice-agent"]
        ref, ports, required, json_vars = derived()[0]
        assert ref == img.image and ports == str(img.port)
        assert required.split() == [var.name for var in img.env if var.required]
        assert json_vars.split() == [var.name for var in img.env if var.format == "json"]
        assert readiness(img)[0].type == "health", "probes derived from the health check"
        tpl = reg.templates["voice-agent"]
        assert [i.key for i in tpl.images] == ["service/voice-agent"] and tpl.network.subnet is None


def _registry_answers() -> bool:
    try:
        with urllib.request.urlopen("http://%s/v2/" % REGISTRY, timeout=3) as resp:
            return resp.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def local_registry() -> str:
    assert _registry_answers(), "the local registry on %s is required (run .ci/build-images.sh)" % REGISTRY
    return REGISTRY + "/"


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=300)


def test_pushed_images_carry_the_catalog_settings(local_registry: str) -> None:
    _ref, ports, required, json_vars = derived()[0]
    for tag, version in (("1.0.0", None), ("v1.0.0", "1.0.0"), ("v1.1.0", "1.1.0")):
        ref = "%s%s:%s" % (local_registry, REPOSITORY, tag)
        docker("pull", "-q", ref)
        config = json.loads(docker("image", "inspect", "-f", "{{json .Config.Env}}", ref).stdout)
        env = dict(item.split("=", 1) for item in config)
        assert env["STANDIN_REQUIRED"] == required and env["STANDIN_JSON"] == json_vars, env
        assert env["STANDIN_DEFAULT_PORTS"] == ports and env.get("STANDIN_VERSION") == version, env


# --- the image's own guarantee ---------------------------------------------------------------------------------

def full_env() -> Dict[str, str]:
    return dict(ENV, **SECRETS)


@pytest.mark.parametrize("unset, given, line", [
    (["DEPARTMENT_ID"], {}, "[FATAL] Missing required environment variables: DEPARTMENT_ID"),
    (["WEBRTC_PASSWORD"], {"DEPARTMENT_NAME": ""},
     "[FATAL] Missing required environment variables: DEPARTMENT_NAME, WEBRTC_PASSWORD"),
    ([], {"ENABLED_TOOLS": "[transfer"}, "[FATAL] Invalid JSON in environment variable ENABLED_TOOLS"),
], ids=["department-id", "empty-and-secret", "json"])
def test_stand_in_refuses_to_start_with_a_missing_or_bad_variable(local_registry: str, unset: List[str],
                                                                  given: Dict[str, str], line: str) -> None:
    name = "%sva-fatal-%s" % (PREFIX, uuid.uuid4().hex[:8])
    env = {k: v for k, v in dict(full_env(), **given).items() if k not in unset}
    args = [item for key, value in env.items() for item in ("-e", "%s=%s" % (key, value))]
    try:
        docker("run", "-d", "--name", name, *args, "%s%s:1.0.0" % (local_registry, REPOSITORY))
        try:  # it exits at once (a stand-in that starts instead would run until stopped)
            code = subprocess.run(["docker", "wait", name], capture_output=True, text=True, check=True,
                                  timeout=20).stdout.strip()
        except subprocess.TimeoutExpired:
            raise AssertionError("the stand-in started instead of exiting (%s): %s"
                                 % (line, docker("logs", name).stderr)) from None
        logs = docker("logs", name)
        assert code == "1", (code, logs.stdout, logs.stderr)
        assert logs.stderr.splitlines() == [line] and logs.stdout == "", logs.stderr
        assert not any(secret in logs.stderr for secret in HIDDEN)
    finally:
        docker("rm", "-f", name, check=False)


# --- the role deploys the example catalog ----------------------------------------------------------------------

def play(collections_path: Path, variables: Dict[str, Any]) -> subprocess.CompletedProcess:
    variables = dict(variables, stack_provider_keys=KEYS, stack_secrets=SECRETS, stack_image_prefix=REGISTRY + "/",
                     stack_publish_address="127.0.0.1", ansible_python_interpreter=sys.executable,
                     ansible_connection="local")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(collections_path), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_LOCALHOST_WARNING="0")
    argv = [str(ANSIBLE_PLAYBOOK), "-i", "localhost,", str(PLAYBOOK), "-e", json.dumps(variables)]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=600)
    for secret in HIDDEN:
        assert secret not in proc.stdout + proc.stderr, "a secret or provider key leaked into the play output"
    return proc


def containers(project: str) -> List[Dict[str, Any]]:
    ids = docker("ps", "-aq", "--filter", "label=com.docker.compose.project=%s" % project).stdout.split()
    return list(json.loads(docker("inspect", *ids).stdout)) if ids else []


def down(project: str) -> None:
    for item in containers(project):
        docker("rm", "-f", item["Id"], check=False)
    nets = docker("network", "ls", "-q", "--filter", "label=com.docker.compose.project=%s" % project).stdout.split()
    for net in nets:
        docker("network", "rm", net, check=False)


def history(project_dir: Path) -> List[Dict[str, Any]]:
    path = project_dir / "releases" / "history.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def current(project_dir: Path) -> str:
    return (project_dir / "current").readlink().name


def deployment(tmp_path: Path, suffix: str, catalog: Path, port: int, **extra: Any) -> Dict[str, Any]:
    name = "%sva-%s-%s" % (PREFIX, suffix, uuid.uuid4().hex[:6])
    env = dict(ENV, **extra.pop("env", {}))
    return dict({"stack_catalog": str(catalog), "stack_template": "voice-agent", "stack_deployment": name,
                 "stack_service_prefix": name, "stack_project_dir": str(tmp_path / name),
                 "stack_ports": {"voice-agent": ["%d:8080" % port]}, "stack_env": {"voice-agent": env},
                 "stack_wait_timeout": 90,
                 # the gate's crash detection is proved in test_gate.py with the default window (12 s)
                 "stack_stability_window": 3}, **extra)


def health_status(item: Dict[str, Any]) -> str:
    return str(item["State"].get("Health", {}).get("Status"))


def test_role_deploys_the_voice_agent_from_the_example_catalog(collections_path: Path, local_registry: str,
                                                               tmp_path: Path) -> None:
    dep = deployment(tmp_path, "b", CATALOG, 28180)
    project, project_dir = dep["stack_deployment"], Path(dep["stack_project_dir"])
    try:
        proc = play(collections_path, dep)
        assert proc.returncode == 0, proc.stdout[-6000:]
        items = containers(project)
        assert len(items) == 1, items
        agent = items[0]
        name = agent["Name"].lstrip("/")
        assert name == "%s-voice-agent" % project
        assert agent["Config"]["Image"].startswith(local_registry + REPOSITORY + ":1.0.0")
        assert health_status(agent) == "healthy", agent["State"]
        assert agent["Config"]["Healthcheck"]["Test"] == ["CMD", "agent-healthcheck"]
        # the gate waited for Docker's verdict: a health probe, recorded with the release
        release = current(project_dir)
        statuses = [(r["release"], r["status"]) for r in history(project_dir)]
        assert statuses == [(release, "staged"), (release, "active")], statuses
        meta = json.loads((project_dir / "releases" / release / "release.json").read_text())
        assert meta["gate"][name]["probes"] == [{"type": "health", "port": None}], meta["gate"]
        # derived defaults, in the compose file and in the running container
        compose = yaml.safe_load((project_dir / "docker-compose.yml").read_text())
        assert list(compose["services"]) == [name], list(compose["services"])
        environment = compose["services"][name]["environment"]
        assert environment["DB_SCHEMA"] == "sales_tenant" and environment["AGENT_NAME"] == "Sales Voice Assistant"
        assert json.loads(environment["ENABLED_TOOLS"]) == ["transfer", "hangup"]
        running = dict(item.split("=", 1) for item in agent["Config"]["Env"])
        assert running["DB_SCHEMA"] == "sales_tenant" and running["DATABASE_URL"] == SECRETS["DATABASE_URL"]
        # the agent answers on its published port
        with urllib.request.urlopen("http://127.0.0.1:28180/health", timeout=3) as resp:
            assert json.loads(resp.read().decode())["image"] == "voiceops-examples/voice-agent:1.0.0"
        # no secret kept outside the compose file
        stored = (project_dir / "environment.json").read_text()
        for secret in HIDDEN:
            assert secret not in stored, "a secret value is in environment.json"
        assert "DATABASE_URL" not in json.loads(stored).get("services", {}).get("voice-agent", {})
    finally:
        down(project)


def test_gate_rolls_back_an_update_whose_health_check_fails(collections_path: Path, local_registry: str,
                                                            tmp_path: Path) -> None:
    data = catalog_data()
    data["images"][0]["env"].append({"name": "STANDIN_FAULTS", "description": "stand-in faults per version"})
    # the catalog's own health check (5 s interval, 10 s start period) is proved by the test above; this copy's
    # checks every second, so that Docker calls v1.1.0 unhealthy (and v1.0.0 healthy again) in seconds
    data["images"][0]["healthcheck"] = dict(data["images"][0]["healthcheck"], interval="1s", start_period="2s")
    catalog = tmp_path / "voice-agent-faults.yml"
    catalog.write_text(yaml.safe_dump(data, sort_keys=False))
    dep = deployment(tmp_path, "c", catalog, 28181, env={"STANDIN_FAULTS": "1.1.0=unhealthy"},
                     stack_tag_environment="prod", stack_health_timeout=60)
    project, project_dir = dep["stack_deployment"], Path(dep["stack_project_dir"])
    try:
        proc = play(collections_path, dict(dep, stack_tags={"voice-agent": "v1.0.0"}))
        assert proc.returncode == 0, proc.stdout[-6000:]
        good = current(project_dir)
        before = [(item["Id"], item["Config"]["Image"]) for item in containers(project)]
        assert len(before) == 1 and ":v1.0.0" in before[0][1], before

        start = time.monotonic()
        proc = play(collections_path, dict(dep, stack_tags={"voice-agent": "v1.1.0"}))
        took = time.monotonic() - start
        assert proc.returncode != 0, proc.stdout[-6000:]
        records = history(project_dir)[2:]
        failed = records[0]["release"]
        assert [(r["release"], r["status"]) for r in records] == [(failed, "staged"), (failed, "failed"),
                                                                  (good, "active")], records
        assert current(project_dir) == good and failed != good
        assert "voice-agent" in records[1]["reason"], records[1]
        assert "answers /health with 503 (STANDIN_FAULTS: unhealthy)" in proc.stdout, proc.stdout[-6000:]
        assert "Rolled back to release %s, which is active again." % good in proc.stdout, proc.stdout[-6000:]
        items = containers(project)
        assert len(items) == 1 and ":v1.0.0" in items[0]["Config"]["Image"], [i["Config"]["Image"] for i in items]
        deadline = time.monotonic() + 30
        while health_status(items[0]) != "healthy" and time.monotonic() < deadline:
            time.sleep(1)
            items = containers(project)
        assert health_status(items[0]) == "healthy", items[0]["State"]
        print("voice-agent gate: update to v1.1.0 with a failing health check, gate and rollback: %.1f s" % took)
    finally:
        down(project)
