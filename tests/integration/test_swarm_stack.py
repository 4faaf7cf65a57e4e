"""engine swarm on a real Docker engine: the stack files of every template pass ``docker stack config`` (the
legacy v3 schema; no swarm needed for it), and voice_compose engine=swarm through ansible-playbook deploys on a
single-node swarm (``docker swarm init --advertise-addr 127.0.0.1``) from the stand-in images of the local
registry: the services converge, secrets are files in the containers and in no stack file (nor in the
services' specs), SIP/RTP of Asterisk publish in host mode, a rotated key is a new secret name the service
rolls to, and ``docker stack rm`` removes services,
secrets, configs and the network. One deploy, every assertion on it. Without Docker: check and diff mode, a
re-run that changes nothing, and bad input refused in one line with every file left as it was.

Every Docker object is named ``hs-...``; the swarm stays initialised (other tests share the engine).
"""

from __future__ import annotations

import dataclasses
import json
import stat
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml

from ansible_collections.voiceops.avr.plugins.module_utils.registry.catalog import effective_registry
from ansible_collections.voiceops.avr.plugins.module_utils.registry.generations import generations
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import builtin
from ansible_collections.voiceops.avr.plugins.plugin_utils.emitters import swarm
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import resolve

from ansible_env import run_playbook

import sys
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "plugins" / "plugin_utils"))
from test_golden import inputs as golden_inputs  # noqa: E402  (the golden files' inputs: every key)

REGISTRY = "localhost:5000"
STACK = "hs-swarm"
MARKERS = {"openai": "hs-marker-openai-7f3a61", "deepgram": "hs-marker-deepgram-9c1e22"}
ROTATED = "hs-marker-openai-rotated"
AMI_MARKER = "hs-marker-ami-5d0b44"


def docker(*args: str, check: bool = True, cwd: Any = None, timeout: int = 300) -> "subprocess.CompletedProcess[str]":
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, check=False, cwd=cwd, timeout=timeout)
    if check:
        assert proc.returncode == 0, "docker %s: %s" % (" ".join(args), proc.stderr)
    return proc


def stack_config(path: Path) -> "subprocess.CompletedProcess[str]":
    return docker("stack", "config", "-c", str(path), check=False)


def test_every_template_passes_docker_stack_config(tmp_path: Path) -> None:
    files: List[Path] = []
    for version in generations():
        registry = builtin(version)
        for tid in sorted(registry.templates):
            tpl = registry.template(tid)
            for variant in ("bare", "full"):
                given = golden_inputs(registry, tpl, variant)
                given = dataclasses.replace(given, publish_address=None, management_address=None)
                configs = {"asterisk/conf/manager.conf": "secret = x\n", "asterisk/conf/pjsip.conf": "[t]\n"}
                text = swarm.emit(resolve(registry, tpl, given), configs, version_key=b"k" * 32,
                                  placement="node-1" if variant == "full" else None).content
                path = tmp_path / ("%s-%s-%s.yml" % (version, tid, variant))
                path.write_text(text)
                files.append(path)
    # with every optional part: resources (limits and reservations), a variable read from a file, a placement
    limited = effective_registry({"images": [{
        "role": "llm", "name": "avr-llm-openai", "image": "example/llm", "port": 6002,
        "resources": {"cpus": "0.5", "memory": "512M", "reserve_cpus": "0.25", "reserve_memory": "128M"},
        "env": [{"name": "OPENAI_API_KEY", "secret": True, "provider": "openai", "required": True,
                 "file_env": "OPENAI_API_KEY_FILE"}]}]}, "2026.06")
    tpl = limited.template("openai")
    given = dataclasses.replace(golden_inputs(limited, tpl, "full"), publish_address=None, management_address=None)
    text = swarm.emit(resolve(limited, tpl, given), version_key=b"k" * 32, placement="node-1",
                      file_env={"avr-llm-openai": {"OPENAI_API_KEY": "OPENAI_API_KEY_FILE"}}).content
    assert "reservations:" in text and "OPENAI_API_KEY_FILE: /run/secrets/OPENAI_API_KEY" in text
    files.append(tmp_path / "resources.yml")
    files[-1].write_text(text)
    for path in files:
        proc = stack_config(path)
        assert proc.returncode == 0, "%s: %s" % (path.name, proc.stderr)
    # the check can fail: what Swarm's schema refuses is refused (a top-level name, a compose-only key)
    doc = yaml.safe_load(files[0].read_text())
    for bad in (dict(doc, name="hs-bad"),
                dict(doc, services={k: dict(v, platform="linux/x86_64") for k, v in doc["services"].items()})):
        path = tmp_path / "bad.yml"
        path.write_text(yaml.safe_dump(bad))
        proc = stack_config(path)
        assert proc.returncode != 0 and "Additional property" in proc.stderr, proc.stderr
    # container_name is in the v3 schema (Swarm ignores it): the unit tests assert it is never written
    named = {k: dict(v, container_name="x") for k, v in doc["services"].items()}
    path.write_text(yaml.safe_dump(dict(doc, services=named)))
    assert stack_config(path).returncode == 0


PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Render the stack file
      voiceops.avr.voice_compose:
        engine: swarm
        registry_version: "2025.09"
        template: openai
        catalog:  # the LLM image reads its key from a file too (file_env)
          images:
            - role: llm
              name: avr-llm-openai
              image: agentvoiceresponse/avr-llm-openai
              port: 6002
              env:
                - {name: PORT, default: "6002"}
                - {name: OPENAI_API_KEY, secret: true, provider: openai, required: true,
                   file_env: OPENAI_API_KEY_FILE}
        deployment: {{ stack }}
        project_dir: {{ project }}
        image_prefix: {{ registry }}/
        subnet: 10.231.7.0/24
        mount_folders: true
        kept_secrets: [AMI_PASSWORD]
        secrets: {AMI_PASSWORD: {{ ami }}}
        provider_keys: {{ keys }}
        config_files:
          asterisk/conf/manager.conf: {{ templates }}/manager.conf.j2
          asterisk/conf/pjsip.conf: {{ templates }}/pjsip.conf.j2
        ports:
          avr-core: []
          avr-ami: []
          avr-asterisk: ["27060:5060", "27000-27001:10000-10001/udp"]
      register: rendered
    - name: Show the result
      ansible.builtin.copy:
        content: "{{ rendered | to_json }}"
        dest: {{ project }}/../result.json
        mode: "0600"
"""


def _registry_answers() -> bool:
    try:
        with urllib.request.urlopen("http://%s/v2/" % REGISTRY, timeout=3):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def single_node_swarm() -> None:
    assert _registry_answers(), "the local registry on %s is required (run .ci/build-images.sh)" % REGISTRY
    state = docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip()
    if state != "active":
        docker("swarm", "init", "--advertise-addr", "127.0.0.1")


def _converged(stack: str) -> bool:
    rows = docker("stack", "services", stack, "--format", "{{.Replicas}}").stdout.split()
    return bool(rows) and all(row.split("/")[0] == row.split("/")[1].split(" ")[0] for row in rows)


def _container(service: str) -> str:
    found = docker("ps", "-q", "--filter", "label=com.docker.swarm.service.name=%s" % service).stdout.split()
    assert len(found) == 1, (service, found)
    return found[0]


def _left(stack: str) -> Dict[str, List[str]]:
    label = "label=com.docker.stack.namespace=%s" % stack
    return {kind: docker(kind, "ls", "-q", "--filter", label).stdout.split()
            for kind in ("service", "secret", "config", "network")}


def test_a_stack_deploys_on_a_single_node_swarm(single_node_swarm: None, collections_path: Path,
                                                tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "manager.conf.j2").write_text("[general]\nenabled = yes\n[avr]\n"
                                               "secret = {{ voice_secrets.AMI_PASSWORD }}\n")
    (templates / "pjsip.conf.j2").write_text("[transport-udp]\ntype = transport\nprotocol = udp\n")
    project = tmp_path / "project"
    variables = {"stack": STACK, "project": str(project), "registry": REGISTRY, "templates": str(templates),
                 "ami": AMI_MARKER, "keys": json.dumps(MARKERS)}
    play = PLAY
    for name, value in variables.items():
        play = play.replace("{{ %s }}" % name, value)
    run = run_playbook(tmp_path, collections_path, play, {"ansible_python_interpreter": sys.executable})
    assert run.returncode == 0, run.stdout + run.stderr
    for text in (run.stdout, run.stderr):
        assert not any(marker in text for marker in list(MARKERS.values()) + [AMI_MARKER])
    result = json.loads((tmp_path / "result.json").read_text())
    stack_file = project / "docker-stack.yml"
    assert result["changed"] and result["dest"] == str(stack_file)
    assert stat.S_IMODE(stack_file.stat().st_mode) == 0o644, "a stack file holds no secret"
    assert not (project / "docker-compose.yml").exists()
    created = result["swarm"]
    assert created["services"] == list(yaml.safe_load(stack_file.read_text())["services"])
    assert any(name.startswith(STACK + "_openai_api_key_") for name in created["secrets"])
    assert any("manager_conf" in name for name in created["secrets"]), "manager.conf holds the AMI password"
    assert any("pjsip_conf" in name for name in created["configs"])
    assert "avr-llm-openai" not in created["file_only"] and created["file_only"]["avr-tts-deepgram"] == [
        "DEEPGRAM_API_KEY"], "an image that reads no file gets its secret as a file only (the documented limit)"
    for path in sorted((project / "swarm").rglob("*")):
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for path in [stack_file] + sorted(project.rglob("*.yml")):
        assert not any(marker in path.read_text() for marker in list(MARKERS.values()) + [AMI_MARKER]), path

    try:
        deploy = docker("stack", "deploy", "--detach=true", "-c", str(stack_file), STACK, cwd=str(project))
        assert "Ignoring unsupported options" not in deploy.stderr + deploy.stdout, deploy.stderr
        deadline = time.monotonic() + 180
        while not _converged(STACK):
            assert time.monotonic() < deadline, docker("stack", "ps", STACK, "--no-trunc").stdout
            time.sleep(2)
        llm = _container("%s_avr-llm-openai" % STACK)
        assert docker("exec", llm, "cat", "/run/secrets/OPENAI_API_KEY").stdout == MARKERS["openai"]
        assert docker("exec", llm, "printenv", "OPENAI_API_KEY_FILE").stdout == "/run/secrets/OPENAI_API_KEY\n"
        assert docker("exec", llm, "printenv", "OPENAI_API_KEY", check=False).returncode == 1, "never inline"
        tts = _container("%s_avr-tts-deepgram" % STACK)
        assert docker("exec", tts, "cat", "/run/secrets/DEEPGRAM_API_KEY").stdout == MARKERS["deepgram"]
        asterisk = _container("%s_avr-asterisk" % STACK)
        assert AMI_MARKER in docker("exec", asterisk, "cat", "/etc/asterisk/my_manager.conf").stdout
        assert "transport-udp" in docker("exec", asterisk, "cat", "/etc/asterisk/my_pjsip.conf").stdout
        for service in created["services"]:
            spec = docker("service", "inspect", "%s_%s" % (STACK, service)).stdout
            assert not any(marker in spec for marker in list(MARKERS.values()) + [AMI_MARKER]), service
        ports = json.loads(docker("service", "inspect", "--format", "{{json .Spec.EndpointSpec.Ports}}",
                                  "%s_avr-asterisk" % STACK).stdout)
        assert sorted((p["PublishedPort"], p["Protocol"], p["PublishMode"]) for p in ports) == [
            (27000, "udp", "host"), (27001, "udp", "host"), (27060, "tcp", "host")]

        # a rotated key is a new secret name: the same stack deploys again and the service rolls to it (Swarm
        # refuses to change an existing secret, so a name that stayed would fail here)
        rotated = play.replace(MARKERS["openai"], ROTATED)
        again = run_playbook(tmp_path, collections_path, rotated, {"ansible_python_interpreter": sys.executable})
        assert again.returncode == 0, again.stdout + again.stderr
        now = json.loads((tmp_path / "result.json").read_text())["swarm"]
        assert ROTATED not in stack_file.read_text() and ROTATED not in again.stdout + again.stderr
        assert set(now["secrets"]) ^ set(created["secrets"]) and all(
            "openai_api_key" in name for name in set(now["secrets"]) ^ set(created["secrets"]))
        docker("stack", "deploy", "--detach=true", "-c", str(stack_file), STACK, cwd=str(project))
        deadline = time.monotonic() + 120
        while True:
            found = docker("ps", "-q", "--filter", "label=com.docker.swarm.service.name=%s_avr-llm-openai" % STACK,
                           "--filter", "status=running").stdout.split()
            read = [docker("exec", cid, "cat", "/run/secrets/OPENAI_API_KEY", check=False).stdout for cid in found]
            if read == [ROTATED]:
                break
            assert time.monotonic() < deadline, read
            time.sleep(1)
        assert _converged(STACK)
    finally:
        docker("stack", "rm", STACK, check=False)
    deadline = time.monotonic() + 120
    while any(_left(STACK).values()):
        assert time.monotonic() < deadline, _left(STACK)
        time.sleep(2)


def _snapshot(root: Path) -> Dict[str, Any]:
    """Every path under ``root`` with its bytes, mode and mtime."""
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None, p.stat().st_mode, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*"))}


def test_check_diff_and_bad_input_with_engine_swarm(collections_path: Path, tmp_path: Path) -> None:
    """No Docker: --check --diff writes nothing and shows no secret; bad input fails in one line and leaves
    every file as it was."""
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "manager.conf.j2").write_text("[avr]\nsecret = {{ voice_secrets.AMI_PASSWORD }}\n")
    (templates / "pjsip.conf.j2").write_text("[transport-udp]\n")
    project = tmp_path / "project"
    variables = {"stack": "hs-files", "project": str(project), "registry": REGISTRY, "templates": str(templates),
                 "ami": AMI_MARKER, "keys": json.dumps(MARKERS)}
    play = PLAY
    for name, value in variables.items():
        play = play.replace("{{ %s }}" % name, value)
    python = {"ansible_python_interpreter": sys.executable}
    markers = list(MARKERS.values()) + [AMI_MARKER]

    check = run_playbook(tmp_path, collections_path, play, python, "--check", "--diff")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "docker-stack.yml" in check.stdout and "version: \"3.8\"" in check.stdout
    assert not any(marker in check.stdout + check.stderr for marker in markers)
    assert not project.exists(), "check mode writes nothing"

    run = run_playbook(tmp_path, collections_path, play, python)
    assert run.returncode == 0, run.stdout + run.stderr
    assert json.loads((tmp_path / "result.json").read_text())["changed"] is True
    again = run_playbook(tmp_path, collections_path, play, python)
    assert again.returncode == 0, again.stdout + again.stderr
    assert json.loads((tmp_path / "result.json").read_text())["changed"] is False, "a re-run changes nothing"
    before = _snapshot(project)
    assert "swarm/version.key" in before and stat.S_IMODE(before["swarm/version.key"][1]) == 0o600

    bad = run_playbook(tmp_path, collections_path, play.replace("        subnet: 10.231.7.0/24\n",
                                                                "        subnet: 10.231.7.0/24\n"
                                                                "        publish_address: 127.0.0.1\n"), python)
    assert bad.returncode != 0
    line = next(text for text in bad.stdout.splitlines() if "fatal:" in text)
    assert "Swarm publishes a port on every address of a node" in line and "'127.0.0.1'" in line, line
    assert not any(marker in bad.stdout + bad.stderr for marker in markers)
    assert _snapshot(project) == before, "a refused render changes no file"

    key = project / "swarm" / "version.key"
    key.write_text("not a key\n")
    before = _snapshot(project)
    bad = run_playbook(tmp_path, collections_path, play, python)
    assert bad.returncode != 0 and "swarm/version.key: not a key of secret versions" in bad.stdout, bad.stdout
    assert "not a key\n" not in bad.stdout
    assert _snapshot(project) == before
