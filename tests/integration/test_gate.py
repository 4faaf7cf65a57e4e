"""The health gate on real Docker: a new release whose core crashes, exits, never listens or fails its
health check is rolled back by itself; a good one passes; a re-run without a change watches nothing.

One fleet host (fleet.py) runs the ultravox template from the local registry at v1.0.0; every scenario
rolls out v1.1.0 of the stand-in with one fault of STANDIN_FAULTS (tests/standin/README.md) on avr-core,
which the catalog below gives the variable (and, for the failing health check, a health check):

- exit: the process exits at once (restart: always, so Docker restarts it again and again);
- exit-after: it runs, listens, and exits 3 s later (what `docker compose up --wait` lets through);
- no-listen: it runs but never opens its port (the registry's TCP readiness probe of avr-core, 5001);
- unhealthy: it listens but its health check (the catalog's, calling /health) answers 503.

Each must end with history staged -> failed -> the previous release active again, the previous digests
running (docker inspect), the failure message naming the service and quoting its log, within a minute.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import builtin, image_data

import fleet as harness
from fleet import DEPLOY_VARS, Fleet, recap, registry_digest

fleet = harness.fleet  # the module-scoped fixture

FLEET_SIZE = 1
HOST = "fleet1"
ROOT = Path(__file__).resolve().parents[2]
ROLLOUT = ROOT / "playbooks" / "rollout.yml"
SERVICES = ("avr-core", "avr-asterisk", "avr-ami", "avr-sts-ultravox")
V1, V2 = "v1.0.0", "v1.1.0"
#: the seed requirement: a rollout of a host, and a rollback, each within a minute (of an idle machine)
MINUTE = 60.0


def limit() -> float:
    """A minute, stretched by how oversubscribed the machine is now (1-minute load average over the cores):
    on a shared machine with a load of 8 on 2 cores, a run gets about a quarter of the CPU it would get
    alone. VOICEOPS_ROLLOUT_LIMIT (seconds) replaces it."""
    if os.environ.get("VOICEOPS_ROLLOUT_LIMIT"):
        return float(os.environ["VOICEOPS_ROLLOUT_LIMIT"])
    return MINUTE * max(1.0, os.getloadavg()[0] / len(os.sched_getaffinity(0)))


HEALTHCHECK = {
    "test": ["CMD", "python3", "-c", "import urllib.request; p = open('/run/standin.ports').read().split()[0]; "
             "urllib.request.urlopen('http://127.0.0.1:' + p + '/health', timeout=2)"],
    "interval": "1s", "timeout": "3s", "retries": 2,
}


def _catalog(healthcheck: bool = False) -> Dict[str, Any]:
    """The built-in core with STANDIN_FAULTS (and optionally the stand-in's health check)."""
    core = image_data(builtin("2025.09").images["core/avr-core"])  # the fleet runs 2025.09
    del core["key"]
    core["env"].append({"name": "STANDIN_FAULTS", "description": "stand-in faults per version"})
    if healthcheck:
        core["healthcheck"] = copy.deepcopy(HEALTHCHECK)
    return {"images": [core]}


FLEET_VARS: Dict[str, Any] = dict(
    DEPLOY_VARS,
    stack_catalog=_catalog(),
    stack_tag_environment="prod",
    stack_wait_timeout=30,
    stack_ready_timeout=10,
    stack_releases_keep=10,
)


def running(fl: Fleet) -> Dict[str, Dict[str, Any]]:
    prefix = fl.hosts[HOST].vars["stack_service_prefix"] + "-"
    found = {name[len(prefix):]: info for name, info in fl.running_images(HOST).items()}
    assert sorted(found) == sorted(SERVICES), found
    return found


def assert_runs(fl: Fleet, tag: str) -> None:
    """Every service runs the tag's registry digest (docker inspect: the image and its repo digests)."""
    for service, info in running(fl).items():
        repository = "agentvoiceresponse/" + service
        digest = registry_digest(repository, tag)
        assert info["state"] == "running", (service, info)
        assert info["image"] == "localhost:5000/%s:%s@%s" % (repository, tag, digest), (service, info["image"])
        assert "localhost:5000/%s@%s" % (repository, digest) in info["repo_digests"], (service, info)


def history(fl: Fleet) -> List[Dict[str, Any]]:
    path = fl.hosts[HOST].project_dir / "releases" / "history.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def current(fl: Fleet) -> str:
    return Path(fl.hosts[HOST].project_dir / "current").readlink().name


def containers(fl: Fleet) -> Dict[str, Tuple[str, str, int]]:
    """Per container: id, start time and restart count (what a no-change run must not touch)."""
    ids = subprocess.run(["docker", "ps", "-aq", "--filter", "label=com.docker.compose.project=%s"
                          % fl.hosts[HOST].deployment], capture_output=True, text=True, check=True).stdout.split()
    items = json.loads(subprocess.run(["docker", "inspect", *ids], capture_output=True, text=True,
                                      check=True).stdout)
    return {i["Name"]: (i["Id"], i["State"]["StartedAt"], i["RestartCount"]) for i in items}


def rollout(fl: Fleet, tag: str, faults: str = "", **extra: Any) -> Tuple[subprocess.CompletedProcess, float]:
    env = dict(DEPLOY_VARS["stack_env"], **{"avr-core": {"STANDIN_FAULTS": faults}})
    args = dict({"stack_tag": tag, "rollout_serial": 1, "stack_env": env}, **extra)
    start = time.monotonic()
    proc = fl.run_playbook(ROLLOUT, args, limit=HOST, env={"ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks"})
    return proc, time.monotonic() - start


#: fault, catalog with the health check, what the failure message must say, the log line it must quote
SCENARIOS = [
    ("exit", False, "avr-core", "exits at once (STANDIN_FAULTS: exit)"),
    ("exit-after:3", False, "avr-core", "exits after 3 s (STANDIN_FAULTS: exit-after)"),
    ("no-listen", False, "not ready within 10 s: port 5001", "never listens (STANDIN_FAULTS: no-listen)"),
    ("unhealthy", True, "avr-core", "answers /health with 503 (STANDIN_FAULTS: unhealthy)"),
]


@pytest.fixture(scope="module")
def deployed(fleet: Fleet) -> str:
    """v1.0.0 deployed and active; the release every failing scenario must come back to."""
    proc, took = rollout(fleet, V1)
    assert proc.returncode == 0, proc.stdout[-6000:]
    print("gate timing: first deployment of v1.0.0 (pulls included): %.1f s (limit %.0f s)" % (took, limit()))
    assert took < limit(), "a rollout of one host took %.1f s" % took
    assert_runs(fleet, V1)
    return current(fleet)


@pytest.mark.parametrize("fault, healthcheck, named, logged", SCENARIOS, ids=[s[0].split(":")[0] for s in SCENARIOS])
def test_bad_release_is_rolled_back(fleet: Fleet, deployed: str, fault: str, healthcheck: bool, named: str,
                                    logged: str) -> None:
    before = len(history(fleet))
    extra = {"stack_catalog": _catalog(healthcheck=True)} if healthcheck else {}
    proc, took = rollout(fleet, V2, faults="%s=%s" % (V2, fault), **extra)
    counts = recap(proc.stdout)[HOST]
    assert proc.returncode != 0 and counts["failed"] == 1 and counts["rescued"] == 1, proc.stdout[-8000:]
    records = history(fleet)[before:]
    failed = records[0]["release"]
    assert [(r["release"], r["status"]) for r in records] == [(failed, "staged"), (failed, "failed"),
                                                              (deployed, "active")], records
    assert records[0]["tags"]["avr-core"] == V2 and failed != deployed
    assert current(fleet) == deployed
    assert_runs(fleet, V1)
    message = failure_message(proc.stdout)
    prefix = fleet.hosts[HOST].vars["stack_service_prefix"]
    assert "%s-avr-core" % prefix in message and named in message, message
    assert logged in message, "the failure message quotes the service's log: " + message
    assert "\x1b" not in message and "\\u001b" not in message, "terminal escapes in the message: " + message
    assert "Rolled back to release %s, which is active again." % deployed in message, message
    assert "avr-core" in records[1]["reason"], records[1]
    # the gate judged the new release (unless compose's --wait saw the unhealthy container first), then the
    # restored one, with the probes its release.json recorded
    runs = "(1 runs)" if fault == "unhealthy" else "(2 runs)"
    assert task_time(proc.stdout, "Watch the services this run started").endswith(runs), proc.stdout[-8000:]
    meta = json.loads((fleet.hosts[HOST].project_dir / "releases" / deployed / "release.json").read_text())
    core = "%s-avr-core" % prefix
    assert meta["gate"][core] == {"container": core, "network": meta["gate"][core]["network"],
                                  "probes": [{"type": "tcp", "port": 5001}]}, meta["gate"]
    assert meta["gate"][core]["network"], meta["gate"]
    total = elapsed(proc.stdout)
    rollback = total - elapsed(proc.stdout, "Roll back - record the release failed")
    print("gate timing: %s: rollout of v1.1.0 with the fault, failed gate and automatic rollback: %.1f s, of which "
          "the rollback (from the failed gate to the end) %.1f s; health gate task %s (limit %.0f s)"
          % (fault, took, rollback, task_time(proc.stdout, "Watch the services this run started"), limit()))
    assert took - rollback < limit() and rollback < limit(), \
        "rollout %.1f s, rollback %.1f s" % (took - rollback, rollback)


def test_good_release_passes_and_rerun_watches_nothing(fleet: Fleet, deployed: str) -> None:
    proc, took = rollout(fleet, V2)
    assert proc.returncode == 0, proc.stdout[-8000:]
    print("gate timing: rollout of a good v1.1.0: %.1f s (health gate task %s; limit %.0f s)"
          % (took, task_time(proc.stdout, "Watch the services this run started"), limit()))
    assert took < limit(), "a rollout of one host took %.1f s" % took
    assert_runs(fleet, V2)
    new = current(fleet)
    assert [(r["release"], r["status"]) for r in history(fleet)[-2:]] == [(new, "staged"), (new, "active")]
    assert "Watch the services this run started" in proc.stdout
    assert "skipping: [%s]" % HOST not in _task_output(proc.stdout, "Watch the services this run started")

    before = containers(fleet)
    proc, took = rollout(fleet, V2)
    assert proc.returncode == 0, proc.stdout[-8000:]
    assert recap(proc.stdout)[HOST]["changed"] == 0, proc.stdout[-8000:]
    assert containers(fleet) == before, "a re-run without a change restarted something"
    print("gate timing: re-run without a change: %.1f s (no gate: the plan found the files, the release and what "
          "Docker runs as rendered)" % took)
    assert "Watch the services this run started" not in proc.stdout and "Start the services" not in proc.stdout, \
        "a re-run without a change has nothing to start or watch"
    assert current(fleet) == new


def failure_message(stdout: str) -> str:
    """The role's failure message (it spans lines: it quotes the log), up to the play recap."""
    start = stdout.index("failed the health gate:")
    return stdout[start:stdout.index("PLAY RECAP", start)]


def elapsed(stdout: str, title: str = "") -> float:
    """Seconds into the run (profile_tasks) at the first task whose header has ``title``; default the end."""
    lines = stdout.splitlines()
    stamps = []
    for index, line in enumerate(lines[:-1]):
        if (line.startswith("TASK [") and title and title in line) or (not title and ") " in lines[index + 1]):
            match = re.search(r"\)\s+(\d+):(\d+):([\d.]+)\s+\*", lines[index + 1])
            if match:
                stamps.append(int(match.group(1)) * 3600 + int(match.group(2)) * 60 + float(match.group(3)))
                if title:
                    break
    assert stamps, "no profile_tasks time %s" % (("for task %r" % title) if title else "")
    return stamps[0] if title else max(stamps)


def task_time(stdout: str, title: str) -> str:
    """What profile_tasks says the task took (summed over its runs), e.g. '12.41 s (2 runs)'."""
    lines = stdout.splitlines()
    seconds = []
    for index, line in enumerate(lines[:-1]):
        if line.startswith("TASK [") and title in line:
            # the next task header's timestamp line holds this task's duration: "(0:00:12.345)"
            for later in lines[index + 2:]:
                if later.startswith("TASK [") or later.startswith("PLAY RECAP"):
                    stamp = lines[lines.index(later, index + 2) + 1]
                    if "(" in stamp:
                        h, m, sec = stamp.split("(", 1)[1].split(")", 1)[0].split(":")
                        seconds.append(int(h) * 3600 + int(m) * 60 + float(sec))
                    break
    return "%.2f s (%d runs)" % (sum(seconds), len(seconds)) if seconds else "not run"


def _task_output(stdout: str, title: str) -> str:
    """The lines of the last task whose header contains ``title``, up to the next header."""
    blocks = stdout.split("\nTASK [")
    found = [b for b in blocks if b.split("]", 1)[0].endswith(title) or title in b.split("\n", 1)[0]]
    assert found, "no task %r in the output" % title
    return found[-1].split("\n\n", 1)[0] if "\n\n" in found[-1] else found[-1]
