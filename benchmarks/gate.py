#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Time from start to a verdict of the health gate (voiceops.avr.health_gate) on real Docker.

For each case, a one-service compose project runs the stand-in avr-core (``v1.1.0`` from the local
registry of ``.ci/build-images.sh``) with one fault of ``STANDIN_FAULTS`` (tests/standin/README.md);
the clock starts before ``docker compose up -d`` and stops when the module has its verdict. The
module runs as Ansible runs it on a target (its file, with the arguments as JSON), with the probe the
registry gives avr-core (TCP 5001), or a health probe where the case adds the stand-in's health check.

    source scripts/venv.sh requirements-test.txt
    python benchmarks/gate.py                 # every case, 3 rounds
    python benchmarks/gate.py --rounds 1 --case good --case exit-after

Cases: good (passes once the window is over), exit (exits at once; crash loop), exit-after (exits 3 s
after start), no-listen (never opens 5001: fails at the ready timeout), unhealthy (health check 503).
The role's figures (a rollout and a rollback of one host, a re-run without a change) come from
tests/integration/test_gate.py, which prints them (run it with ``-s``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULE = ROOT / "plugins" / "modules" / "health_gate.py"
IMAGE = "localhost:5000/agentvoiceresponse/avr-core:v1.1.0"
HEALTHCHECK = {"test": ["CMD", "python3", "-c", "import urllib.request; p = open('/run/standin.ports').read()"
                        ".split()[0]; urllib.request.urlopen('http://127.0.0.1:' + p + '/health', timeout=2)"],
               "interval": "1s", "timeout": "3s", "retries": 2}
CASES = {
    "good": ("", False),
    "exit": ("1.1.0=exit", False),
    "exit-after": ("1.1.0=exit-after:3", False),
    "no-listen": ("1.1.0=no-listen", False),
    "unhealthy": ("1.1.0=unhealthy", True),
}


def compose_file(project: str, faults: str, healthcheck: bool) -> str:
    service = {"image": IMAGE, "container_name": project + "-core", "restart": "always",
               "environment": {"PORT": "5001", "STANDIN_FAULTS": faults}, "networks": ["avr"]}
    if healthcheck:
        service["healthcheck"] = HEALTHCHECK
    return json.dumps({"name": project, "services": {"core": service},
                       "networks": {"avr": {"name": project}}}, indent=1)


def run_case(name: str, prefix: str, window: float, timeout: float, work: Path) -> dict:
    faults, healthcheck = CASES[name]
    project = "%s-%s" % (prefix, name)
    directory = work / project
    directory.mkdir(exist_ok=True)
    (directory / "docker-compose.yml").write_text(compose_file(project, faults, healthcheck))
    probes = [{"type": "health"}] if healthcheck else [{"type": "tcp", "port": 5001}]
    args = {"ANSIBLE_MODULE_ARGS": {"services": {"core": {"container": project + "-core", "network": project,
                                                          "probes": probes}},
                                    "window": window, "timeout": timeout, "log_lines": 5}}
    (directory / "args.json").write_text(json.dumps(args))
    compose = ["docker", "compose", "--project-directory", str(directory), "-p", project]
    try:
        start = time.monotonic()
        subprocess.run(compose + ["up", "-d", "--quiet-pull"], check=True, capture_output=True, timeout=120)
        up = time.monotonic() - start
        proc = subprocess.run([sys.executable, str(MODULE), str(directory / "args.json")], capture_output=True,
                              text=True, timeout=window + timeout + 60, check=False)
        verdict = time.monotonic() - start
        result = json.loads(proc.stdout)
    finally:
        subprocess.run(compose + ["down", "-v", "-t", "1"], capture_output=True, timeout=120, check=False)
    return {"case": name, "up": round(up, 2), "verdict": round(verdict, 2), "gate": result.get("elapsed"),
            "passed": result.get("passed"), "msg": result.get("msg")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--case", action="append", choices=sorted(CASES), help="run only these cases")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--window", type=float, default=12, help="stability window (the role's default: 12)")
    parser.add_argument("--timeout", type=float, default=20, help="ready timeout (the role's default: 20)")
    parser.add_argument("--prefix", default="voiceops-gatebench", help="compose project prefix")
    parser.add_argument("--out", default="/tmp/voiceops-gate-bench.json")
    opts = parser.parse_args()
    cases = opts.case or list(CASES)
    results = []
    with tempfile.TemporaryDirectory(prefix="voiceops-gate-bench.") as tmp:
        for _round in range(opts.rounds):
            for name in cases:
                res = run_case(name, opts.prefix, opts.window, opts.timeout, Path(tmp))
                results.append(res)
                print("%-11s up %5.2f s  verdict %6.2f s after start  passed=%s  %s"
                      % (name, res["up"], res["verdict"], res["passed"], (res["msg"] or "")[:110]), flush=True)
    print("\nmedian time from `docker compose up -d` to the gate's verdict (window %g s, ready timeout %g s):"
          % (opts.window, opts.timeout))
    wrong = 0
    for name in cases:
        mine = [r for r in results if r["case"] == name]
        expect = name == "good"
        wrong += sum(1 for r in mine if r["passed"] is not expect)
        median = statistics.median(r["verdict"] for r in mine)
        print("  %-11s %6.2f s  (%d rounds, verdict %s)" % (name, median, len(mine), "pass" if expect else "fail"))
    Path(opts.out).write_text(json.dumps(results, indent=1) + "\n")
    if wrong:
        print("%d verdict(s) were wrong" % wrong, file=sys.stderr)
    return 1 if wrong else 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
