"""Hostile runs: 8 voice_env runs on one project at once; runs killed (SIGKILL) at random moments."""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import random
import shutil
import select
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml

from harness import (KEYS, LLM, MARKERS, Ansible, Case, Outcome, hold, mode_of, readable_files, snapshot, task)

#: (service, variable) pairs of the openai store: one per concurrent run.
PAIRS = [("avr-core", "SYSTEM_MESSAGE"), ("avr-core", "INTERRUPT_LISTENING"),
         ("avr-asr-deepgram", "SPEECH_RECOGNITION_LANGUAGE"), ("avr-asr-deepgram", "SPEECH_RECOGNITION_MODEL"),
         (LLM, "OPENAI_MODEL"), (LLM, "OPENAI_MAX_TOKENS"), (LLM, "OPENAI_TEMPERATURE"), (LLM, "SYSTEM_PROMPT")]


def _store(project: Path) -> Dict[str, Dict[str, str]]:
    return dict(json.loads((project / "environment.json").read_text())["services"])


def _concurrent_round(ansible: Ansible, project: Path, tag: str, separate: bool) -> List[str]:
    """8 voice_env runs at once, each setting its own variable; the problems seen afterwards."""
    values = {pair: "%s-%s-%d" % (tag, pair[1].lower(), i) for i, pair in enumerate(PAIRS)}
    problems: List[str] = []
    if separate:   # 8 ansible-playbook processes
        procs = [ansible.start([task("voice_env", {"project_dir": str(project), "template": "openai",
                                                   "set": {svc: {var: value}}}, "set %s" % var)])
                 for (svc, var), value in values.items()]
        for proc, _argv, _log in procs:
            out, err = proc.communicate(timeout=300)
            if proc.returncode != 0:
                problems.append("a concurrent run failed: %s" % (out[-600:] + err[-300:]))
    else:          # one play, 8 hosts, 8 forks: 8 voice_env tasks at the same moment
        hosts = {"h%d" % i: {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                             "case_set": {svc: {var: value}}}
                 for i, ((svc, var), value) in enumerate(values.items())}
        inventory = ansible.base / ("%s-inventory.yml" % tag)
        inventory.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
        playbook = ansible.base / ("%s.yml" % tag)
        playbook.write_text(yaml.safe_dump([{"name": "eight at once", "hosts": "all", "gather_facts": False,
                                             "tasks": [{"name": "set", "voiceops.avr.voice_env": {
                                                 "project_dir": str(project), "template": "openai",
                                                 "set": "{{ case_set }}"}}]}]))
        env = ansible.environ(ansible.base / ("%s.log" % tag), "ansible.posix.json")
        env["ANSIBLE_FORKS"] = "8"
        proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory),
                               str(playbook)], env=env, capture_output=True, text=True, timeout=300, check=False)
        if proc.returncode != 0:
            problems.append("a concurrent run failed: %s" % (proc.stdout[-800:] + proc.stderr[-300:]))
    store = _store(project)
    lost = ["%s.%s" % pair for pair, value in values.items() if store.get(pair[0], {}).get(pair[1]) != value]
    if lost:
        problems.append("%d of 8 updates lost: %s" % (len(lost), ", ".join(lost)))
    left = [p.name for p in project.iterdir() if p.name not in ("docker-compose.yml", "environment.json")]
    if left:
        problems.append("files left behind: %s" % sorted(left))
    return problems


def test_concurrent_voice_env(ansible: Ansible, seeded: Path, tmp_path: Path) -> None:
    began = time.monotonic()
    outcomes = []
    for index, separate in enumerate((False, False, True)):
        project = tmp_path / ("project%d" % index)
        shutil.copytree(seeded, project, symlinks=True)
        label = "8 ansible-playbook processes" if separate else "8 forks of one play"
        outcome = Outcome(Case("8 voice_env runs at once (%s, round %d)" % (label, index), "voice_env", {}))
        outcome.problems = _concurrent_round(ansible, project, "round%d" % index, separate)
        outcomes.append(outcome)
    hold("concurrency", outcomes, time.monotonic() - began)


# -- kills ------------------------------------------------------------------------------------------------

KILLS = int(os.environ.get("VOICEOPS_HOSTILE_KILLS", "5"))
SEED = int(os.environ.get("VOICEOPS_HOSTILE_SEED", str(random.SystemRandom().randrange(1 << 30))))


def _tasks(project: Path, value: str) -> List[Dict[str, Any]]:
    return [task("voice_env", {"project_dir": str(project), "template": "openai",
                               "set": {LLM: {"SYSTEM_PROMPT": value}}}, "store"),
            task("voice_compose", {"project_dir": str(project), "template": "openai", "provider_keys": dict(KEYS),
                                   "backup": True, "env": {LLM: {"OPENAI_MODEL": value}}}, "compose")]


def _contents(project: Path) -> Dict[str, bytes]:
    return {name: (project / name).read_bytes() for name in ("docker-compose.yml", "environment.json")
            if (project / name).is_file()}


def _wholly_new(name: str, data: bytes, value: str) -> bool:
    """``data`` is a complete file of an earlier attempt that wrote ``value`` (no completing run to compare)."""
    try:
        if name == "environment.json":
            return json.loads(data)["services"][LLM]["SYSTEM_PROMPT"] == value
        doc = yaml.safe_load(data)
        return doc["services"][LLM]["environment"]["OPENAI_MODEL"] == value
    except Exception:  # noqa: BLE001 - a torn file is exactly what this reports
        return False


def _extra(project: Path) -> List[str]:
    """Paths other than the two files and their backups (temporary files)."""
    return sorted(p.name for p in project.iterdir() if p.name not in ("docker-compose.yml", "environment.json")
                  and not p.name.endswith("~"))


#: Kill the instant a path with this (prefix, suffix) appears in the project.
WATCH = [(".docker-compose.yml. (compose temp file)", (".docker-compose.yml.", "")),
         (".environment.json. (store temp file)", (".environment.json.", ""))]


def _children() -> Dict[int, List[int]]:
    out: Dict[int, List[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        out.setdefault(ppid, []).append(int(name))
    return out


def kill_tree(root: int) -> None:
    """SIGKILL ``root`` and every descendant. Ansible's workers call setsid(), so the playbook's process
    group is not enough: stop the tree first (nothing forks meanwhile), then kill all of it."""
    seen = {root}
    for _attempt in range(20):
        for pid in list(seen):
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass
        tree = _children()
        more = set(seen)
        stack = list(seen)
        while stack:
            for child in tree.get(stack.pop(), []):
                if child not in more:
                    more.add(child)
                    stack.append(child)
        if more == seen:
            break
        seen = more
    for pid in seen:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _descendants(root: int) -> List[int]:
    tree = _children()
    out, stack = [], [root]
    while stack:
        for child in tree.get(stack.pop(), []):
            out.append(child)
            stack.append(child)
    return out


class _Inotify:
    """IN_CREATE events of one directory through libc's inotify (no polling gap to miss a short-lived file)."""

    IN_CREATE = 0x100

    def __init__(self, directory: Path):
        self.libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK)
        assert self.fd >= 0, "inotify_init1 failed: errno %d" % ctypes.get_errno()
        assert self.libc.inotify_add_watch(self.fd, str(directory).encode(), self.IN_CREATE) >= 0

    def names(self, timeout: float) -> List[str]:
        ready, _w, _x = select.select([self.fd], [], [], timeout)
        if not ready:
            return []
        data = os.read(self.fd, 65536)
        out, offset = [], 0
        while offset + 16 <= len(data):
            _wd, _mask, _cookie, length = struct.unpack_from("iIII", data, offset)
            out.append(data[offset + 16:offset + 16 + length].rstrip(b"\0").decode(errors="replace"))
            offset += 16 + length
        return out

    def close(self) -> None:
        os.close(self.fd)


def _wait_for(project: Path, watch: Any, present: set, proc: Any, limit: float) -> bool:
    """Wait until a new path matching ``watch`` is created, then SIGKILL at once every process of the run
    seen so far (the module writing it among them: the tree is scanned while waiting)."""
    prefix, suffix = watch
    end = time.monotonic() + limit
    known: List[int] = []
    events = _Inotify(project)
    try:
        while time.monotonic() < end and proc.poll() is None:
            names = events.names(0.01)
            if any(n.startswith(prefix) and n.endswith(suffix) and n not in present for n in names):
                for pid in reversed(known):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                return True
            if not names:
                known = _descendants(proc.pid)
    finally:
        events.close()
    return False


@pytest.mark.parametrize("moments", ["random", "watched"])
def test_kills(ansible: Ansible, seeded: Path, tmp_path: Path, moments: str) -> None:
    began = time.monotonic()
    project = tmp_path / "project"
    shutil.copytree(seeded, project, symlinks=True)
    rng = random.Random(SEED)
    # how long a whole run takes, to spread the kills over it
    first = ansible.run(_tasks(project, "warm-up"))
    assert first.rc == 0, str(first)
    length = first.seconds
    outcomes: List[Outcome] = []
    # random moments, then the moments that matter most: the instant a temporary file or a backup appears
    if moments == "random":
        rounds = [("at %.2fs of %.2fs (seed %d)" % (rng.uniform(0.15, 1.0) * length, length, SEED), None)
                  for _kill in range(KILLS)]
    else:
        rounds = [("when %s appears" % label, prefix) for label, prefix in WATCH]
    for index, (when, watch) in enumerate(rounds):
        outcome = Outcome(Case("SIGKILL %d %s" % (index, when), "voice_compose", {}))
        old = _contents(project)
        states = []   # (contents before the attempt, contents after its kill, the attempt's value)
        # a watched kill is tried up to 3 times (each with a new value, so that there is a write to
        # kill), until it leaves the watched path behind
        for attempt in range(1 if watch is None else 3):
            value = "kill-round-%d-%d" % (index, attempt)
            before = _contents(project)
            present = set(os.listdir(project))
            proc, _argv, _log = ansible.start(_tasks(project, value))
            seen = True
            if watch is None:
                time.sleep(float(when.split("s")[0].split()[-1]))
            else:
                seen = _wait_for(project, watch, present, proc, 3 * length)
            kill_tree(proc.pid)
            proc.communicate(timeout=60)
            time.sleep(0.2)
            states.append((before, _contents(project), value))
            left = [n for n in set(os.listdir(project)) - present
                    if watch and n.startswith(watch[0]) and n.endswith(watch[1])]
            if watch is None or left:
                break
        if watch is not None and not seen:
            outcome.problems.append("never saw %s* during the run (nothing to kill at)" % watch[0])
        killed = states[-1][1]
        after_kill = _extra(project)
        outcome.case.id += " (%d attempt(s); left by the kill: %s)" % (len(states), ", ".join(after_kill) or "nothing")
        done = ansible.run(_tasks(project, value))
        if done.rc != 0:
            outcome.problems.append("the run after the kill failed: %s" % done.stdout[-600:])
        new = _contents(project)
        for number, (before, state, attempt_value) in enumerate(states):
            last = number == len(states) - 1
            for name, data in state.items():
                if data == before.get(name) or (last and data == new.get(name)):
                    continue
                if last or not _wholly_new(name, data, attempt_value):
                    outcome.problems.append("%s after the kill is neither the old nor the new content" % name)
        for name in set(old) - set(killed):
            outcome.problems.append("%s vanished after the kill" % name)
        extra = _extra(project)
        if extra:
            outcome.problems.append("left after the next run: %s" % extra)
        if (project / "docker-compose.yml").is_file() and mode_of(project / "docker-compose.yml") != 0o600:
            outcome.problems.append("docker-compose.yml is mode %04o" % mode_of(project / "docker-compose.yml"))
        for where, data in readable_files(tmp_path):
            if any(m.encode() in data for m in MARKERS):
                outcome.problems.append("%s holds a marker secret" % where)
        outcomes.append(outcome)
        for backup in project.glob("*~"):   # keep the directory small; backups are judged above
            if mode_of(backup) & 0o077:
                outcome.problems.append("backup %s is mode %04o" % (backup.name, mode_of(backup)))
            backup.unlink()
    # the next run converges: same input, nothing changes
    before = snapshot(project)
    again = ansible.run(_tasks(project, value))
    converge = Outcome(Case("the run after the last kill converges (%s)" % moments, "voice_compose", {}))
    results = again.results() if again.rc == 0 else {}
    if again.rc != 0 or any(r.get("changed") for r in results.values()):
        converge.problems.append("a re-run changed something or failed: rc=%d %s" % (
            again.rc, {k: v.get("changed") for k, v in results.items()}))
    if snapshot(project) != before:
        converge.problems.append("a re-run with the same input changed files")
    outcomes.append(converge)
    hold("kills", outcomes, time.monotonic() - began, moments)
