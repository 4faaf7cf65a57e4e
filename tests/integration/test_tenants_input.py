"""Bad stack_tenants input through the real role: one clear failure, nothing written or removed anywhere.

Classes: a name that is a path (also for a tenant being removed with purge: the folder it names must
survive), a name Docker would refuse, a name given twice, a key the role does not know, a tenant without
a name, a missing required value of one tenant among good ones, a bad RTP size, overlapping port blocks.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
from ansible_env import run_playbook

PLAYBOOK = """---
- name: Tenants
  hosts: localhost
  gather_facts: false
  roles:
    - role: voiceops.avr.stack
"""
GOOD = {"name": "fine", "template": "ultravox", "provider_keys": {"ultravox": "ux-input-not-real-0001"},
        "env": {"avr-sts-ultravox": {"ULTRAVOX_AGENT_ID": "agent"}}}


def tree(root: Path) -> Dict[str, Tuple[int, int, float]]:
    return {str(p.relative_to(root)): (p.lstat().st_size, p.lstat().st_mode, p.lstat().st_mtime)
            for p in sorted(root.rglob("*"))}


def run(tmp: Path, collections_path: Path, tenants: Any, *args: str,
        **extra: Any) -> "subprocess.CompletedProcess[str]":
    variables = dict({"stack_tenants": tenants, "stack_tenants_root": str(tmp / "root" / "tenants"),
                      "stack_run": False, "ansible_python_interpreter": sys.executable,
                      "ansible_connection": "local"}, **extra)
    return run_playbook(tmp, collections_path, PLAYBOOK, variables, *args, timeout=300)


OVERLAPPING = {"sip": "5060-5100", "rtp": "5090-5200", "ami": "15038-15040", "ari": "18088-18090",
               "core": "16001-16003", "web": "8080-8090"}
CASES: List[Tuple[str, Any, Dict[str, Any], str]] = [
    ("path name", [GOOD, dict(GOOD, name="../victim")], {}, r"\.\./victim"),
    ("path name, removed with purge", [GOOD, {"name": "../victim", "state": "absent", "purge": True}], {},
     r"\.\./victim"),
    ("upper case", [dict(GOOD, name="Sales")], {}, r"'Sales'"),
    ("twice", [GOOD, dict(GOOD)], {}, r"fine"),
    ("unknown key", [dict(GOOD, templte="openai")], {}, r"templte"),
    ("no name", [{"template": "ultravox"}], {}, r"name"),
    ("missing value", [GOOD, dict(GOOD, name="other", env={})], {}, r"tenant other: .*ULTRAVOX_AGENT_ID"),
    ("rtp size", [dict(GOOD, rtp_ports=0)], {}, r"rtp_ports: 0"),
    ("blocks overlap", [GOOD], {"stack_tenants_ports": OVERLAPPING}, r"sip.*rtp|rtp.*sip"),
]


@pytest.mark.parametrize("case, tenants, extra, message", CASES, ids=[c[0] for c in CASES])
def test_bad_tenants_fail_and_touch_nothing(tmp_path: Path, collections_path: Path, case: str, tenants: Any,
                                            extra: Dict[str, Any], message: str) -> None:
    root = tmp_path / "root"
    (root / "victim").mkdir(parents=True)
    (root / "victim" / "keep.txt").write_text("precious\n")
    (root / "tenants").mkdir()
    before = tree(root)
    proc = run(tmp_path, collections_path, tenants, **extra)
    assert proc.returncode != 0, proc.stdout[-4000:]
    # the run's failure is its last one (a tenant's check that failed is shown, rescued, before it)
    failures = [line for line in proc.stdout.splitlines() if line.startswith("fatal:")]
    assert failures, proc.stdout[-4000:]
    assert re.search(message, failures[-1]), failures[-1]
    assert tree(root) == before, "a bad tenants list changed the host"
    assert "ux-input-not-real-0001" not in proc.stdout + proc.stderr


def test_check_mode_writes_nothing_and_shows_the_allocation(tmp_path: Path, collections_path: Path) -> None:
    root = tmp_path / "root"
    (root / "tenants").mkdir(parents=True)
    before = tree(root)
    proc = run(tmp_path, collections_path, [GOOD, dict(GOOD, name="second")], "--check", "--diff")
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert tree(root) == before
    # the diff shows the allocation tenants.json would get, and no key
    assert '"second"' in proc.stdout and '"subnet"' in proc.stdout
    assert "ux-input-not-real-0001" not in proc.stdout + proc.stderr
