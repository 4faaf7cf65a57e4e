#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render cost of every engine's output, per template, against the compose file as the anchor.

For every template of every generation, with provider keys, secrets and a service prefix (the golden
``full`` inputs, less the bind addresses Swarm refuses): the median time of ``render.resolve`` (inputs
checked, the deployment description built), of each emitter on that description (``compose``, ``swarm``,
``kubernetes``, whichever this tree has), and of the whole compose ``render()``. Ratios are emitter time /
compose emitter time. Pure in-process work, no Ansible, no Docker; no configuration files are given to the
emitters (the Asterisk files are rendered by voice_compose from Jinja templates, the same for every engine).

Part 2 (``--role``): the stack role's wall time for the same deployment (template ultravox of generation
2025.09, stand-in images from the local registry, stability window 3 s) on Docker Compose and on Docker Swarm
(a single-node swarm on this machine): first run, unchanged re-run, an update of every image (v1.0.0 ->
v1.1.0), and removal; ratio swarm / compose per step. Needs the Docker engine, the local registry and the
stand-ins of .ci/build-images.sh; makes the engine a Swarm manager if it is not one.

Run from the repository root after ``source scripts/venv.sh requirements-test.txt``::

    python benchmarks/engines.py            # 200 rounds per template
    python benchmarks/engines.py --rounds 20
    python benchmarks/engines.py --role     # part 2 as well
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import subprocess
import tempfile
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

ROOT = Path(__file__).resolve().parents[1]
COLLECTIONS = Path(os.environ.get("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".collections")).split(os.pathsep)[0])
if not (COLLECTIONS / "ansible_collections" / "voiceops" / "avr").exists():
    sys.exit("voiceops.avr is not linked under %s; run `source scripts/venv.sh requirements-test.txt` "
             "from %s first" % (COLLECTIONS, ROOT))
for path in (str(COLLECTIONS), str(ROOT / "tests" / "unit" / "plugins" / "plugin_utils")):
    if path not in sys.path:
        sys.path.insert(0, path)

from ansible_collections.voiceops.avr.plugins.module_utils.registry.generations import generations  # noqa: E402
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import builtin  # noqa: E402
from ansible_collections.voiceops.avr.plugins.plugin_utils import render as render_mod  # noqa: E402
from test_golden import inputs  # noqa: E402  (the golden files' "full" inputs)

PACKAGE = "ansible_collections.voiceops.avr.plugins.plugin_utils.emitters."


def emitters() -> Dict[str, Callable[[Any], Any]]:
    """The emitters this tree has: name -> a call on a deployment description."""
    found: Dict[str, Callable[[Any], Any]] = {}
    for name in ("compose", "swarm", "kubernetes"):
        try:
            module = importlib.import_module(PACKAGE + name)
        except ImportError:
            continue
        found[name] = module.emit
    if "swarm" in found:  # a fixed version key, as a deployment keeps one (without it each call draws one)
        swarm_emit = found["swarm"]
        found["swarm"] = lambda description: swarm_emit(description, version_key=b"benchmark-version-key-0123456789")
    return found


def medians_us(calls: Dict[str, Callable[[], Any]], rounds: int) -> Dict[str, float]:
    """Median time of each call in microseconds; the calls are interleaved round by round, so a change of the
    machine's load during the run weighs on all of them alike."""
    samples: Dict[str, List[float]] = {name: [] for name in calls}
    for _round in range(rounds):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) * 1e6 for name, values in samples.items()}


def cases(registry: Any, tpl: Any, given: Any, found: Dict[str, Callable[[Any], Any]]) -> Dict[str, Callable[[], Any]]:
    """The calls timed for one template: resolve, render(), and each emitter on one description."""
    description = render_mod.resolve(registry, tpl, given)
    calls: Dict[str, Callable[[], Any]] = {
        "resolve": lambda: render_mod.resolve(registry, tpl, given),
        "render": lambda: render_mod.render(registry, tpl, given),
    }
    for name, emit in found.items():
        calls[name] = lambda emit=emit: emit(description)
    return calls


def line(first: List[str], row: Dict[str, float], names: List[str]) -> str:
    cells = first + ["%.0f" % row["resolve"], "%.0f" % row["render"]] + ["%.0f" % row[n] for n in names]
    cells += ["%.2f" % (row[n] / row["compose"]) for n in names if n != "compose"]
    return "| " + " | ".join(cells) + " |"


ROLE_PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  roles:
    - role: voiceops.avr.stack
"""


def role_variables(engine: str, project: str, tag: str, **extra: Any) -> Dict[str, Any]:
    deployment = "bench-%s" % engine
    values = {
        "stack_template": "ultravox", "stack_registry_version": "2025.09", "stack_deployment": deployment,
        "stack_engine": engine, "stack_project_dir": project, "stack_service_prefix": deployment,
        "stack_provider_keys": {"ultravox": "bench-not-a-key"}, "stack_image_prefix": "localhost:5000/",
        "stack_tag": tag, "stack_tag_environment": "prod",
        "stack_subnet": "10.233.0.0/24" if engine == "swarm" else "10.234.0.0/24",
        "stack_ports": {"avr-core": ["%d:5001" % (25501 if engine == "swarm" else 25601)],
                        "avr-asterisk": ["%d:5060" % (25560 if engine == "swarm" else 25660)], "avr-ami": []},
        "stack_management_address": "", "stack_stability_window": 3, "stack_wait_timeout": 120,
        "stack_env": {"avr-sts-ultravox": {"ULTRAVOX_AGENT_ID": "bench"}},
    }
    values.update(extra)
    return values


def role_run(folder: str, variables: Dict[str, Any]) -> float:
    play = os.path.join(folder, "play.yml")
    with open(play, "w", encoding="utf-8") as handle:
        handle.write(ROLE_PLAY)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    environ.update(ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0")
    start = time.perf_counter()
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", play,
                           "-e", json.dumps(variables)], capture_output=True, text=True, env=environ, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit("the role failed (%s):\n%s" % (variables["stack_engine"], proc.stdout[-3000:]))
    return elapsed


def role_part() -> None:
    state = subprocess.run(["docker", "info", "--format", "{{.Swarm.LocalNodeState}}"], capture_output=True,
                           text=True, check=False).stdout.strip()
    if state != "active":
        subprocess.run(["docker", "swarm", "init", "--advertise-addr", "127.0.0.1"], capture_output=True, check=False)
    steps = [("first run", "v1.0.0", {}), ("unchanged re-run", "v1.0.0", {}), ("update v1.1.0", "v1.1.0", {}),
             ("remove", "v1.1.0", {"stack_state": "absent"})]
    times: Dict[str, Dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="voiceops-bench-engines-") as folder:
        for step, tag, extra in steps:  # the engines one after the other at each step: both see the same load
            for engine in ("compose", "swarm"):
                project = os.path.join(folder, engine)
                times.setdefault(step, {})[engine] = role_run(folder, role_variables(engine, project, tag, **extra))
    print("\n| step | compose s | swarm s | swarm/compose |")
    print("|---|---|---|---|")
    for step, _tag, _extra in steps:
        row = times[step]
        print("| %s | %.1f | %.1f | %.2f |" % (step, row["compose"], row["swarm"], row["swarm"] / row["compose"]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--role", action="store_true", help="also time the role on compose and on swarm")
    args = parser.parse_args()
    found = emitters()
    names = list(found)
    header = ["generation", "template", "resolve us", "render() us"] + ["%s us" % n for n in names] \
        + ["%s/compose" % n for n in names if n != "compose"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    totals: Dict[str, float] = {name: 0.0 for name in names + ["resolve", "render"]}
    for version in sorted(generations()):
        registry = builtin(version)
        for tid in sorted(registry.templates):
            tpl = registry.templates[tid]
            # the golden "full" inputs without bind addresses, which Swarm cannot honour (it refuses them)
            given = dataclasses.replace(inputs(registry, tpl, "full"), publish_address=None, management_address=None)
            row = medians_us(cases(registry, tpl, given, found), args.rounds)
            for key, value in row.items():
                totals[key] += value
            print(line([version, tid], row, names))
    print(line(["all", "sum"], totals, names))
    print("\nrounds per cell: %d; python %s" % (args.rounds, sys.version.split()[0]))
    if args.role:
        role_part()
    return 0


if __name__ == "__main__":
    sys.exit(main())
