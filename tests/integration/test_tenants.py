"""Many tenants on one host through the stack role (stack_tenants), on the host's real Docker engine with
stand-in images from the local registry.

Three tenants (two AVR tenants of different templates and generations, one single-image agent of the
example catalog) come up together: no shared port or subnet, each core reaches its own services, a
tenant's service names do not resolve from another tenant's containers, and the ports each Asterisk
publishes are the ones its configuration says. Adding a fourth tenant changes nothing for the first three
(same containers, same allocation, no release); a missing required variable of one tenant fails the run
before anything is written for any tenant; removing one tenant leaves the others running and unchanged.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Set, Tuple

from ansible_env import run_playbook

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "docs" / "examples" / "voice-agent.yml"
KEYS = {"openai": "sk-tenant-not-real-0001", "deepgram": "dg-tenant-not-real-0002",
        "ultravox": "ux-tenant-not-real-0003"}
SECRETS = ["postgres://agent:db-pass-sales-0004@db/agents", "webrtc-pass-0005",
           "postgres://agent:db-pass-care-0006@db/agents", "webrtc-pass-0007"]
# Blocks of their own (no other test publishes there), below the ephemeral range.
BLOCKS = {"sip": "23060-23079", "rtp": "23100-23399", "ami": "23400-23419", "ari": "23420-23439",
          "core": "23440-23459", "web": "23460-23479"}


def agent(name: str, department: str, database: str, webrtc: str) -> Dict[str, Any]:
    return {"name": name, "template": "voice-agent", "catalog": str(CATALOG),
            "env": {"voice-agent": {"DEPARTMENT_ID": department, "DEPARTMENT_NAME": department.title(),
                                    "WORKFLOW_WEBHOOK_BASE": "http://workflow.example/%s" % department,
                                    "WEBRTC_USERNAME": "agent-%s" % department}},
            "secrets": {"DATABASE_URL": database, "WEBRTC_PASSWORD": webrtc}}


TENANTS: List[Dict[str, Any]] = [
    {"name": "tn-blue", "template": "openai", "provider_keys": {"openai": KEYS["openai"],
                                                                "deepgram": KEYS["deepgram"]},
     "rtp_ports": 20},
    {"name": "tn-green", "template": "ultravox", "registry_version": "2025.09", "rtp_ports": 20,
     "provider_keys": {"ultravox": KEYS["ultravox"]},
     "env": {"avr-sts-ultravox": {"ULTRAVOX_AGENT_ID": "agent-green"}}},
    agent("tn-sales", "sales", SECRETS[0], SECRETS[1]),
]
FOURTH = agent("tn-care", "care", SECRETS[2], SECRETS[3])

PLAYBOOK = """---
- name: Tenants
  hosts: localhost
  gather_facts: false
  roles:
    - role: voiceops.avr.stack
"""


def run(tmp: Path, collections_path: Path, tenants: List[Dict[str, Any]]) -> subprocess.CompletedProcess:
    variables = {"stack_tenants": tenants, "stack_tenants_root": str(tmp / "tenants"),
                 "stack_tenants_ports": BLOCKS, "stack_tenants_subnet_pool": "10.213.0.0/20",
                 "stack_image_prefix": "localhost:5000/", "stack_publish_address": "127.0.0.1",
                 "stack_stability_window": 3, "stack_wait_timeout": 90,
                 "ansible_python_interpreter": sys.executable, "ansible_connection": "local"}
    proc = run_playbook(tmp, collections_path, PLAYBOOK, variables, timeout=1200)
    for secret in list(KEYS.values()) + SECRETS:
        assert secret not in proc.stdout + proc.stderr, "a secret leaked into the play output"
    return proc


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["docker"] + list(args), capture_output=True, text=True, check=check)


def containers(project: Path) -> Dict[str, Tuple[str, str]]:
    """Container name -> (id, state) of a tenant's compose project."""
    out = subprocess.run(["docker", "compose", "--project-directory", str(project), "ps", "--all", "--format",
                          "{{.Name}} {{.ID}} {{.State}}"], capture_output=True, text=True, check=True).stdout
    return {name: (cid, state) for name, cid, state in (line.split() for line in out.splitlines() if line.strip())}


def published(container: str) -> Set[Tuple[int, str]]:
    """(host port, protocol) of every port ``container`` publishes."""
    ports = json.loads(docker("inspect", "-f", "{{json .NetworkSettings.Ports}}", container).stdout) or {}
    found = set()
    for inner, binds in ports.items():
        for bind in binds or ():
            found.add((int(bind["HostPort"]), inner.split("/")[1]))
    return found


def history(project: Path) -> List[str]:
    return [json.loads(line)["status"] for line in (project / "releases" / "history.jsonl").read_text().splitlines()]


def down(root: Path) -> None:
    for tenant in TENANTS + [FOURTH]:
        project = root / tenant["name"]
        if (project / "docker-compose.yml").exists():
            subprocess.run(["docker", "compose", "--project-directory", str(project), "down", "-v",
                            "--remove-orphans"], capture_output=True, check=False)


def tree(root: Path) -> Dict[str, Tuple[int, int, float]]:
    """Every path under ``root`` with its size, mode and mtime."""
    return {str(p.relative_to(root)): (p.lstat().st_size, p.lstat().st_mode, p.lstat().st_mtime)
            for p in sorted(root.rglob("*"))}


def check_asterisk(project: Path, prefix: str) -> None:
    """The SIP port and RTP range Asterisk's configuration says are the ones its container publishes."""
    pjsip = (project / "asterisk" / "conf" / "pjsip.conf").read_text()
    rtp = (project / "asterisk" / "conf" / "rtp.conf").read_text()
    sip = int(re.search(r"^bind = 0\.0\.0\.0:(\d+)$", pjsip, re.M).group(1))
    assert "external_signaling_port = %d\n" % sip in pjsip
    start = int(re.search(r"^rtpstart = (\d+)$", rtp, re.M).group(1))
    end = int(re.search(r"^rtpend = (\d+)$", rtp, re.M).group(1))
    ports = published("%savr-asterisk" % prefix)
    assert (sip, "tcp") in ports, (sip, ports)
    assert {port for port, proto in ports if proto == "udp"} == set(range(start, end + 1)), (start, end, ports)
    assert end - start + 1 == 20


def test_tenants_on_one_host(tmp_path: Path, collections_path: Path) -> None:
    root = tmp_path / "tenants"
    try:
        proc = run(tmp_path, collections_path, TENANTS)
        assert proc.returncode == 0, proc.stdout[-10000:]
        allocation = json.loads((root / "tenants.json").read_text())["tenants"]
        assert sorted(allocation) == ["tn-blue", "tn-green", "tn-sales"]
        subnets = [entry["subnet"] for entry in allocation.values()]
        assert len(set(subnets)) == 3, subnets

        seen: Dict[Tuple[int, str], str] = {}
        ids = {}
        for tenant in TENANTS:
            name, project = tenant["name"], root / tenant["name"]
            states = containers(project)
            assert states and all(pair[1] == "running" for pair in states.values()), states
            assert all(c.startswith(name + "-") for c in states), states
            ids[name] = {c: pair[0] for c, pair in states.items()}
            compose = (project / "docker-compose.yml").read_text()
            assert "\nname: %s\n" % name in compose
            assert allocation[name]["subnet"] in compose
            # no host port is published by two tenants
            for container in states:
                for port in published(container):
                    assert port not in seen, "%s and %s both publish %s" % (seen[port], container, port)
                    seen[port] = container
            assert history(project) == ["staged", "active"]
        # the single-image agent: its derived defaults and its own port from the web block
        sales = (root / "tn-sales" / "docker-compose.yml").read_text()
        assert "DB_SCHEMA: sales_tenant" in sales and "AGENT_NAME: Sales Voice Assistant" in sales
        assert all(secret not in (root / "tn-sales" / "environment.json").read_text() for secret in SECRETS)
        assert {pair[0] for pair in published("tn-sales-voice-agent")} <= set(range(23460, 23480))

        # each core reaches its own services, and only names of its own tenant resolve
        for tenant, services in (("tn-blue", ("ASR_URL", "LLM_URL", "TTS_URL")), ("tn-green", ("STS_URL",))):
            status = json.loads(docker("exec", "%s-avr-core" % tenant, "python3", "-c",
                                       "import urllib.request; print(urllib.request.urlopen("
                                       "'http://127.0.0.1:5001/status', timeout=5).read().decode())").stdout)
            assert all(status["reached"].get(var) for var in services), status
            compose = (root / tenant / "docker-compose.yml").read_text()
            for var in services:
                assert re.search(r"%s: (?:http|ws)://%s-" % (var, tenant), compose), var
        resolve = "import socket, sys; socket.gethostbyname(sys.argv[1])"
        assert docker("exec", "tn-blue-avr-core", "python3", "-c", resolve, "tn-blue-avr-asterisk",
                      check=False).returncode == 0
        for other in ("tn-green-avr-core", "tn-green-avr-asterisk", "tn-sales-voice-agent"):
            assert docker("exec", "tn-blue-avr-core", "python3", "-c", resolve, other,
                          check=False).returncode != 0, "%s resolves from tenant tn-blue" % other
        check_asterisk(root / "tn-blue", "tn-blue-")
        check_asterisk(root / "tn-green", "tn-green-")

        # a fourth tenant: nothing changes for the first three
        before = json.loads((root / "tenants.json").read_text())["tenants"]
        fourth = run(tmp_path, collections_path, TENANTS + [FOURTH])
        assert fourth.returncode == 0, fourth.stdout[-10000:]
        after = json.loads((root / "tenants.json").read_text())["tenants"]
        assert {name: after[name] for name in before} == before
        assert "tn-care" in after and after["tn-care"]["subnet"] not in subnets
        for tenant in TENANTS:
            assert {c: pair[0] for c, pair in containers(root / tenant["name"]).items()} == ids[tenant["name"]]
            assert history(root / tenant["name"]) == ["staged", "active"]
        assert history(root / "tn-care") == ["staged", "active"]

        # a missing required variable of one new tenant: the run fails naming it, nothing is written anywhere
        broken = agent("tn-ops", "ops", "postgres://x:not-written-0008@db/a", "webrtc-not-written-0009")
        del broken["env"]["voice-agent"]["DEPARTMENT_ID"]
        changed_blue = dict(TENANTS[0], rtp_ports=21)
        snapshot = tree(root)
        failed = run(tmp_path, collections_path, [changed_blue] + TENANTS[1:] + [FOURTH, broken])
        assert failed.returncode != 0
        assert re.search(r"tenant tn-ops: .*DEPARTMENT_ID", failed.stdout), failed.stdout[-6000:]
        assert "no tenant was changed" in failed.stdout
        assert tree(root) == snapshot, "a file changed although one tenant's inputs were incomplete"
        assert not (root / "tn-ops").exists()

        # removing one tenant leaves the others running and unchanged
        removed = run(tmp_path, collections_path, TENANTS[:1] + [dict(TENANTS[1], state="absent")] + TENANTS[2:]
                      + [FOURTH])
        assert removed.returncode == 0, removed.stdout[-10000:]
        assert not containers(root / "tn-green")
        assert docker("network", "inspect", "tn-green-avr", check=False).returncode != 0
        for tenant in (TENANTS[0], TENANTS[2]):
            assert {c: pair[0] for c, pair in containers(root / tenant["name"]).items()} == ids[tenant["name"]]
        # its allocation stays reserved until it is freed
        assert "tn-green" in json.loads((root / "tenants.json").read_text())["tenants"]
    finally:
        down(root)


def _faulty_core_catalog() -> Dict[str, Any]:
    """Generation 2025.09's core with the stand-in's STANDIN_FAULTS in its schema (tests/standin/README.md)."""
    from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import builtin, image_data

    core = image_data(builtin("2025.09").images["core/avr-core"])
    del core["key"]
    core["env"].append({"name": "STANDIN_FAULTS", "description": "stand-in faults per version"})
    return {"images": [core]}


def test_a_tenant_failing_its_gate_is_rolled_back_alone(tmp_path: Path, collections_path: Path) -> None:
    root = tmp_path / "tenants"
    catalog = _faulty_core_catalog()

    def tenants(tag: str, faults: str) -> List[Dict[str, Any]]:
        base = {"template": "ultravox", "registry_version": "2025.09", "rtp_ports": 4, "tag": tag,
                "catalog": catalog, "provider_keys": {"ultravox": KEYS["ultravox"]}}
        return [dict(base, name="tn-bad", env={"avr-sts-ultravox": {"ULTRAVOX_AGENT_ID": "a"},
                                               "avr-core": {"STANDIN_FAULTS": faults}}),
                dict(base, name="tn-good", env={"avr-sts-ultravox": {"ULTRAVOX_AGENT_ID": "b"}})]

    try:
        first = run(tmp_path, collections_path, tenants("v1.0.0", ""))
        assert first.returncode == 0, first.stdout[-10000:]
        good_before = containers(root / "tn-good")
        # v1.1.0 everywhere; tn-bad's core exits at once in v1.1.0
        update = run(tmp_path, collections_path, tenants("v1.1.0", "1.1.0=exit"))
        assert update.returncode != 0
        assert re.search(r"1 of 2 tenants failed: tenant tn-bad: deployment tn-bad: release \S+ failed the health "
                         r"gate: .*Rolled back to release", update.stdout), update.stdout[-8000:]
        assert "tenant tn-good:" not in update.stdout.split("tenants failed:", 1)[1]
        # tn-bad is back on its first release, running v1.0.0
        assert history(root / "tn-bad")[:4] == ["staged", "active", "staged", "failed"], history(root / "tn-bad")
        assert (root / "tn-bad" / "current").readlink().name == json.loads(
            (root / "tn-bad" / "releases" / "history.jsonl").read_text().splitlines()[1])["release"]
        assert ":v1.0.0" in (root / "tn-bad" / "docker-compose.yml").read_text()
        assert all(pair[1] == "running" for pair in containers(root / "tn-bad").values())
        # tn-good went on to v1.1.0 after tn-bad failed, through its own gate
        assert history(root / "tn-good") == ["staged", "active", "staged", "active"]
        assert ":v1.1.0" in (root / "tn-good" / "docker-compose.yml").read_text()
        assert containers(root / "tn-good") != good_before
    finally:
        for name in ("tn-bad", "tn-good"):
            if (root / name / "docker-compose.yml").exists():
                subprocess.run(["docker", "compose", "--project-directory", str(root / name), "down", "-v",
                                "--remove-orphans"], capture_output=True, check=False)
