"""The stack role on the host's real Docker engine, with stand-in images from the local registry.

A modular (openai) and a speech-to-speech (ultravox) deployment are brought up side by side,
their images pulled from localhost:5000 through the role's image prefix. The stand-in core
connects to every URL in its environment and reports which it reached. Then: the re-run
changes nothing, published ports answer on 127.0.0.1 only, `state: absent` removes the
containers and the network, a taken port fails preflight before anything starts, and a
service that never becomes healthy fails the play with its name and its last log lines.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, List

import pytest

from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import builtin, image_data

PLAYBOOK = Path(__file__).resolve().parent / "playbooks" / "stack.yml"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
REGISTRY = "localhost:5000"
KEYS = {"openai": "sk-test-not-real-up-0001", "deepgram": "dg-test-not-real-up-0002",
        "ultravox": "ux-test-not-real-up-0003"}

MODULAR = {
    "stack_template": "openai", "stack_deployment": "itest-modular", "stack_service_prefix": "itm",
    "stack_subnet": "172.31.101.0/24", "stack_publish_address": "127.0.0.1",
    "stack_ports": {"avr-core": ["25001:5001"], "avr-asterisk": ["25060:5060", "25038:5038"],
                    "avr-ami": ["26006:6006"], "avr-phone": ["25080:80"]},
}
STS = {
    "stack_kind": "sts", "stack_providers": {"sts": "ultravox"}, "stack_deployment": "itest-sts",
    "stack_service_prefix": "its", "stack_subnet": "172.31.102.0/24", "stack_publish_address": "127.0.0.1",
    "stack_ports": {"avr-core": ["25101:5001"], "avr-asterisk": ["25160:5060"], "avr-ami": []},
    "stack_env": {"avr-sts-ultravox": {"ULTRAVOX_AGENT_ID": "agent-itest"}},
}


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


def play(collections_path: Path, tmp: Path, deployment: Dict[str, Any], check: bool = False,
         playbook: Path = PLAYBOOK, **extra: Any) -> subprocess.CompletedProcess:
    variables = dict(deployment, stack_provider_keys=KEYS, stack_image_prefix=REGISTRY + "/",
                     stack_project_dir=str(tmp / deployment["stack_deployment"]), stack_wait_timeout=90,
                     # the gate's crash detection is proved in test_gate.py with the default window (12 s)
                     stack_stability_window=3,
                     ansible_python_interpreter=sys.executable, ansible_connection="local")
    variables.update(extra)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(collections_path), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_LOCALHOST_WARNING="0")
    argv = [str(ANSIBLE_PLAYBOOK), "-i", "localhost,", str(playbook), "-e", json.dumps(variables)]
    proc = subprocess.run(argv + (["--check"] if check else []), capture_output=True, text=True, env=env,
                          check=False, timeout=600)
    for key in KEYS.values():
        assert key not in proc.stdout + proc.stderr, "a provider key leaked into the play output"
    return proc


def recap(proc: subprocess.CompletedProcess) -> Dict[str, int]:
    for line in proc.stdout.splitlines():
        if line.startswith("localhost") and "changed=" in line:
            return {k: int(v) for k, v in (part.split("=") for part in line.split()[2:])}
    raise AssertionError("no play recap:\n" + proc.stdout[-4000:])


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout


def project_containers(project: str) -> List[Dict[str, Any]]:
    ids = docker("ps", "-aq", "--filter", "label=com.docker.compose.project=%s" % project).split()
    return json.loads(docker("inspect", *ids)) if ids else []


def project_networks(project: str) -> List[str]:
    return docker("network", "ls", "-q", "--filter", "label=com.docker.compose.project=%s" % project).split()


def get_json(url: str) -> Dict[str, Any]:
    with urllib.request.urlopen(url, timeout=3) as resp:
        return dict(json.loads(resp.read().decode()))


def wait_reached(url: str, names: List[str], seconds: int = 60) -> Dict[str, Any]:
    deadline = time.time() + seconds
    status: Dict[str, Any] = {}
    while time.time() < deadline:
        try:
            status = get_json(url)
            if all(status.get("reached", {}).get(name) for name in names):
                return status
        except OSError:
            pass
        time.sleep(1)
    raise AssertionError("core did not reach %s within %ds: %s" % (names, seconds, status))


def down(project: str) -> None:
    for item in project_containers(project):
        subprocess.run(["docker", "rm", "-f", item["Id"]], capture_output=True, check=False)
    for net in project_networks(project):
        subprocess.run(["docker", "network", "rm", net], capture_output=True, check=False)


def test_modular_and_sts_deployments_come_up_and_go_away(collections_path, local_registry, tmp_path):
    try:
        first = play(collections_path, tmp_path, MODULAR)
        assert first.returncode == 0, first.stdout[-6000:]
        second = play(collections_path, tmp_path, STS)
        assert second.returncode == 0, second.stdout[-6000:]

        # the newest generation: the openai template has the browser phone; a provider selection has the
        # base services and its slot image only
        for deployment, services in ((MODULAR, 7), (STS, 4)):
            containers = project_containers(deployment["stack_deployment"])
            assert len(containers) == services
            for item in containers:
                assert item["State"]["Running"], "%s is %s" % (item["Name"], item["State"]["Status"])
                assert item["Name"].lstrip("/").startswith(deployment["stack_service_prefix"] + "-")
                assert item["Config"]["Image"].startswith(local_registry)
                for binds in (item["HostConfig"]["PortBindings"] or {}).values():
                    assert all(b["HostIp"] == "127.0.0.1" for b in binds), binds

        # A third deployment reusing the modular one's container names and subnet fails preflight,
        # naming both problems, and starts nothing.
        clash = dict(STS, stack_deployment="itest-clash", stack_service_prefix="itm",
                     stack_subnet=MODULAR["stack_subnet"],
                     stack_ports={"avr-core": ["25201:5001"], "avr-asterisk": [], "avr-ami": []})
        refused = play(collections_path, tmp_path, clash)
        assert refused.returncode != 0
        assert "container name itm-avr-core is taken by deployment 'itest-modular'" in refused.stdout, \
            refused.stdout[-4000:]
        assert "subnet 172.31.101.0/24 of network itm-avr overlaps" in refused.stdout, refused.stdout[-4000:]
        assert project_containers("itest-clash") == []

        modular = wait_reached("http://127.0.0.1:25001/status", ["ASR_URL", "LLM_URL", "TTS_URL"])
        assert "STS_URL" not in modular["env_names"]
        sts = wait_reached("http://127.0.0.1:25101/status", ["STS_URL"])
        assert not {"ASR_URL", "LLM_URL", "TTS_URL"} & set(sts["env_names"])
        for port in (25001, 25038, 25060, 26006, 25080, 25101, 25160):
            with socket.create_connection(("127.0.0.1", port), timeout=3):
                pass

        again = play(collections_path, tmp_path, MODULAR)
        assert again.returncode == 0, again.stdout[-6000:]
        assert recap(again)["changed"] == 0, again.stdout[-6000:]
        again = play(collections_path, tmp_path, STS)
        assert recap(again)["changed"] == 0, again.stdout[-6000:]

        # An Asterisk setting change restarts exactly the service that mounts the file.
        before = {c["Name"]: c["State"]["StartedAt"] for c in project_containers("itest-modular")}
        changed = play(collections_path, tmp_path, MODULAR, stack_sip_external_address="127.0.0.2")
        assert changed.returncode == 0, changed.stdout[-6000:]
        after = {c["Name"]: c["State"]["StartedAt"] for c in project_containers("itest-modular")}
        restarted = sorted(name for name in after if after[name] != before.get(name))
        assert restarted == ["/itm-avr-asterisk"], restarted

        for deployment in (MODULAR, STS):
            gone = play(collections_path, tmp_path, deployment, stack_state="absent")
            assert gone.returncode == 0, gone.stdout[-6000:]
            assert project_containers(deployment["stack_deployment"]) == []
            assert project_networks(deployment["stack_deployment"]) == []
    finally:
        down("itest-modular")
        down("itest-sts")
        down("itest-clash")


def test_taken_port_fails_preflight_before_anything_starts(collections_path, local_registry, tmp_path):
    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(("127.0.0.1", 25001))
    blocker.listen(1)
    try:
        proc = play(collections_path, tmp_path, MODULAR)
        assert proc.returncode != 0
        expected = "port 25001/tcp on 127.0.0.1 (service itm-avr-core) is already in use"
        assert expected in proc.stdout, proc.stdout[-4000:]
        assert project_containers("itest-modular") == []
        assert not (tmp_path / "itest-modular").exists()
    finally:
        blocker.close()
        down("itest-modular")


def test_unhealthy_service_fails_with_its_name_and_logs(collections_path, local_registry, tmp_path):
    core = image_data(builtin().images["core/avr-core"])
    del core["key"]
    core["healthcheck"] = {"test": ["CMD", "false"], "interval": "1s", "timeout": "2s", "retries": 1}
    catalog = {"images": [core]}
    try:
        proc = play(collections_path, tmp_path, STS, stack_catalog=catalog, stack_wait_timeout=20)
        assert proc.returncode != 0
        assert "its-avr-core" in proc.stdout and "Last log lines" in proc.stdout, proc.stdout[-4000:]
        assert "standin" in proc.stdout.lower(), "the failing service's log lines are shown"
    finally:
        down("itest-sts")


def test_preflight_names_a_missing_engine(collections_path, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(collections_path), ANSIBLE_NOCOLOR="1")
    fake = tmp_path / "docker"
    fake.write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n")
    fake.chmod(0o755)
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible"), "localhost", "-i", "localhost,",
                           "-c", "local", "-e", "ansible_python_interpreter=%s" % sys.executable,
                           "-m", "voiceops.avr.preflight", "-a", json.dumps({"project": "x", "docker": str(fake)})],
                          capture_output=True, text=True, env=env, check=False)
    assert proc.returncode != 0
    assert "Docker engine not reachable" in proc.stdout and "Cannot connect to the Docker daemon" in proc.stdout
