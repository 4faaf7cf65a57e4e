"""The fleet harness with the stack role: three target containers, one ansible-playbook run.

Each target reaches the host's Docker engine through its socket and deploys its own ultravox
deployment (own compose project, prefix, subnet and ports) with images from localhost:5000.
The re-run changes nothing on any host; the fleet fixture takes everything down.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.request

from fleet import FLEET_KEYS, REGISTRY, fleet, recap, running_images  # noqa: F401 (a fixture)

PLAY = """\
---
- name: AVR on the fleet
  hosts: avr
  gather_facts: false
  roles:
    - role: voiceops.avr.stack
"""
SERVICES = {"avr-core", "avr-asterisk", "avr-ami", "avr-sts-ultravox"}


def _untagged(image: str) -> str:
    path, _sep, last = image.rpartition("/")
    return path + "/" + last.partition(":")[0]


def _no_key_leaked(proc) -> None:
    for key in FLEET_KEYS.values():
        assert key not in proc.stdout + proc.stderr, "a provider key leaked into the play output"


def test_the_role_deploys_to_every_fleet_host_and_reruns_unchanged(fleet):  # noqa: F811 (the fixture)
    playbook = fleet.write_playbook(PLAY)
    started = time.monotonic()
    first = fleet.run_playbook(playbook, {"stack_state": "present", "stack_run": True})
    first_s = time.monotonic() - started
    _no_key_leaked(first)
    assert first.returncode == 0, first.stdout[-8000:] + first.stderr[-2000:]
    counts = recap(first.stdout)
    assert sorted(counts) == sorted(fleet.hosts), counts
    assert all(c["failed"] == 0 and c["unreachable"] == 0 and c["changed"] > 0 for c in counts.values()), counts

    for name, host in fleet.hosts.items():
        prefix = host.vars["stack_service_prefix"] + "-"
        images = running_images(host.deployment)
        assert set(images) == {prefix + service for service in SERVICES}, (name, images)
        for deployed, item in images.items():
            service = deployed[len(prefix):]
            assert item["state"] == "running", (name, deployed, item)
            assert item["name"] == deployed
            assert _untagged(item["image"]) == "%s/agentvoiceresponse/%s" % (REGISTRY, service), (name, item)
            assert item["repo_digests"], (name, deployed, item)
        # the project directory is shared with the controller at the same path
        compose = fleet.read_host_file(name, "docker-compose.yml")
        assert host.vars["stack_subnet"] in compose
        with urllib.request.urlopen("http://127.0.0.1:%d/status" % host.core_port, timeout=5) as resp:
            status = json.loads(resp.read().decode())
        assert "STS_URL" in status["env_names"], status

    # every published port is on 127.0.0.1 and answers there (tcp)
    for host in fleet.hosts.values():
        for spec in host.vars["stack_ports"]["avr-core"] + host.vars["stack_ports"]["avr-ami"]:
            with socket.create_connection(("127.0.0.1", int(spec.split(":")[0])), timeout=3):
                pass

    started = time.monotonic()
    again = fleet.run_playbook(playbook, {"stack_state": "present", "stack_run": True})
    again_s = time.monotonic() - started
    assert again.returncode == 0, again.stdout[-8000:]
    counts = recap(again.stdout)
    assert sorted(counts) == sorted(fleet.hosts), counts
    assert {name: c["changed"] for name, c in counts.items()} == {name: 0 for name in fleet.hosts}, \
        again.stdout[-8000:]
    print("fleet of %d: first run %.1fs, re-run %.1fs" % (len(fleet.hosts), first_s, again_s))
