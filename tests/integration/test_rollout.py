"""Fleet rollouts on real Docker: three target hosts, two tagged versions, one host that fails its gate.

Each host is a container (fleet.py) that drives the host's Docker engine; the images come from the
local registry on 127.0.0.1:5000, where every AVR image exists as v1.0.0 and v1.1.0 (two stand-in
builds with different digests). fleet3 marks version 1.1.0 broken (its core's /health answers 503),
so its health gate fails on v1.1.0 only. The proof, in order, on one fleet:

1. playbooks/rollout.yml to v1.0.0 in prod: every host runs repository:v1.0.0@<the registry's digest>.
2. rollout to v1.1.0 with fleet3 as the canary and max_fail_percentage 0: fleet3 fails its gate and
   rolls back, the rollout stops, fleet1 and fleet2 are untouched. Then canary fleet1, then fleet2 +
   fleet3 with max_fail_percentage 50: fleet1 and fleet2 run the v1.1.0 digests; fleet3 failed its
   gate, runs its v1.0.0 release again, and its history reads staged -> failed for the new release,
   then active for the restored one.
3. the same rollout again: changed=0 everywhere, no new release, history untouched (fleet3 refuses
   to re-apply the content that failed there and says so).
4. the active release of fleet1 re-renders byte for byte from its release.json and registry digest.
5. a check-mode rollout reports a change and changes nothing; bad input (a tag that breaks the prod
   policy, a digest the registry does not have, an unreachable registry, an unknown release id): one
   clear error each, and the running release untouched.
6. playbooks/rollback.yml on demand: to the previous release, then to a named one.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Sequence

from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import builtin, image_data

import fleet as harness
from fleet import DEPLOY_VARS, Fleet, inventory_data, recap, registry_digest, run_playbook

fleet = harness.fleet  # the module-scoped fixture

ROOT = Path(__file__).resolve().parents[2]
ROLLOUT = ROOT / "playbooks" / "rollout.yml"
ROLLBACK = ROOT / "playbooks" / "rollback.yml"
SERVICES = ("avr-core", "avr-asterisk", "avr-ami", "avr-sts-ultravox")
V1, V2 = "v1.0.0", "v1.1.0"
BROKEN_HOST = "fleet3"


def _catalog() -> Dict[str, Any]:
    """The built-in core with one more variable, so that a host can mark stand-in versions broken."""
    core = image_data(builtin("2025.09").images["core/avr-core"])  # the fleet runs 2025.09
    del core["key"]
    core["env"].append({"name": "STANDIN_BROKEN_VERSIONS", "description": "stand-in versions whose /health fails"})
    return {"images": [core]}


FLEET_VARS: Dict[str, Any] = dict(
    DEPLOY_VARS,
    stack_catalog=_catalog(),
    stack_tag_environment="prod",
    stack_health_checks=[{"url": "http://127.0.0.1:{{ stack_ports['avr-core'][0].split(':')[0] }}/health"}],
    stack_health_timeout=6,
    stack_wait_timeout=60,
    # the gate's crash detection is proved in test_gate.py with the default window; here a short one
    stack_stability_window=5,
    stack_releases_keep=3,
)


def expected_references(tag: str) -> Dict[str, str]:
    refs = {}
    for service in SERVICES:
        repository = "agentvoiceresponse/" + service
        refs[service] = "localhost:5000/%s:%s@%s" % (repository, tag, registry_digest(repository, tag))
    return refs


def running(fl: Fleet, host: str) -> Dict[str, Dict[str, Any]]:
    """Per registry service name: what docker inspect says the host's container runs."""
    prefix = fl.hosts[host].vars["stack_service_prefix"] + "-"
    found = {name[len(prefix):]: info for name, info in fl.running_images(host).items()}
    assert sorted(found) == sorted(SERVICES), found
    return found


def assert_runs(fl: Fleet, host: str, tag: str) -> None:
    want = expected_references(tag)
    for service, info in running(fl, host).items():
        assert info["state"] == "running", (host, service, info)
        assert info["image"] == want[service], (host, service, info["image"], want[service])
        assert want[service].replace(":" + tag + "@", "@") in info["repo_digests"], (host, service, info)


def history(fl: Fleet, host: str) -> List[Dict[str, Any]]:
    path = fl.hosts[host].project_dir / "releases" / "history.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def current(fl: Fleet, host: str) -> str:
    return Path(fl.hosts[host].project_dir / "current").readlink().name


def snapshot(fl: Fleet, host: str) -> Dict[str, Any]:
    """What must not change when a run is refused: files, releases, the current pointer, containers."""
    project = fl.hosts[host].project_dir
    return {
        "current": current(fl, host),
        "history": (project / "releases" / "history.jsonl").read_bytes(),
        "releases": sorted(p.name for p in (project / "releases").iterdir() if p.is_dir()),
        "compose": (project / "docker-compose.yml").read_bytes(),
        "environment": (project / "environment.json").read_bytes(),
        "containers": {s: (i["image"], i["image_id"], i["state"]) for s, i in running(fl, host).items()},
        "container_ids": sorted(subprocess.run(
            ["docker", "ps", "-aq", "--no-trunc", "--filter", "label=com.docker.compose.project=%s"
             % fl.hosts[host].deployment], capture_output=True, text=True, check=True).stdout.split()),
    }


def rollout(fl: Fleet, tag: str, cli_args: Sequence[str] = (), **extra: Any) -> subprocess.CompletedProcess:
    args = {"stack_tag": tag, "rollout_serial": [1, 2], "rollout_max_fail_percentage": 50}
    args.update(extra)
    return fl.run_playbook(ROLLOUT, args, env={"VOICEOPS_ACTOR": "fleet-test"}, args=cli_args)


def statuses(records: List[Dict[str, Any]]) -> List[tuple]:
    return [(r["release"], r["status"]) for r in records]


def test_fleet_rollout_with_gate_rollback_and_history(fleet: Fleet, tmp_path: Path) -> None:
    fl = fleet
    broken = fl.hosts[BROKEN_HOST]
    broken.vars["stack_env"] = dict(DEPLOY_VARS["stack_env"], **{"avr-core": {"STANDIN_BROKEN_VERSIONS": "1.1.0"}})
    fl.inventory.write_text(json.dumps(inventory_data(fl.hosts, fl.group_vars)))

    # 0. check mode on hosts the deployment never reached: reports the change, writes and starts nothing
    proc = rollout(fl, V1, cli_args=["--check"])
    counts = recap(proc.stdout)
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert all(counts[h]["failed"] == 0 and counts[h]["changed"] > 0 for h in fl.hosts), counts
    assert all(not fl.hosts[h].project_dir.exists() and fl.running_images(h) == {} for h in fl.hosts)

    # 1. v1.0.0 everywhere
    proc = rollout(fl, V1)
    counts = recap(proc.stdout)
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert all(counts[h]["failed"] == 0 and counts[h]["changed"] > 0 for h in fl.hosts), counts
    first = {}
    for host in fl.hosts:
        assert_runs(fl, host, V1)
        records = history(fl, host)
        first[host] = current(fl, host)
        assert statuses(records) == [(first[host], "staged"), (first[host], "active")], records
        assert records[-1]["tags"]["avr-core"] == V1 and records[-1]["actor"] == "fleet-test"
        assert records[-1]["digests"]["avr-core"] == registry_digest("agentvoiceresponse/avr-core", V1)
    trace_ids = {history(fl, h)[-1]["trace_id"] for h in fl.hosts}
    assert len(trace_ids) == 1 and "" not in trace_ids, trace_ids

    # 2a. v1.1.0 with fleet3 as the canary and max_fail_percentage 0: it fails its gate, rolls back,
    #     and the rollout stops there: fleet1 and fleet2 are not touched
    before = {host: snapshot(fl, host) for host in ("fleet1", "fleet2")}
    proc = rollout(fl, V2, rollout_order="reverse_inventory", rollout_max_fail_percentage=0)
    counts = recap(proc.stdout)
    assert proc.returncode == 2 and counts[BROKEN_HOST]["failed"] == 1, proc.stdout[-6000:]
    assert "fleet1" not in counts and "fleet2" not in counts, counts
    assert {host: snapshot(fl, host) for host in ("fleet1", "fleet2")} == before
    assert_runs(fl, BROKEN_HOST, V1)
    assert statuses(history(fl, BROKEN_HOST))[-1] == (first[BROKEN_HOST], "active")
    assert [r["status"] for r in history(fl, BROKEN_HOST)][-3:] == ["staged", "failed", "active"]

    # 2b. v1.1.0: canary fleet1, then fleet2 and fleet3 (max_fail_percentage 50, and fleet3 told to try
    #     the content that failed there again): fleet3 fails its gate and rolls back by itself
    proc = rollout(fl, V2, stack_retry_failed=True)
    counts = recap(proc.stdout)
    assert proc.returncode == 2, proc.stdout[-6000:]
    assert counts["fleet1"]["failed"] == 0 and counts["fleet2"]["failed"] == 0, counts
    assert counts[BROKEN_HOST]["failed"] == 1 and counts[BROKEN_HOST]["rescued"] == 1, counts
    assert "failed the health gate" in proc.stdout and "Rolled back to release %s" % first[BROKEN_HOST] in proc.stdout
    assert "503" in proc.stdout, "the failed HTTP check is named"
    for host in ("fleet1", "fleet2"):
        assert_runs(fl, host, V2)
        assert statuses(history(fl, host))[-2:] == [(current(fl, host), "staged"), (current(fl, host), "active")]
    assert_runs(fl, BROKEN_HOST, V1)
    records = history(fl, BROKEN_HOST)
    failed_release = records[-3]["release"]
    assert statuses(records)[-3:] == [(failed_release, "staged"), (failed_release, "failed"),
                                      (first[BROKEN_HOST], "active")], records
    assert current(fl, BROKEN_HOST) == first[BROKEN_HOST]
    assert "503" in records[-2]["reason"] and records[-2]["tags"]["avr-core"] == V2

    # 3. the finished rollout again: nothing changes, no release is created
    before = {host: snapshot(fl, host) for host in fl.hosts}
    proc = rollout(fl, V2)
    counts = recap(proc.stdout)
    assert all(counts[h]["changed"] == 0 for h in fl.hosts), counts
    assert counts["fleet1"]["failed"] == 0 and counts["fleet2"]["failed"] == 0, counts
    assert counts[BROKEN_HOST]["failed"] == 1 and "failed its health gate on this host" in proc.stdout
    assert {host: snapshot(fl, host) for host in fl.hosts} == before

    # 4. the active release re-renders to the same bytes from what it recorded
    release_dir = fl.hosts["fleet1"].project_dir / "releases" / current(fl, "fleet1")
    meta = json.loads((release_dir / "release.json").read_text())
    rerender = tmp_path / "rerender"
    rerender.mkdir()
    shutil.copy(release_dir / "environment.json", rerender / "environment.json")
    credentials = json.loads(fl.read_host_file("fleet1", ".credentials.json"))
    inputs = {k: v for k, v in meta["inputs"].items() if v is not None and k not in ("provider_keys", "secrets")}
    assert sorted(meta["inputs"]["provider_keys"]) == ["ultravox"] and "AMI_PASSWORD" in meta["inputs"]["secrets"]
    task = dict(inputs, project_dir=str(rerender), registry_digest=meta["registry_digest"],
                provider_keys=DEPLOY_VARS["stack_provider_keys"],
                secrets={"AMI_PASSWORD": credentials["ami_password"], "ARI_PASSWORD": credentials["ari_password"]})
    play = tmp_path / "rerender.yml"
    play.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False,
                                 "tasks": [{"voiceops.avr.voice_compose": task}]}]))
    proc = run_playbook(play, "localhost,", {"ansible_connection": "local",
                                             "ansible_python_interpreter": sys.executable},
                        collections_path=fl.collections_path)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert (rerender / "docker-compose.yml").read_bytes() == (release_dir / "docker-compose.yml").read_bytes()
    assert hashlib.sha1((rerender / "docker-compose.yml").read_bytes()).hexdigest() == meta["checksum"]

    # 5. check mode reports the change a new tag would make and changes nothing
    before = snapshot(fl, "fleet1")
    proc = fl.run_playbook(ROLLOUT, {"stack_tag": V1, "rollout_serial": 1}, limit="fleet1", args=["--check"])
    assert proc.returncode == 0 and recap(proc.stdout)["fleet1"]["changed"] > 0, proc.stdout[-6000:]
    assert snapshot(fl, "fleet1") == before

    # bad input: one clear error each, the running release untouched
    cases = [
        ({"stack_tag": "latest"}, "tag 'latest' breaks tag policy 'avr' for environment 'prod'"),
        ({"stack_tag": V2, "stack_digests": {"avr-core": "sha256:" + "0" * 64}}, "has no digest sha256:" + "0" * 64),
        ({"stack_tag": V2, "stack_image_prefix": "127.0.0.1:5999/"}, "registry 127.0.0.1:5999 is unreachable"),
    ]
    for extra, message in cases:
        before = snapshot(fl, "fleet1")
        proc = fl.run_playbook(ROLLOUT, dict(extra, rollout_serial=1), limit="fleet1")
        assert proc.returncode != 0 and message in proc.stdout, (extra, proc.stdout[-4000:])
        assert snapshot(fl, "fleet1") == before, extra
    before = snapshot(fl, "fleet1")
    unknown = "20990101T000000Z-deadbeef"
    proc = fl.run_playbook(ROLLBACK, {"stack_rollback_release": unknown}, limit="fleet1")
    assert proc.returncode != 0 and "%r is not a release of" % unknown in proc.stdout, proc.stdout[-4000:]
    assert snapshot(fl, "fleet1") == before

    # 6. rollback on demand: to the previous release, then forward again to a named one
    second = current(fl, "fleet1")
    proc = fl.run_playbook(ROLLBACK, {}, limit="fleet1")
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert_runs(fl, "fleet1", V1)
    assert current(fl, "fleet1") == first["fleet1"]
    assert statuses(history(fl, "fleet1"))[-2:] == [(second, "rolled_back"), (first["fleet1"], "active")]
    proc = fl.run_playbook(ROLLBACK, {"stack_rollback_release": second}, limit="fleet1")
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert_runs(fl, "fleet1", V2)
    assert statuses(history(fl, "fleet1"))[-2:] == [(first["fleet1"], "rolled_back"), (second, "active")]
    proc = fl.run_playbook(ROLLBACK, {"stack_rollback_release": second}, limit="fleet1")
    assert recap(proc.stdout)["fleet1"]["changed"] == 0, "rolling back to the current release changes nothing"

    # 7. a release holds the configuration the services mount and the credentials it was written with:
    #    rotate the AMI password on fleet2, roll back, and the old manager.conf and credentials come back
    #    (Asterisk restarted to read them); the next run then renders the same release again: changed=0
    host = fl.hosts["fleet2"]
    conf, creds = "asterisk/conf/manager.conf", ".credentials.json"
    before = {name: (host.project_dir / name).read_bytes() for name in (conf, creds)}
    release_before = current(fl, "fleet2")
    proc = rollout(fl, V2, stack_ami_password="rotated-ami-not-real-7f3e", rollout_serial=1, cli_args=["-l", "fleet2"])
    assert proc.returncode == 0 and "rotated-ami-not-real-7f3e" not in proc.stdout, proc.stdout[-6000:]
    rotated = current(fl, "fleet2")
    assert rotated != release_before and b"rotated-ami-not-real-7f3e" in (host.project_dir / conf).read_bytes()
    copy = host.project_dir / "releases" / rotated / conf
    assert copy.read_bytes() == (host.project_dir / conf).read_bytes() and oct(copy.stat().st_mode)[-3:] == "600"
    asterisk = running(fl, "fleet2")["avr-asterisk"]["name"]
    started = docker_started(asterisk)
    proc = fl.run_playbook(ROLLBACK, {}, limit="fleet2")
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert current(fl, "fleet2") == release_before
    assert {name: (host.project_dir / name).read_bytes() for name in (conf, creds)} == before
    assert docker_started(asterisk) != started, "Asterisk was restarted to read its restored configuration"
    proc = rollout(fl, V2, rollout_serial=1, cli_args=["-l", "fleet2"])
    assert proc.returncode == 0 and recap(proc.stdout)["fleet2"]["changed"] == 0, proc.stdout[-6000:]
    assert current(fl, "fleet2") == release_before


def docker_started(container: str) -> str:
    """When the container last started (RFC 3339)."""
    return subprocess.run(["docker", "inspect", "-f", "{{.State.StartedAt}}", container], capture_output=True,
                          text=True, check=True).stdout.strip()
