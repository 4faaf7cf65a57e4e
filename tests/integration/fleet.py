"""A fleet of AVR hosts for integration tests: target containers that drive the host's Docker engine.

Each target is a long-running container from ``localhost/voiceops-target:bookworm-docker`` (python3,
the docker CLI and the Compose v2 plugin) reached with the ``community.docker.docker`` connection:

- ``--network host``: the preflight's port checks inside the target see the host's ports, and the
  published ports answer on the host's 127.0.0.1;
- ``/var/run/docker.sock`` mounted: ``docker compose`` in the target runs on the host's engine;
- a work directory per host, under pytest's tmp path, mounted at the same path: the engine resolves a
  compose file's relative bind mounts on the host, so a project directory must have one path on both
  sides (it also lets the test read a host's files directly, see `read_host_file`).

All targets share one engine, so each host's deployment gets its own compose project, service prefix,
subnet and published ports (`host_vars`). A test module uses the module-scoped fixture by importing it::

    from fleet import fleet, recap, running_images   # noqa: F401 (fleet is a fixture)

    FLEET_SIZE = 3          # optional, in the test module (default 3)
    FLEET_VARS = {...}      # optional, the group vars of `avr` (default DEPLOY_VARS)

    def test_something(fleet):
        proc = fleet.run_playbook(playbook, {"stack_state": "present"}, limit="fleet1")
        assert recap(proc.stdout)["fleet1"]["failed"] == 0

Under pytest-xdist each worker takes its own hosts numbers (subnets and ports), so two fleets on two
workers do not collide; within a worker, module scope means one fleet at a time.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Union

import pytest
import yaml

TARGET_IMAGE = "localhost/voiceops-target:bookworm-docker"
REGISTRY = "localhost:5000"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
LABEL = "org.voiceops.fleet"
RUN_LABEL = "org.voiceops.fleet.run"
SIZE = 3
#: Hosts per xdist worker at most (subnets 172.31.121-129.0/24 for the first worker's hosts, ...).
MAX_HOSTS = 30
#: Host numbers each xdist worker owns (gw0: 1-10, gw1: 11-20, gw2: 21-30), whatever the fleet sizes.
HOSTS_PER_WORKER = 10
FLEET_KEYS = {"ultravox": "ux-test-not-real-fleet-0001"}
#: What each host deploys unless the test module sets FLEET_VARS: the ultravox speech-to-speech
#: template of generation 2025.09 (avr-core, avr-asterisk, avr-ami, avr-sts-ultravox; the fleet tests
#: prove the release machinery, test_generation_upgrade.py and test_stack_up.py run the newest
#: generation). The ports of `host_vars` cover the services that publish in it (and in every 2025.09
#: template but n8n and app).
DEPLOY_VARS: Dict[str, Any] = {
    "stack_template": "ultravox",
    "stack_registry_version": "2025.09",
    "stack_provider_keys": FLEET_KEYS,
    "stack_env": {"avr-sts-ultravox": {"ULTRAVOX_AGENT_ID": "agent-fleet"}},
    "stack_wait_timeout": 90,
}
RTP_PORTS = 10  # RTP ports per host (Asterisk's rtp.conf and the published range agree)


@dataclass
class FleetHost:
    """One target: its inventory name, container, work directory and stack variables."""

    name: str
    container: str
    workdir: Path
    vars: Dict[str, Any]

    @property
    def deployment(self) -> str:
        return str(self.vars["stack_deployment"])

    @property
    def project_dir(self) -> Path:
        return Path(self.vars["stack_project_dir"])

    @property
    def core_port(self) -> int:
        """The host port of the deployment's avr-core (on 127.0.0.1)."""
        return int(self.vars["stack_ports"]["avr-core"][0].split(":")[0])


@dataclass
class Fleet:
    """The running fleet: hosts by inventory name, the inventory file, and helpers bound to them."""

    run_id: str
    hosts: Dict[str, FleetHost]
    inventory: Path
    root: Path
    collections_path: Path
    group_vars: Dict[str, Any] = field(default_factory=dict)

    @property
    def deployments(self) -> List[str]:
        return [host.deployment for host in self.hosts.values()]

    def run_playbook(self, playbook: Union[str, Path], extra_vars: Optional[Mapping[str, Any]] = None,
                     limit: Optional[str] = None, env: Optional[Mapping[str, str]] = None,
                     args: Sequence[str] = ()) -> subprocess.CompletedProcess:
        return run_playbook(playbook, self.inventory, dict(extra_vars or {}), limit=limit,
                            collections_path=self.collections_path, env=env, args=args)

    def write_playbook(self, text: str, name: str = "fleet.yml") -> Path:
        """Write a playbook next to the inventory (for a test's tiny playbook)."""
        path = self.root / name
        path.write_text(text)
        return path

    def running_images(self, host: str) -> Dict[str, Dict[str, Any]]:
        return running_images(self.hosts[host].deployment)

    def read_host_file(self, host: str, path: Union[str, Path]) -> str:
        return read_host_file(self.hosts[host], path)


def host_vars(index: int, run_id: str, workdir: Path) -> Dict[str, Any]:
    """The variables that keep host number ``index`` (1..MAX_HOSTS) apart from the others on the one engine.

    Host g publishes in the block 12000 + 100 * g, the last two digits after the container port:
    avr-core 5001 -> ..01, avr-ami 6006 -> ..06, Asterisk SIP 5060 -> ..60, AMI 5038 -> ..38,
    ARI 8088 -> ..88, RTP 10000-10009/udp -> ..20-..29. Host 1: 12101, 12106, 12160, ...
    The blocks stay below Linux's ephemeral port range (32768-60999): a port there can be held for a moment
    by any outgoing connection (a pull from the local registry, say), and the preflight rightly calls it taken.
    """
    assert 1 <= index <= MAX_HOSTS, "fleet host number %d is out of range" % index
    base = 12000 + 100 * index
    deployment = "fleet%d-%s" % (index, run_id)
    return {
        "stack_deployment": deployment,
        "stack_project_dir": str(workdir / deployment),
        "stack_service_prefix": "f%d%s" % (index, run_id),
        "stack_subnet": "172.31.%d.0/24" % (120 + index),
        "stack_publish_address": "127.0.0.1",
        "stack_management_address": "127.0.0.1",
        "stack_image_prefix": REGISTRY + "/",
        "stack_rtp_start": 10000,
        "stack_rtp_end": 10000 + RTP_PORTS - 1,
        "stack_ports": {
            "avr-core": ["%d:5001" % (base + 1)],
            "avr-asterisk": ["%d:5060" % (base + 60), "%d:5038" % (base + 38), "%d:8088" % (base + 88),
                             "%d-%d:10000-%d/udp" % (base + 20, base + 19 + RTP_PORTS, 9999 + RTP_PORTS)],
            "avr-ami": ["%d:6006" % (base + 6)],
        },
    }


def inventory_data(hosts: Mapping[str, FleetHost], group_vars: Mapping[str, Any]) -> Dict[str, Any]:
    """The inventory: group ``avr`` with the fleet's hosts, each reached through its container."""
    entries = {}
    for host in hosts.values():
        entries[host.name] = dict({
            "ansible_connection": "community.docker.docker",
            "ansible_host": host.container,
            "ansible_python_interpreter": "/usr/bin/python3",
        }, **host.vars)
    return {"all": {"children": {"avr": {"vars": dict(group_vars), "hosts": entries}}}}


def _docker(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=300)


def _worker_slot() -> int:
    match = re.search(r"(\d+)$", os.environ.get("PYTEST_XDIST_WORKER", ""))
    return int(match.group(1)) if match else 0


def _registry_answers() -> bool:
    try:
        with urllib.request.urlopen("http://%s/v2/" % REGISTRY, timeout=3) as resp:
            return resp.status == 200
    except OSError:
        return False


def start_fleet(root: Path, collections_path: Path, size: int = SIZE,
                group_vars: Optional[Mapping[str, Any]] = None) -> Fleet:
    """Start ``size`` targets and write their inventory under ``root``. Stop them with `stop_fleet`."""
    assert _docker("image", "inspect", TARGET_IMAGE, check=False).returncode == 0, \
        "the target image %s is required (run .ci/build-images.sh)" % TARGET_IMAGE
    assert _registry_answers(), "the local registry on %s is required (run .ci/build-images.sh)" % REGISTRY
    run_id = uuid.uuid4().hex[:6]
    first = _worker_slot() * HOSTS_PER_WORKER
    assert size <= HOSTS_PER_WORKER and first + size <= MAX_HOSTS, \
        "no room for %d fleet hosts on worker slot %d" % (size, _worker_slot())
    fleet = Fleet(run_id=run_id, hosts={}, inventory=root / "inventory.yml", root=root,
                  collections_path=collections_path,
                  group_vars=dict(DEPLOY_VARS if group_vars is None else group_vars))
    try:
        for number in range(1, size + 1):
            name = "fleet%d" % number
            workdir = root / name
            workdir.mkdir(parents=True)
            container = "voiceops-fleet-%s-%d" % (run_id, number)
            host = FleetHost(name=name, container=container, workdir=workdir,
                             vars=host_vars(first + number, run_id, workdir))
            fleet.hosts[name] = host
            _docker("run", "-d", "--name", container, "--hostname", name, "--network", "host",
                    "--label", "%s=1" % LABEL, "--label", "%s=%s" % (RUN_LABEL, run_id),
                    "--label", "org.voiceops.fleet.host=%s" % name,
                    "-v", "/var/run/docker.sock:/var/run/docker.sock",
                    "-v", "%s:%s" % (workdir, workdir),
                    TARGET_IMAGE, "sleep", "infinity")
        fleet.inventory.write_text(yaml.safe_dump(inventory_data(fleet.hosts, fleet.group_vars), sort_keys=False))
    except BaseException:
        stop_fleet(fleet)
        raise
    return fleet


def stop_fleet(fleet: Fleet) -> None:
    """Take every host's deployment down (volumes and orphans too), then remove the targets. Never fails."""
    for deployment in fleet.deployments:
        _docker("compose", "-p", deployment, "down", "-v", "--remove-orphans", check=False)
    ids = _docker("ps", "-aq", "--filter", "label=%s=%s" % (RUN_LABEL, fleet.run_id), check=False).stdout.split()
    if ids:
        _docker("rm", "-f", *ids, check=False)


@pytest.fixture(scope="module")
def fleet(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
          collections_path: Path) -> Iterator[Fleet]:
    """A running fleet for the test module: FLEET_SIZE hosts (default 3), FLEET_VARS as group vars."""
    size = int(getattr(request.module, "FLEET_SIZE", SIZE))
    group_vars = getattr(request.module, "FLEET_VARS", None)
    started = start_fleet(tmp_path_factory.mktemp("fleet"), collections_path, size, group_vars)
    try:
        yield started
    finally:
        stop_fleet(started)


def run_playbook(playbook_path: Union[str, Path], inventory: Union[str, Path], extra_vars: Mapping[str, Any],
                 limit: Optional[str] = None, collections_path: Optional[Path] = None,
                 env: Optional[Mapping[str, str]] = None, timeout: int = 900,
                 args: Sequence[str] = ()) -> subprocess.CompletedProcess:
    """Run the venv's ansible-playbook (no colour, no host key checks); stdout and stderr are captured.

    ``collections_path`` is the ``collections_path`` fixture's value (default: $VOICEOPS_COLLECTIONS,
    as tests/conftest.py finds it). The caller's ANSIBLE_* variables are dropped; ``env`` adds some
    (for example ``{"ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks"}``).
    """
    if collections_path is None:
        collections_path = Path(os.environ.get("VOICEOPS_COLLECTIONS", "/tmp/voiceops-collections"))
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    environ.update(ANSIBLE_COLLECTIONS_PATH=str(collections_path), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
                   ANSIBLE_HOST_KEY_CHECKING="0", ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_PIPELINING="1")
    environ.update(env or {})
    cmd = [str(ANSIBLE_PLAYBOOK), "-i", str(inventory), str(playbook_path)]
    if extra_vars:
        cmd += ["-e", json.dumps(dict(extra_vars))]
    if limit:
        cmd += ["--limit", limit]
    cmd += list(args)
    return subprocess.run(cmd, capture_output=True, text=True, env=environ, check=False, timeout=timeout)


def recap(stdout: str) -> Dict[str, Dict[str, int]]:
    """The PLAY RECAP as {host: {ok, changed, unreachable, failed, skipped, rescued, ignored}}."""
    lines = stdout.splitlines()
    try:
        start = max(i for i, line in enumerate(lines) if line.startswith("PLAY RECAP"))
    except ValueError:
        raise AssertionError("no play recap:\n" + stdout[-4000:]) from None
    result: Dict[str, Dict[str, int]] = {}
    for line in lines[start + 1:]:
        host, sep, counts = line.partition(" : ")
        if not sep or "=" not in counts:
            if result:
                break
            continue
        result[host.strip()] = {k: int(v) for k, v in (part.split("=", 1) for part in counts.split())}
    return result


def running_images(deployment: str) -> Dict[str, Dict[str, Any]]:
    """Per compose service of the project (the deployed name, with the service prefix): image name,
    image id, the image's repo digests, state and health."""
    ids = _docker("ps", "-aq", "--filter", "label=com.docker.compose.project=%s" % deployment).stdout.split()
    if not ids:
        return {}
    containers = json.loads(_docker("inspect", *ids).stdout)
    image_ids = sorted({item["Image"] for item in containers})
    images = {img["Id"]: img for img in json.loads(_docker("image", "inspect", *image_ids).stdout)}
    result = {}
    for item in containers:
        service = item["Config"]["Labels"].get("com.docker.compose.service", item["Name"].lstrip("/"))
        result[service] = {
            "name": item["Name"].lstrip("/"),
            "image": item["Config"]["Image"],
            "image_id": item["Image"],
            "repo_digests": list(images.get(item["Image"], {}).get("RepoDigests") or []),
            "state": item["State"]["Status"],
            "health": (item["State"].get("Health") or {}).get("Status"),
        }
    return result


def read_host_file(host: Union[FleetHost, str], path: Union[str, Path]) -> str:
    """A file of a fleet host, read on the controller: the work directories have the same path on both.

    With a FleetHost, a relative path is taken from its project directory, and a path outside its work
    directory (not shared with the controller) is refused.
    """
    target = Path(path)
    if isinstance(host, FleetHost):
        if not target.is_absolute():
            target = host.project_dir / target
        if not target.resolve().is_relative_to(host.workdir.resolve()):
            raise ValueError("%s is outside %s's work directory %s" % (target, host.name, host.workdir))
    return target.read_text()


def registry_digest(repository: str, tag: str) -> str:
    """The manifest digest the local test registry serves for repository:tag."""
    request = urllib.request.Request(
        "http://127.0.0.1:5000/v2/%s/manifests/%s" % (repository, tag), method="HEAD",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json, "
                           "application/vnd.oci.image.manifest.v1+json"})
    with urllib.request.urlopen(request, timeout=5) as resp:
        return resp.headers["Docker-Content-Digest"]
