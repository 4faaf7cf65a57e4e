#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmarks of voiceops.avr: in-process rendering and Ansible wall time, side by side in one run.

Part 1 (render): ``render()`` of every registry template with provider keys, secrets and a task
``env`` override, on the default registry; stacks/s per template and overall, with a warm Plan
cache and with a fresh one (cache cleared before every render); plus a cross-check that the
emitted text parses with PyYAML ``yaml.safe_load`` back to exactly the document data.

Part 2 (ansible): wall time of ``ansible-playbook`` over N local hosts (``ansible_connection=local``,
one project dir per host under a temp dir), case A = one ``voiceops.avr.voice_compose`` task,
case B = one ``ansible.builtin.template`` task writing the byte-identical compose file, case C =
one ``ansible.builtin.debug`` task (no module: the fork/play floor). First run on fresh dirs and
unchanged re-run, paired A B (C) per round; module executions per host counted from ``-vvv``
EXEC lines and, independently, from a logging interpreter wrapper.

Run from the repository root after ``source scripts/venv.sh requirements-test.txt``::

    python benchmarks/bench.py            # full run (50 hosts, 5 rounds)
    python benchmarks/bench.py --quick    # smoke run (10 hosts, 1 round, short render budget)
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[1]
COLLECTIONS = Path(os.environ.get("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".collections")).split(os.pathsep)[0])
if not (COLLECTIONS / "ansible_collections" / "voiceops" / "avr").exists():
    sys.exit("voiceops.avr is not linked under %s; run `source scripts/venv.sh requirements-test.txt` "
             "from %s first" % (COLLECTIONS, ROOT))
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

import yaml  # noqa: E402

from ansible_collections.voiceops.avr.plugins.module_utils.registry.catalog import effective_registry  # noqa: E402
from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import Template  # noqa: E402
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import Registry  # noqa: E402
from ansible_collections.voiceops.avr.plugins.plugin_utils import render as render_mod  # noqa: E402
from ansible_collections.voiceops.avr.plugins.plugin_utils import yaml_emit  # noqa: E402

PYTHON = sys.executable
ANSIBLE_PLAYBOOK = str(Path(PYTHON).parent / "ansible-playbook")
BENCH_TEMPLATE = "openai"
#: the registry generation rendered (--registry-version; None: the newest, named in no task)
REGISTRY_VERSION: Optional[str] = None
GOOGLE_JSON = ('{\n  "type": "service_account",\n  "project_id": "bench",\n'
               '  "private_key": "-----BEGIN KEY-----\\nabc\\n"\n}\n')


# ------------------------------------------------------------------------------------------
# inputs
# ------------------------------------------------------------------------------------------

def inputs_for(registry: Registry, tpl: Template) -> Dict[str, Any]:
    """Provider keys, secrets and one env override that make ``tpl`` render with allow_missing=False."""
    keys: Dict[str, str] = {}
    secrets: Dict[str, str] = {}
    env: Dict[str, Dict[str, str]] = {}
    for img in tpl.images:
        for var in img.env:
            if var.provider and var.provider in registry.providers:
                prov = registry.providers[var.provider]
                if prov.needs_key and (prov.env or prov.file):
                    keys[var.provider] = GOOGLE_JSON if prov.file else "sk-bench-%s-0123456789abcdef" % var.provider
            if var.secret_name and not var.provider:
                secrets[var.secret_name] = "bench-%s-s3cret$1" % var.secret_name.lower()
    defaults = render_mod.plan(registry, tpl).defaults
    for img in tpl.images:  # required values that nothing supplies: set them through env
        for var in img.env:
            if var.required and not var.secret and not var.provider and var.name not in defaults[img.service_name]:
                env.setdefault(img.service_name, {})[var.name] = "https://bench.example/%s" % var.name.lower()
    for img in tpl.images:  # and one override of a default, with characters that need quoting/escaping
        plain = [v for v in img.env if not v.secret and not v.provider]
        if plain:
            env.setdefault(img.service_name, {})[plain[-1].name] = "bench override: it's #1 ${HOME} \"q\""
            break
    return {"provider_keys": keys, "secrets": secrets, "env": env}


def render_stack(registry: Registry, tpl: Template, inp: Dict[str, Any]) -> Any:
    return render_mod.render(registry, tpl, render_mod.Inputs(
        tpl.id, provider_keys=inp["provider_keys"], secrets=inp["secrets"], env=inp["env"]))


# ------------------------------------------------------------------------------------------
# part 1: in-process rendering
# ------------------------------------------------------------------------------------------

def _rate(fn: Any, budget: float, repeats: int = 3) -> float:
    """Median calls/s of ``fn`` over ``repeats`` slices of ``budget / repeats`` seconds each."""
    rates = []
    for _repeat in range(repeats):
        n = 0
        end = time.perf_counter() + budget / repeats
        start = time.perf_counter()
        while True:
            for _call in range(10):
                fn()
            n += 10
            now = time.perf_counter()
            if now >= end:
                break
        rates.append(n / (now - start))
    return statistics.median(rates)


def roundtrip_check(registry: Registry, tpl: Template, rendered: Any) -> Dict[str, Any]:
    """Our text, parsed by PyYAML safe_load, gives back exactly the document (values, types, order)."""
    parsed = yaml.safe_load(rendered.content)
    header = render_mod.HEADER.format(deployment=tpl.id, template=tpl.id, generation=registry.generation,
                                      digest=registry.digest)
    equal = parsed == rendered.document
    ordered = json.dumps(parsed) == json.dumps(rendered.document)
    reemitted = yaml_emit.dump(parsed, header) == rendered.content
    return {"equal": equal, "order_equal": ordered, "reemit_identical": reemitted,
            "ok": equal and ordered and reemitted}


def bench_render(budget: float) -> Dict[str, Any]:
    registry = effective_registry(None, REGISTRY_VERSION)
    registry.digest  # noqa: B018 - computed once per process, as in a worker after the first task
    templates = [registry.templates[t] for t in registry.templates]
    cases = []
    for tpl in templates:
        inp = inputs_for(registry, tpl)
        rendered = render_stack(registry, tpl, inp)
        check = roundtrip_check(registry, tpl, rendered)

        def warm(tpl: Template = tpl, inp: Dict[str, Any] = inp) -> None:  # pylint: disable=dangerous-default-value
            render_stack(registry, tpl, inp)

        def cold(tpl: Template = tpl, inp: Dict[str, Any] = inp) -> None:  # pylint: disable=dangerous-default-value
            render_mod._PLANS.clear()
            render_stack(registry, tpl, inp)

        per = budget / (2 * len(templates) + 2)
        cases.append({
            "template": tpl.id, "services": len(rendered.document["services"]), "bytes": len(rendered.content),
            "provider_keys": sorted(inp["provider_keys"]), "secrets": sorted(inp["secrets"]),
            "env_override": {s: sorted(v) for s, v in inp["env"].items()},
            "warm_stacks_per_s": _rate(warm, per), "cold_stacks_per_s": _rate(cold, per), **check,
        })
    pairs = [(registry.templates[c["template"]], inputs_for(registry, registry.templates[c["template"]]))
             for c in cases]

    def all_warm() -> None:
        for tpl, inp in pairs:
            render_stack(registry, tpl, inp)

    def all_cold() -> None:
        for tpl, inp in pairs:
            render_mod._PLANS.clear()
            render_stack(registry, tpl, inp)

    per = budget / (2 * len(templates) + 2)
    overall_warm = _rate(all_warm, per) * len(pairs)
    overall_cold = _rate(all_cold, per) * len(pairs)
    # Context: PyYAML's own dumpers on the same document (what the custom emitter replaces).
    tpl0 = registry.templates[BENCH_TEMPLATE]
    doc = render_stack(registry, tpl0, inputs_for(registry, tpl0)).document
    dumpers = {"yaml_emit.dump": _rate(lambda: yaml_emit.dump(doc, "x"), 0.3),
               "yaml.safe_dump (pure Python)": _rate(lambda: yaml.dump(doc, Dumper=yaml.SafeDumper,
                                                                       sort_keys=False), 0.3)}
    if getattr(yaml, "CSafeDumper", None) is not None:
        dumpers["yaml.CSafeDumper (libyaml)"] = _rate(
            lambda: yaml.dump(doc, Dumper=yaml.CSafeDumper, sort_keys=False), 0.3)
    return {"templates": cases, "overall_warm_stacks_per_s": overall_warm,
            "overall_cold_stacks_per_s": overall_cold, "all_roundtrip_ok": all(c["ok"] for c in cases),
            "emitter_docs_per_s_openai": dumpers, "goal_stacks_per_s": 1000,
            "goal_met": min(overall_warm, overall_cold) >= 1000}


# ------------------------------------------------------------------------------------------
# part 2: Ansible wall time
# ------------------------------------------------------------------------------------------

PLAY_HEAD = """---
- name: bench {case}
  hosts: bench
  gather_facts: false
  tasks:
"""
TASKS = {
    "A": """    - name: voice_compose
      voiceops.avr.voice_compose:
        template: {template}
        project_dir: "{{{{ bench_root }}}}/{{{{ inventory_hostname }}}}"
        provider_keys: "{{{{ bench_provider_keys }}}}"
        allow_missing: false{version}
""",
    "B": """    - name: template
      ansible.builtin.template:
        src: "{src}"
        dest: "{{{{ bench_root }}}}/{{{{ inventory_hostname }}}}/docker-compose.yml"
        mode: "0600"
""",
    "C": """    - name: debug (no module)
      ansible.builtin.debug:
        msg: "{{{{ inventory_hostname }}}}"
""",
}
CASE_NAMES = {"A": "voiceops.avr.voice_compose", "B": "ansible.builtin.template", "C": "ansible.builtin.debug"}
RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


class AnsibleBench:
    def __init__(self, hosts: int, forks: int, work: Path):
        self.hosts = hosts
        self.forks = forks
        self.work = work
        self.runs = work / "runs"
        self.runs.mkdir(parents=True)
        registry = effective_registry(None, REGISTRY_VERSION)
        tpl = registry.templates[BENCH_TEMPLATE]
        self.inputs = inputs_for(registry, tpl)
        self.keys = self.inputs["provider_keys"]
        # Case B's source: the exact compose text voice_compose writes (same template, deployment, keys).
        self.content = render_mod.render(registry, tpl, render_mod.Inputs(tpl.id, provider_keys=self.keys)).content
        self.sha1 = hashlib.sha1(self.content.encode("utf-8")).hexdigest()
        text = self.content
        if any(tok in text for tok in ("{{", "{%", "{#")):
            text = "{% raw %}" + text + "{% endraw %}"
        (work / "compose.j2").write_text(text, encoding="utf-8")
        self.wrapper = work / "python-logged"
        self.exec_log = work / "interpreter.log"
        self.wrapper.write_text('#!/bin/sh\necho "$@" >> %s\nexec %s "$@"\n' % (self.exec_log, PYTHON))
        self.wrapper.chmod(0o755)
        self._write_inventory(work / "inventory.yml", PYTHON)
        self._write_inventory(work / "inventory-logged.yml", str(self.wrapper))
        (work / "ansible.cfg").write_text(
            "[defaults]\nforks = %d\nstrategy = linear\nhost_key_checking = false\nretry_files_enabled = false\n"
            "stdout_callback = default\ninterpreter_python = %s\nnocolor = true\n"
            "[connection]\npipelining = false\n" % (forks, PYTHON))
        for case, task in TASKS.items():
            version = "\n        registry_version: \"%s\"" % REGISTRY_VERSION if REGISTRY_VERSION else ""
            body = PLAY_HEAD.format(case=CASE_NAMES[case]) + task.format(template=BENCH_TEMPLATE, version=version,
                                                                         src=work / "compose.j2")
            (work / ("play-%s.yml" % case)).write_text(body, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
        env.update({"ANSIBLE_CONFIG": str(work / "ansible.cfg"), "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
                    "ANSIBLE_NOCOLOR": "1", "PYTHONHASHSEED": env.get("PYTHONHASHSEED", "0")})
        self.env = env
        self.counter = 0

    def _write_inventory(self, path: Path, interpreter: str) -> None:
        data = {"bench": {"hosts": {"host%d" % i: None for i in range(self.hosts)},
                          "vars": {"ansible_connection": "local", "ansible_python_interpreter": interpreter,
                                   "bench_provider_keys": self.keys}}}
        path.write_text(json.dumps(data, indent=1), encoding="utf-8")

    def fresh_root(self, case: str) -> Path:
        self.counter += 1
        root = self.runs / ("%s-%03d" % (case, self.counter))
        for i in range(self.hosts):
            (root / ("host%d" % i)).mkdir(parents=True)
        return root

    def run(self, case: str, root: Path, verbose: bool = False,
            logged: bool = False) -> Tuple[float, str, Dict[str, int]]:
        inventory = self.work / ("inventory-logged.yml" if logged else "inventory.yml")
        cmd = [ANSIBLE_PLAYBOOK, "-i", str(inventory), str(self.work / ("play-%s.yml" % case)),
               "-e", "bench_root=%s" % root]
        if verbose:
            cmd.append("-vvv")
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=self.env, cwd=str(self.work), capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
        recap = {"ok": 0, "changed": 0, "unreachable": 0, "failed": 0, "hosts": 0}
        for m in RECAP.finditer(proc.stdout):
            recap["hosts"] += 1
            for key, group in (("ok", 2), ("changed", 3), ("unreachable", 4), ("failed", 5)):
                recap[key] += int(m.group(group))
        if proc.returncode != 0 or recap["hosts"] != self.hosts or recap["failed"] or recap["unreachable"]:
            sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
            raise SystemExit("ansible-playbook failed for case %s (rc=%d): %s" % (case, proc.returncode, " ".join(cmd)))
        return elapsed, proc.stdout, recap

    def file_ok(self, root: Path) -> bool:
        files = [root / ("host%d" % i) / "docker-compose.yml" for i in range(self.hosts)]
        return all(f.is_file() and hashlib.sha1(f.read_bytes()).hexdigest() == self.sha1
                   and (f.stat().st_mode & 0o777) == 0o600 for f in files)

    def count_modules(self, case: str) -> Dict[str, Any]:
        """Module executions per host, first run and re-run, from -vvv EXEC lines and the wrapper log."""
        out: Dict[str, Any] = {}
        root = self.fresh_root(case + "count")
        for phase in ("first", "rerun"):
            if self.exec_log.exists():
                self.exec_log.unlink()
            _t, stdout, recap = self.run(case, root, verbose=True, logged=True)
            per_host: Dict[str, collections.Counter] = {"host%d" % i: collections.Counter() for i in range(self.hosts)}
            exec_re = re.compile(r"^<(host\d+)> EXEC .*?%s\s+\S*AnsiballZ_(\w+)\.py"
                                 % re.escape(str(self.wrapper)), re.M)
            for m in exec_re.finditer(stdout):
                per_host[m.group(1)][m.group(2)] += 1
            counts = sorted(sum(c.values()) for c in per_host.values())
            modules = collections.Counter()
            for c in per_host.values():
                modules.update(c)
            logged = self.exec_log.read_text().splitlines() if self.exec_log.exists() else []
            logged_modules = collections.Counter(m.group(1) for line in logged
                                                 for m in [re.search(r"AnsiballZ_(\w+)\.py", line)] if m)
            out[phase] = {"per_host_min": counts[0], "per_host_max": counts[-1],
                          "modules_total_vvv": dict(modules), "modules_total_wrapper": dict(logged_modules),
                          "wrapper_launches": len(logged), "wrapper_per_host": len(logged) / self.hosts,
                          "changed": recap["changed"]}
        return out


def _paired(a: List[float], b: List[float]) -> float:
    """Median of the per-round ratios a[i] / b[i]."""
    return statistics.median(x / y for x, y in zip(a, b, strict=True))


def bench_ansible(hosts: int, forks: int, pairs: int, baseline: bool, keep: bool) -> Dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="voiceops-bench-"))
    try:
        ab = AnsibleBench(hosts, forks, work)
        # Warm-up (untimed): page cache, .pyc of ansible-core, ~/.ansible dirs.
        ab.run("A", ab.fresh_root("warmA"))
        ab.run("B", ab.fresh_root("warmB"))
        samples: Dict[str, List[float]] = {"A_first": [], "A_rerun": [], "B_first": [], "B_rerun": [], "C": []}
        checks: List[Dict[str, Any]] = []
        for i in range(pairs):
            for case in ("A", "B"):
                root = ab.fresh_root(case)
                t1, _o, r1 = ab.run(case, root)
                t2, _o, r2 = ab.run(case, root)
                samples[case + "_first"].append(t1)
                samples[case + "_rerun"].append(t2)
                checks.append({"round": i, "case": case, "first_changed": r1["changed"],
                               "rerun_changed": r2["changed"], "files_identical": ab.file_ok(root)})
                print("  round %d case %s: first %.2fs (changed=%d)  re-run %.2fs (changed=%d)"
                      % (i + 1, case, t1, r1["changed"], t2, r2["changed"]), flush=True)
            if baseline:
                t, _o, _r = ab.run("C", ab.fresh_root("C"))
                samples["C"].append(t)
                print("  round %d case C: %.2fs" % (i + 1, t), flush=True)
        counts = {case: ab.count_modules(case) for case in ("A", "B")}
        med = {k: statistics.median(v) for k, v in samples.items() if v}
        result: Dict[str, Any] = {
            "hosts": hosts, "forks": forks, "strategy": "linear (default)", "pipelining": False,
            "connection": "local", "interpreter": PYTHON, "pairs": pairs, "template": BENCH_TEMPLATE,
            "provider_keys": sorted(ab.keys), "compose_bytes": len(ab.content), "compose_sha1": ab.sha1,
            "samples_s": samples, "median_s": med,
            "ratio_first": med["A_first"] / med["B_first"], "ratio_rerun": med["A_rerun"] / med["B_rerun"],
            "paired_ratio_first_median": _paired(samples["A_first"], samples["B_first"]),
            "paired_ratio_rerun_median": _paired(samples["A_rerun"], samples["B_rerun"]),
            "checks": checks, "module_executions": counts,
            "all_checks_ok": all(c["first_changed"] == hosts and c["rerun_changed"] == 0 and c["files_identical"]
                                 for c in checks),
            "workdir": str(work) if keep else None,
        }
        if "C" in med:
            result["wall_ms_per_host_above_floor"] = {
                k: (med[k] - med["C"]) * 1000.0 / hosts for k in ("A_first", "A_rerun", "B_first", "B_rerun")}
        result["goal_met"] = result["ratio_first"] <= 1.0 and result["ratio_rerun"] <= 1.0
        return result
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


# ------------------------------------------------------------------------------------------
# report
# ------------------------------------------------------------------------------------------

def print_report(res: Dict[str, Any]) -> None:
    r = res.get("render")
    if r:
        print("\n== In-process render (default registry, provider keys + secrets + env override) ==")
        print("%-16s %4s %6s %12s %12s  %s"
              % ("template", "svcs", "bytes", "warm st/s", "fresh st/s", "safe_load round trip"))
        for c in r["templates"]:
            print("%-16s %4d %6d %12.0f %12.0f  %s" % (c["template"], c["services"], c["bytes"], c["warm_stacks_per_s"],
                                                       c["cold_stacks_per_s"],
                                                       "identical" if c["ok"] else "MISMATCH %s" % c))
        print("%-16s %4s %6s %12.0f %12.0f  %s" % ("OVERALL", "", "", r["overall_warm_stacks_per_s"],
                                                   r["overall_cold_stacks_per_s"],
                                                   "all identical" if r["all_roundtrip_ok"] else "MISMATCHES"))
        print("goal >= %d stacks/s: %s" % (r["goal_stacks_per_s"], "met" if r["goal_met"] else "NOT met"))
        print("emitters on the openai document (docs/s): " + ", ".join(
            "%s %.0f" % kv for kv in r["emitter_docs_per_s_openai"].items()))
    a = res.get("ansible")
    if a:
        m = a["median_s"]
        print("\n== Ansible wall time: %d local hosts, forks %d, strategy linear, pipelining off, %d pairs ==" % (
            a["hosts"], a["forks"], a["pairs"]))
        print("%-10s %-12s %-12s %-10s %-14s" % ("phase", "A compose s", "B template s", "A/B", "paired A/B med"))
        row = "%-10s %-12.2f %-12.2f %-10.2f %-14.2f"
        print(row % ("first", m["A_first"], m["B_first"], a["ratio_first"], a["paired_ratio_first_median"]))
        print(row % ("re-run", m["A_rerun"], m["B_rerun"], a["ratio_rerun"], a["paired_ratio_rerun_median"]))
        if "C" in m:
            print("floor (debug task, no module): %.2fs; wall ms per host above floor: %s" % (
                m["C"], ", ".join("%s %.0f" % kv for kv in a["wall_ms_per_host_above_floor"].items())))
        for case, phases in a["module_executions"].items():
            print("module executions/host, %s (%s): " % (case, CASE_NAMES[case]) + "; ".join(
                "%s %s (wrapper %.1f) %s" % (ph, d["per_host_min"] if d["per_host_min"] == d["per_host_max"]
                                             else "%d-%d" % (d["per_host_min"], d["per_host_max"]),
                                             d["wrapper_per_host"], d["modules_total_vvv"])
                for ph, d in phases.items()))
        print("checks (first run changed all hosts, re-run changed none, files byte-identical, mode 0600): %s"
              % ("ok" if a["all_checks_ok"] else "FAILED %s" % a["checks"]))
        print("goal A/B <= 1.0 on both: %s" % ("met" if a["goal_met"] else "NOT met"))


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: 10 hosts, 1 pair, 2 s render budget")
    ap.add_argument("--hosts", type=int, help="number of local hosts (default 50, quick 10)")
    ap.add_argument("--pairs", type=int, help="A/B rounds (default 5, quick 1)")
    ap.add_argument("--forks", type=int, default=5)
    ap.add_argument("--render-seconds", type=float, help="time budget of part 1 (default 15, quick 2)")
    ap.add_argument("--no-baseline", action="store_true", help="skip case C (debug task) per round")
    ap.add_argument("--skip-render", action="store_true")
    ap.add_argument("--skip-ansible", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the temp work dir (inventory, playbooks, outputs)")
    ap.add_argument("--out", default="/tmp/voiceops-bench.json", help="JSON results path")
    ap.add_argument("--registry-version", help="registry generation to render (default: the newest; named in "
                    "voice_compose's task as registry_version)")
    args = ap.parse_args(argv)
    global REGISTRY_VERSION
    REGISTRY_VERSION = args.registry_version
    hosts = args.hosts or (10 if args.quick else 50)
    pairs = args.pairs or (1 if args.quick else 5)
    budget = args.render_seconds or (2.0 if args.quick else 15.0)

    import ansible  # noqa: E402 - version only
    res: Dict[str, Any] = {
        "command": " ".join([os.path.relpath(PYTHON) if PYTHON.startswith(str(ROOT)) else PYTHON] + sys.argv),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": platform.python_version(), "ansible_core": ansible.__version__, "cpus": os.cpu_count(),
        "libyaml": bool(getattr(yaml, "__with_libyaml__", False)), "pyyaml": yaml.__version__,
        "loadavg_start": os.getloadavg(),
    }
    if not args.skip_render:
        print("part 1: rendering (%.0f s budget) ..." % budget, flush=True)
        res["render"] = bench_render(budget)
    if not args.skip_ansible:
        print("part 2: ansible, %d hosts, forks %d, %d pairs ..." % (hosts, args.forks, pairs), flush=True)
        res["ansible"] = bench_ansible(hosts, args.forks, pairs, not args.no_baseline, args.keep)
    res["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    res["loadavg_end"] = os.getloadavg()
    print_report(res)
    print("load average (1/5/15 min) at start %s, at end %s on %s CPUs: other work on the machine inflates "
          "absolute times; compare the ratios" % ("/".join("%.1f" % x for x in res["loadavg_start"]),
                                                  "/".join("%.1f" % x for x in res["loadavg_end"]), res["cpus"]))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    print("\nresults written to %s" % args.out)
    ok = res.get("render", {}).get("all_roundtrip_ok", True) and res.get("ansible", {}).get("all_checks_ok", True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
