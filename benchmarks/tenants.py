#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stack role's wall time for 1, 5 and 20 tenants on one host (stack_tenants), on real Docker.

For each tenant count N, in a fresh tenants' root: the first run (N tenants allocated, checked and
brought up, each through its own health gate), an unchanged re-run, and the run that adds tenant N+1
(the cost of an added tenant, with the first N unchanged). Every tenant is an ultravox deployment
(the newest generation, or --registry-version; stand-in images from the local registry of
.ci/build-images.sh) with an RTP range of --rtp-ports ports, so that many tenants' published ports stay
few. Anchor: the same N deployments through the role included in a loop with hand-picked ports,
subnets and prefixes (what a user wrote before tenants existed), unchanged re-run, as a ratio
tenants / loop (--no-anchor skips it).

    source scripts/venv.sh requirements-test.txt
    python benchmarks/tenants.py                      # 1, 5 and 20 tenants (~15 min)
    python benchmarks/tenants.py --tenants 1 --tenants 5

Checks (exit status 1 when one fails): every run succeeds, a re-run reports no change, the added
tenant changes no earlier tenant (allocation entries and container ids).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = {"sip": "24000-24199", "rtp": "24200-25999", "ami": "26000-26199", "ari": "26200-26399",
          "core": "26400-26599", "web": "26600-26799"}

TENANT_PLAY = """---
- name: Tenants on one host
  hosts: localhost
  gather_facts: false
  roles:
    - role: voiceops.avr.stack
"""

LOOP_PLAY = """---
- name: The same deployments through the role in a loop, ports chosen by hand
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Each deployment
      ansible.builtin.include_role:
        name: voiceops.avr.stack
      vars:
        stack_template: ultravox
        stack_deployment: "{{ item.name }}"
        stack_project_dir: "{{ root }}/{{ item.name }}"
        stack_service_prefix: "{{ item.name }}"
        stack_subnet: "{{ item.subnet }}"
        stack_ports: "{{ item.ports }}"
        stack_sip_port: "{{ item.sip }}"
        stack_rtp_start: "{{ item.rtp }}"
        stack_rtp_end: "{{ item.rtp + rtp_ports - 1 }}"
        stack_provider_keys: {ultravox: ux-bench-not-real}
        stack_env: {avr-sts-ultravox: {ULTRAVOX_AGENT_ID: agent-bench}}
      loop: "{{ deployments }}"
      loop_control:
        label: "{{ item.name }}"
"""


def tenant(index: int, registry_version: str, rtp_ports: int) -> Dict[str, Any]:
    return {"name": "bt%02d" % index, "template": "ultravox", "registry_version": registry_version,
            "rtp_ports": rtp_ports, "provider_keys": {"ultravox": "ux-bench-not-real-%04d" % index},
            "env": {"avr-sts-ultravox": {"ULTRAVOX_AGENT_ID": "agent-bench"}}}


def common(root: Path) -> Dict[str, Any]:
    return {"stack_image_prefix": "localhost:5000/", "stack_publish_address": "127.0.0.1",
            "stack_stability_window": 3, "stack_wait_timeout": 120,
            "ansible_python_interpreter": sys.executable, "ansible_connection": "local", "root": str(root)}


def play(work: Path, name: str, text: str, variables: Dict[str, Any]) -> Dict[str, Any]:
    path = work / name
    path.write_text(text)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_COLLECTIONS_PATH=os.environ.get("ANSIBLE_COLLECTIONS_PATH", ""))
    started = time.monotonic()
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", str(path),
                           "-e", json.dumps(variables)], capture_output=True, text=True, env=env, check=False)
    took = time.monotonic() - started
    changed = None
    for line in proc.stdout.splitlines():
        if line.startswith("localhost") and "changed=" in line:
            changed = int(line.split("changed=")[1].split()[0])
    return {"rc": proc.returncode, "seconds": took, "changed": changed, "stdout": proc.stdout}


def fail(msg: str, result: Dict[str, Any]) -> None:
    sys.stderr.write("tenants.py: %s\n%s\n" % (msg, result.get("stdout", "")[-6000:]))
    raise SystemExit(1)


def container_ids(project: Path) -> Dict[str, str]:
    out = subprocess.run(["docker", "compose", "--project-directory", str(project), "ps", "--all", "--format",
                          "{{.Name}} {{.ID}}"], capture_output=True, text=True, check=True).stdout
    return dict(line.split() for line in out.splitlines() if line.strip())


def down(root: Path) -> None:
    if not root.is_dir():
        return
    for project in root.iterdir():
        if (project / "docker-compose.yml").exists():
            subprocess.run(["docker", "compose", "--project-directory", str(project), "down", "-v",
                            "--remove-orphans"], capture_output=True, check=False)


def tenants_case(work: Path, count: int, args: argparse.Namespace) -> Dict[str, Any]:
    root = work / ("tenants-%d" % count)
    tenants = [tenant(i, args.registry_version, args.rtp_ports) for i in range(count)]
    variables = dict(common(root), stack_tenants=tenants, stack_tenants_root=str(root),
                     stack_tenants_ports=BLOCKS, stack_tenants_subnet_pool="10.214.0.0/16")
    try:
        first = play(work, "tenants.yml", TENANT_PLAY, variables)
        if first["rc"] != 0:
            fail("%d tenants: the first run failed" % count, first)
        again = play(work, "tenants.yml", TENANT_PLAY, variables)
        if again["rc"] != 0 or again["changed"] != 0:
            fail("%d tenants: the re-run changed something (changed=%s)" % (count, again["changed"]), again)
        before = json.loads((root / "tenants.json").read_text())["tenants"]
        ids = {t["name"]: container_ids(root / t["name"]) for t in tenants}
        variables["stack_tenants"] = tenants + [tenant(count, args.registry_version, args.rtp_ports)]
        added = play(work, "tenants.yml", TENANT_PLAY, variables)
        if added["rc"] != 0:
            fail("%d tenants: adding one failed" % count, added)
        after = json.loads((root / "tenants.json").read_text())["tenants"]
        if {name: after[name] for name in before} != before:
            fail("%d tenants: adding one moved an earlier tenant's allocation" % count, added)
        if {t["name"]: container_ids(root / t["name"]) for t in tenants} != ids:
            fail("%d tenants: adding one restarted an earlier tenant's containers" % count, added)
        return {"first": first["seconds"], "rerun": again["seconds"], "add_one": added["seconds"]}
    finally:
        if not args.keep:
            down(root)


def loop_case(work: Path, count: int, args: argparse.Namespace) -> Dict[str, Any]:
    root = work / ("loop-%d" % count)
    deployments = []
    for i in range(count):
        base = 27000 + i * 40
        deployments.append({"name": "bl%02d" % i, "subnet": "10.215.%d.0/24" % i, "sip": base, "rtp": base + 10,
                            "ports": {"avr-core": ["%d:5001" % (base + 1)], "avr-ami": [],
                                      "avr-asterisk": ["%d:5038" % (base + 2), "%d:%d" % (base, base),
                                                       "%d:8088" % (base + 3), "%d:8089" % (base + 4),
                                                       "%d-%d:%d-%d/udp" % (base + 10, base + 9 + args.rtp_ports,
                                                                            base + 10, base + 9 + args.rtp_ports)],
                                      "avr-phone": ["%d:80" % (base + 5)]}})
    variables = dict(common(root), deployments=deployments, rtp_ports=args.rtp_ports,
                     stack_registry_version=args.registry_version)
    try:
        first = play(work, "loop.yml", LOOP_PLAY, variables)
        if first["rc"] != 0:
            fail("loop of %d: the first run failed" % count, first)
        again = play(work, "loop.yml", LOOP_PLAY, variables)
        if again["rc"] != 0 or again["changed"] != 0:
            fail("loop of %d: the re-run changed something" % count, again)
        return {"first": first["seconds"], "rerun": again["seconds"]}
    finally:
        if not args.keep:
            down(root)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, action="append", help="tenant counts (default: 1, 5 and 20)")
    parser.add_argument("--rtp-ports", type=int, default=4, help="RTP ports per tenant (default 4)")
    parser.add_argument("--registry-version", default="2026.06")
    parser.add_argument("--no-anchor", action="store_true", help="skip the role-in-a-loop anchor")
    parser.add_argument("--keep", action="store_true", help="keep the work directory and the deployments")
    parser.add_argument("--out", default="/tmp/voiceops-tenants.json")
    args = parser.parse_args()
    counts = sorted(set(args.tenants or [1, 5, 20]))
    work = Path(tempfile.mkdtemp(prefix="voiceops-tenants-"))
    report: Dict[str, Any] = {"rtp_ports": args.rtp_ports, "registry_version": args.registry_version, "cases": {}}
    try:
        print("%8s %10s %10s %10s %12s %10s %10s" % ("tenants", "first s", "re-run s", "add one s", "first/tenant",
                                                     "loop re-run", "ratio"))
        for count in counts:
            case = tenants_case(work, count, args)
            if not args.no_anchor:
                case["loop"] = loop_case(work, count, args)
                case["rerun_ratio"] = case["rerun"] / case["loop"]["rerun"]
            report["cases"][count] = case
            print("%8d %10.1f %10.1f %10.1f %12.2f %10s %10s" % (
                count, case["first"], case["rerun"], case["add_one"], case["first"] / count,
                "%.1f" % case["loop"]["rerun"] if "loop" in case else "-",
                "%.2f" % case["rerun_ratio"] if "rerun_ratio" in case else "-"), flush=True)
        Path(args.out).write_text(json.dumps(report, indent=1))
        print("results: %s" % args.out)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
