#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render cost of every engine's output, per template, against the compose file as the anchor.

For every template of every generation, with provider keys, secrets and a service prefix (the golden
``full`` inputs): the median time of ``render.resolve`` (inputs checked, the deployment description built),
of each emitter on that description (``compose``, ``swarm``, ``kubernetes``, whichever this tree has), and of
the whole compose ``render()``. Ratios are emitter time / compose emitter time and (resolve + emitter) /
compose ``render()``. Pure in-process work, no Ansible, no Docker.

Run from the repository root after ``source scripts/venv.sh requirements-test.txt``::

    python benchmarks/engines.py            # 200 rounds per template
    python benchmarks/engines.py --rounds 20
"""

from __future__ import annotations

import argparse
import importlib
import os
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=200)
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
            given = inputs(registry, tpl, "full")
            row = medians_us(cases(registry, tpl, given, found), args.rounds)
            for key, value in row.items():
                totals[key] += value
            print(line([version, tid], row, names))
    print(line(["all", "sum"], totals, names))
    print("\nrounds per cell: %d; python %s" % (args.rounds, sys.version.split()[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
