#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A no-change re-run of the stack role against the playbook a user would write by hand, side by side.

Anchor: a hand-written playbook doing the same deployment's job, ``ansible.builtin.template`` of the
same compose file (the role's own output, as a template) and ``community.docker.docker_compose_v2``
with ``wait: true``. Both manage the same deployments (same compose projects, same files), so a
re-run changes nothing for either. Each inventory host is a local-connection host with its own
ultravox deployment (the newest generation, or --registry-version: 5 services in 2026.06, the browser
phone published on no host port; 4 in 2025.09; stand-in images from the local registry of
.ci/build-images.sh, its own ports, subnet and project directory).

    source scripts/venv.sh requirements-test.txt
    python benchmarks/rerun.py                    # 1 host and 10 hosts, 3 rounds each (~6 min)
    python benchmarks/rerun.py --hosts 1 --rounds 5
    python benchmarks/rerun.py --registry-version 2025.09

Per host count, the runs alternate (role, hand-written, role, ...) and the medians are compared as a
ratio role / hand-written (<= 1.0: the role's no-change re-run costs no more than the hand-written
playbook). Module executions per host are counted exactly: every host's ``ansible_python_interpreter``
is a wrapper that appends a line to a file before starting Python. After the timings, the role's
guarantees are checked on host 0 (exit status 1 when one does not hold): a drifted compose file is
rewritten, a stopped container is started again, both by a plain re-run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parents[1]
COLLECTIONS = Path(os.environ.get("VOICEOPS_COLLECTIONS", ROOT / ".collections"))
sys.path.insert(0, str(COLLECTIONS))
PREFIX = "vbench"
#: the registry generation deployed (--registry-version; "" for the role's default: the newest)
REGISTRY_VERSION = ""


def unpublished() -> Dict[str, List[str]]:
    """The services of the deployed template that publish ports besides core, Asterisk and AMI (the browser
    phone of 2026.06): published on no host port here, so that the hosts' deployments do not collide."""
    from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import builtin
    template = builtin(REGISTRY_VERSION or None).template("ultravox")
    return {img.service_name: [] for img in template.images
            if img.ports and img.role not in ("core", "asterisk", "ami")}


def host_vars(index: int, work: Path) -> Dict[str, Any]:
    base = 16000 + index * 100  # below the ephemeral port range (32768-60999)
    return {
        "ansible_connection": "local",
        "ansible_python_interpreter": str(work / ("python-h%d" % index)),
        "stack_template": "ultravox",
        "stack_deployment": "%s-h%d" % (PREFIX, index),
        "stack_service_prefix": "%sh%d" % (PREFIX, index),
        "stack_project_dir": str(work / "projects" / ("h%d" % index)),
        "stack_subnet": "172.31.%d.0/24" % (160 + index),
        "stack_publish_address": "127.0.0.1",
        "stack_image_prefix": "localhost:5000/",
        "stack_provider_keys": {"ultravox": "ux-bench-not-real-%04d" % index},
        "stack_env": {"avr-sts-ultravox": {"ULTRAVOX_AGENT_ID": "agent-bench"}},
        "stack_ports": dict(unpublished(), **{"avr-core": ["%d:5001" % (base + 1)],
                                              "avr-asterisk": ["%d:5060" % (base + 60)], "avr-ami": []}),
        "stack_registry_version": REGISTRY_VERSION,
        "stack_stability_window": 3,
    }


ROLE_PLAY = """---
- name: The stack role
  hosts: all
  gather_facts: false
  roles:
    - role: voiceops.avr.stack
"""

HAND_PLAY = """---
- name: The same deployments, written by hand
  hosts: all
  gather_facts: false
  tasks:
    - name: Write the compose file
      ansible.builtin.template:
        src: "{{ playbook_dir }}/templates/{{ inventory_hostname }}.yml.j2"
        dest: "{{ stack_project_dir }}/docker-compose.yml"
        mode: "0600"

    - name: Run the deployment
      community.docker.docker_compose_v2:
        project_src: "{{ stack_project_dir }}"
        state: present
        recreate: auto
        remove_orphans: true
        wait: true
        wait_timeout: 120
"""


class Bench:
    def __init__(self, work: Path, hosts: int) -> None:
        self.work = work
        self.hosts = hosts
        self.counts = work / "counts"
        self.counts.mkdir(parents=True, exist_ok=True)
        (work / "templates").mkdir(exist_ok=True)
        inventory: Dict[str, Any] = {"all": {"hosts": {}}}
        for index in range(hosts):
            wrapper = work / ("python-h%d" % index)
            count = self.counts / ("h%d" % index)
            wrapper.write_text('#!/bin/sh\necho x >> %s\nexec %s "$@"\n' % (count, sys.executable))
            wrapper.chmod(0o755)
            inventory["all"]["hosts"]["h%d" % index] = host_vars(index, work)
        (work / "inventory.json").write_text(json.dumps(inventory, indent=1))
        (work / "role.yml").write_text(ROLE_PLAY)
        (work / "hand.yml").write_text(HAND_PLAY)
        (work / "ansible.cfg").write_text("[defaults]\nforks = 10\nretry_files_enabled = false\n"
                                          "interpreter_python = auto_silent\n")

    def env(self) -> Dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
        env.update(ANSIBLE_CONFIG=str(self.work / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_COLLECTIONS_PATH=os.environ.get("ANSIBLE_COLLECTIONS_PATH", ""),
                   ANSIBLE_LOCALHOST_WARNING="0")
        return env

    def run(self, play: str, limit: str) -> Dict[str, Any]:
        for path in self.counts.iterdir():
            path.unlink()
        started = time.monotonic()
        proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i",
                               str(self.work / "inventory.json"), str(self.work / play), "--limit", limit],
                              capture_output=True, text=True, env=self.env(), check=False, cwd=str(self.work))
        took = time.monotonic() - started
        recap = {}
        for line in proc.stdout.splitlines():
            if " : ok=" in line:
                host = line.split()[0]
                recap[host] = {k: int(v) for k, v in (part.split("=") for part in line.split()[2:])}
        executions = {path.name: len(path.read_text().splitlines()) for path in self.counts.iterdir()}
        return {"rc": proc.returncode, "seconds": took, "recap": recap, "executions": executions,
                "stdout": proc.stdout}

    def prepare_templates(self) -> None:
        """The hand-written playbook's templates: the role's compose files, kept literally."""
        for index in range(self.hosts):
            compose = (self.work / "projects" / ("h%d" % index) / "docker-compose.yml").read_text()
            (self.work / "templates" / ("h%d.yml.j2" % index)).write_text("{% raw %}" + compose + "{% endraw %}")


def fail(msg: str, result: Dict[str, Any]) -> None:
    sys.stderr.write("rerun.py: %s\n%s\n" % (msg, result["stdout"][-6000:]))
    sys.exit(1)


def no_change(result: Dict[str, Any], what: str, hosts: int) -> None:
    if result["rc"] != 0 or len(result["recap"]) != hosts \
            or any(r["changed"] or r["failed"] for r in result["recap"].values()):
        fail("%s: expected a run without change on %d hosts, got rc %d, recap %s"
             % (what, hosts, result["rc"], result["recap"]), result)


def cleanup(work: Path, hosts: int) -> None:
    for index in range(hosts):
        project = work / "projects" / ("h%d" % index)
        if (project / "docker-compose.yml").exists():
            subprocess.run(["docker", "compose", "--project-directory", str(project), "down", "--remove-orphans",
                            "-v"], capture_output=True, check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, action="append", help="host counts (default: 1 and 10)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the work directory and the deployments")
    parser.add_argument("--out", default="/tmp/voiceops-rerun.json")
    parser.add_argument("--registry-version", default="", help="registry generation (default: the newest)")
    args = parser.parse_args()
    global REGISTRY_VERSION
    REGISTRY_VERSION = args.registry_version
    counts = sorted(set(args.hosts or [1, 10]))
    work = Path(tempfile.mkdtemp(prefix="voiceops-rerun-"))
    bench = Bench(work, max(counts))
    report: Dict[str, Any] = {"rounds": args.rounds, "cases": {}}
    try:
        first = bench.run("role.yml", "all")
        if first["rc"] != 0:
            fail("the first run of the role failed", first)
        bench.prepare_templates()
        for hosts in counts:
            limit = ",".join("h%d" % i for i in range(hosts))
            no_change(bench.run("role.yml", limit), "role re-run (warm-up)", hosts)
            no_change(bench.run("hand.yml", limit), "hand-written re-run (warm-up)", hosts)
            times: Dict[str, List[float]] = {"role": [], "hand": []}
            executions: Dict[str, Any] = {}
            for _round in range(args.rounds):
                for name, play in (("role", "role.yml"), ("hand", "hand.yml")):
                    result = bench.run(play, limit)
                    no_change(result, name, hosts)
                    times[name].append(result["seconds"])
                    executions[name] = sorted(set(result["executions"].values()))
            case = {"role_s": statistics.median(times["role"]), "hand_s": statistics.median(times["hand"]),
                    "role_runs": times["role"], "hand_runs": times["hand"],
                    "module_executions_per_host": executions}
            case["ratio"] = case["role_s"] / case["hand_s"]
            report["cases"][str(hosts)] = case
            print("%2d host(s): role %.2f s, hand-written %.2f s, ratio %.2f; module executions per host: "
                  "role %s, hand-written %s" % (hosts, case["role_s"], case["hand_s"], case["ratio"],
                                                executions["role"], executions["hand"]), flush=True)
        # the guarantees a no-change re-run keeps (host 0)
        compose = work / "projects" / "h0" / "docker-compose.yml"
        compose.write_text(compose.read_text() + "# drift\n")
        repaired = bench.run("role.yml", "h0")
        if repaired["rc"] != 0 or repaired["recap"]["h0"]["changed"] == 0 or "# drift" in compose.read_text():
            fail("a drifted compose file was not repaired by a re-run", repaired)
        container = "%sh0-avr-core" % PREFIX
        subprocess.run(["docker", "stop", container], capture_output=True, check=True)
        restarted = bench.run("role.yml", "h0")
        state = subprocess.run(["docker", "inspect", "-f", "{{.State.Running}}", container], capture_output=True,
                               text=True, check=False).stdout.strip()
        if restarted["rc"] != 0 or state != "true":
            fail("a stopped container was not started again by a re-run (running: %r)" % state, restarted)
        report["guarantees"] = {"drifted_file_repaired": True, "stopped_container_started": True}
        print("guarantees on h0: drifted compose file rewritten, stopped container started again")
        Path(args.out).write_text(json.dumps(report, indent=1))
        print("results: %s" % args.out)
        return 0
    finally:
        if not args.keep:
            cleanup(work, max(counts))
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("kept %s" % work)


if __name__ == "__main__":
    sys.exit(main())
