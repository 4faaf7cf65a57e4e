"""The hostile-input suite's own harness: cases as data, one ansible-playbook run per batch.

A case is a task of voice_compose, voice_env, project_files or release with its own project
directory (a copy of a seeded deployment, or a directory a ``setup`` prepared). A batch of cases
becomes one generated playbook (one task per case, ``ignore_errors``), run by the venv's
``ansible-playbook`` against localhost with the JSON callback and ANSIBLE_LOG_PATH. Each case is
then judged on its own:

- a bad input (``field`` set) fails with one line naming the field and quoting the value (never a
  secret), and every file below the case directory is as it was (type, link target, sha256, mode,
  uid, gid, mtime_ns, the set of paths);
- a hostile but valid input (``ok=True``) succeeds and passes its ``check``;
- no marker secret appears in stdout, stderr, the log, the case's registered result, or any
  group/other-readable file below the test's tmp directory. Random markers are searched as
  substrings; common-word secrets (``always``) are judged where a secret would sit (after its
  variable name, in a JSON string, alone on a line), not in ordinary text.

Strings given to tasks are tagged ``!unsafe`` so that Ansible passes ``{{service:...}}`` and
``{{ ... }}`` through as the module's input instead of templating it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets as pysecrets
import shutil
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import yaml
from ansible_env import ansible_environ

BIN = Path(sys.executable).parent
ANSIBLE_PLAYBOOK = BIN / "ansible-playbook"
OUTPUT = Path(__file__).resolve().parents[1] / "output" / "hostile"
MASK = "********"
FQCN = "voiceops.avr."


def _marker(prefix: str) -> str:
    return "%s-hm%s" % (prefix, pysecrets.token_hex(10))


#: Random marker secrets, new for every test session (searched as substrings everywhere).
OPENAI_KEY = _marker("sk")
DEEPGRAM_KEY = _marker("dg")
OPENROUTER_KEY = _marker("or")
ANTHROPIC_KEY = _marker("ak")
GOOGLE_PRIVATE = _marker("gpk")
ULTRAVOX_KEY = _marker("ux")
GOOGLE_JSON = json.dumps({"type": "service_account", "project_id": "not-real",
                          "private_key": GOOGLE_PRIVATE}, indent=2) + "\n"
MARKERS: List[str] = [OPENAI_KEY, DEEPGRAM_KEY, OPENROUTER_KEY, ANTHROPIC_KEY, GOOGLE_PRIVATE, ULTRAVOX_KEY]
KEYS: Dict[str, str] = {"openai": OPENAI_KEY, "deepgram": DEEPGRAM_KEY, "openrouter": OPENROUTER_KEY,
                        "anthropic": ANTHROPIC_KEY, "google": GOOGLE_JSON, "ultravox": ULTRAVOX_KEY}
#: Secrets that are common words: a leak is judged where a secret sits, not as a substring.
COMMON_WORDS = ("always", "agentvoiceresponse")
LLM = "avr-llm-openai"
PROVIDERS = ("openai", "deepgram", "openrouter", "anthropic", "google", "ultravox", "elevenlabs", "gemini")


def new_marker(prefix: str = "mk") -> str:
    """A fresh random marker, registered so every leak check looks for it."""
    value = _marker(prefix)
    MARKERS.append(value)
    return value


# -- the filesystem snapshot ---------------------------------------------------------------------


Entry = Tuple[str, str, str, str, int, int, int]


def snapshot(root: Path) -> Dict[str, Entry]:
    """Every path below ``root`` (lstat): type, link target, sha256, mode, uid, gid, mtime_ns (files, links)."""
    out: Dict[str, Entry] = {}
    if not os.path.lexists(root):
        return out
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            target, digest = "", ""
            if stat.S_ISLNK(st.st_mode):
                kind, target = "link", os.readlink(path)
            elif stat.S_ISDIR(st.st_mode):
                kind = "dir"
            elif stat.S_ISREG(st.st_mode):
                kind = "file"
                try:
                    with open(path, "rb") as handle:
                        digest = hashlib.sha256(handle.read()).hexdigest()
                except OSError as exc:
                    digest = "unreadable: %s" % exc.strerror
            else:
                kind = "other"
            # a directory's mtime moves with any temporary entry (an atomic write that failed and
            # cleaned up); what it holds is judged by the set of paths instead
            mtime = 0 if kind == "dir" else st.st_mtime_ns
            out[os.path.relpath(path, root)] = (kind, target, digest, "%04o" % stat.S_IMODE(st.st_mode),
                                                st.st_uid, st.st_gid, mtime)
    return out


def snapshot_changes(before: Dict[str, Entry], after: Dict[str, Entry]) -> List[str]:
    fields = ("type", "target", "sha256", "mode", "uid", "gid", "mtime_ns")
    out = ["%s: appeared" % p for p in sorted(set(after) - set(before))]
    out += ["%s: vanished" % p for p in sorted(set(before) - set(after))]
    for path in sorted(set(before) & set(after)):
        changed = [f for f, a, b in zip(fields, before[path], after[path]) if a != b]
        if changed:
            out.append("%s: %s changed" % (path, "/".join(changed)))
    return out


def mode_of(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


# -- leak checks -----------------------------------------------------------------------------------


def _common_word_patterns(word: str) -> List["re.Pattern[bytes]"]:
    """Where a common-word secret would be a leak: as a variable's value, a JSON string, a line. The value is
    the word itself (not followed by more of a name or path: ``"avr-asr-deepgram": "agentvoiceresponse/..."`` is
    an image reference that starts with the word)."""
    w = re.escape(word).encode() + rb"(?![\w/.:@-])"
    return [
        re.compile(rb"[A-Z][A-Z0-9_]*(?:KEY|SECRET|PASSWORD|TOKEN|CREDENTIALS?)[\"']?\s*[:=]\s*[\"']?" + w),
        re.compile(rb"[\"']?(?:%s)[\"']?\s*[:=]\s*[\"']?" % "|".join(PROVIDERS).encode() + w),
        re.compile(rb"(?m)^[\s+-]*" + w + rb"\s*$"),
    ]


def find_leaks(text: Any, where: str, words: Sequence[str] = ()) -> List[str]:
    data = text if isinstance(text, bytes) else str(text).encode("utf-8", "surrogateescape")
    out = ["%s holds the marker secret %s" % (where, m) for m in MARKERS if m.encode() in data]
    for word in words:
        for pattern in _common_word_patterns(word):
            found = pattern.search(data)
            if found:
                out.append("%s holds the secret %r as a value (%r)" % (where, word, found.group(0)[:80]))
                break
    return out


def readable_files(root: Path) -> List[Tuple[str, bytes]]:
    """(description, content) of every regular file below ``root`` that group or others can read: its
    mode lets them read it and every directory from ``root`` down to it lets them in (a 0744 file in a
    0700 directory is private)."""
    out: List[Tuple[str, bytes]] = []
    open_dirs = {str(root): 0o044}  # which of group (0o040) / other (0o004) may reach each directory
    for dirpath, dirs, files in os.walk(root):
        reach = open_dirs.get(dirpath, 0)
        for name in dirs:
            try:
                bits = os.lstat(os.path.join(dirpath, name)).st_mode
            except OSError:
                continue
            open_dirs[os.path.join(dirpath, name)] = reach & (((bits & 0o010) << 2) | ((bits & 0o001) << 2))
        if not reach:
            continue
        for name in files:
            path = os.path.join(dirpath, name)
            try:
                st = os.lstat(path)
                if not stat.S_ISREG(st.st_mode) or not st.st_mode & reach:
                    continue
                with open(path, "rb") as handle:
                    out.append(("%s (mode %04o)" % (path, stat.S_IMODE(st.st_mode)), handle.read()))
            except OSError:
                continue
    return out


# -- playbooks ---------------------------------------------------------------------------------------


class Unsafe(str):
    """A string written as ``!unsafe`` into a generated playbook."""


class _Dumper(yaml.SafeDumper):
    pass


def _unsafe(dumper: yaml.SafeDumper, value: str) -> Any:
    style = '"' if any(c in value for c in "\n\r\t\0") or not value.isprintable() else None
    return dumper.represent_scalar("!unsafe", str(value), style=style)


_Dumper.add_representer(Unsafe, _unsafe)


def unsafe(value: Any) -> Any:
    """Every string inside ``value`` that Jinja could read (holding ``{`` or ``%``) tagged !unsafe."""
    if isinstance(value, str):
        return Unsafe(value) if "{" in value or "%" in value else value
    if isinstance(value, dict):
        return {unsafe(k): unsafe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [unsafe(v) for v in value]
    return value


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=False, width=1 << 20)


@dataclass
class Run:
    argv: List[str]
    rc: int
    stdout: str
    stderr: str
    log: str
    seconds: float

    def __str__(self) -> str:
        return "%s (rc=%d)\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
            " ".join(self.argv), self.rc, self.stdout[-4000:], self.stderr[-3000:])

    @property
    def data(self) -> Dict[str, Any]:
        start = 0 if self.stdout.startswith("{") else self.stdout.find("\n{\n") + 1
        try:
            return dict(json.loads(self.stdout[start:]))
        except ValueError as exc:
            raise AssertionError("ansible-playbook output is not JSON (%s):\n%s" % (exc, self)) from None

    def results(self) -> Dict[str, Dict[str, Any]]:
        """Result of localhost per task name."""
        out: Dict[str, Dict[str, Any]] = {}
        for play in self.data.get("plays", []):
            for task in play["tasks"]:
                out[task["task"]["name"]] = dict(task["hosts"].get("localhost", {}))
        return out


class Ansible:
    """ansible-playbook with its own configuration, inventory, log and temporary directories."""

    def __init__(self, base: Path, collections_path: Path):
        self.base = base
        base.mkdir(parents=True, exist_ok=True)
        self.inventory = base / "inventory.yml"
        self.inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
            "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
        self.config = base / "ansible.cfg"
        self.config.write_text("[defaults]\nretry_files_enabled = false\nnocolor = true\n"
                               "deprecation_warnings = false\n[connection]\npipelining = true\n")
        self.collections_path = collections_path
        self.runs = 0

    def environ(self, log_path: Path, callback: str) -> Dict[str, str]:
        environ = ansible_environ(self.config, self.collections_path, self.base, callback)
        environ["ANSIBLE_LOG_PATH"] = str(log_path)
        return environ

    def write_playbook(self, tasks: List[Dict[str, Any]], tag: str) -> Path:
        playbook = self.base / ("%s.yml" % tag)
        fd = os.open(str(playbook), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(dump_yaml([{"name": "Hostile input", "hosts": "all", "gather_facts": False,
                                     "tasks": tasks}]))
        return playbook

    def start(self, tasks: List[Dict[str, Any]], callback: str = "ansible.posix.json",
              extra: Sequence[str] = ()) -> Tuple["subprocess.Popen[str]", List[str], Path]:
        self.runs += 1
        tag = "run%02d" % self.runs
        playbook = self.write_playbook(tasks, tag)
        log_path = self.base / ("%s.log" % tag)
        argv = [str(ANSIBLE_PLAYBOOK), "-i", str(self.inventory), str(playbook)] + list(extra)
        proc = subprocess.Popen(argv, cwd=self.base, env=self.environ(log_path, callback),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                errors="surrogateescape", start_new_session=True)
        return proc, argv, log_path

    def run(self, tasks: List[Dict[str, Any]], callback: str = "ansible.posix.json",
            extra: Sequence[str] = ()) -> Run:
        began = time.monotonic()
        proc, argv, log_path = self.start(tasks, callback, extra)
        out, err = proc.communicate(timeout=400)
        log = log_path.read_text(errors="surrogateescape") if log_path.exists() else ""
        return Run(argv, proc.returncode, out, err, log, time.monotonic() - began)


def task(module: str, args: Dict[str, Any], name: str, **keywords: Any) -> Dict[str, Any]:
    """One generated task; strings !unsafe."""
    fqcn = module if "." in module else FQCN + module
    out: Dict[str, Any] = {"name": name, fqcn: unsafe(args)}
    out.update(keywords)
    return out


# -- cases ---------------------------------------------------------------------------------------------

NO_VALUE = object()


@dataclass
class Case:
    """One hostile input.

    ``field``/``value``: a bad input; the one-line message must name ``field`` and quote ``value``
    (``secret=True``: must not show it). ``ok``: a valid input; ``check`` judges the result.
    """

    id: str
    module: str
    args: Dict[str, Any]
    field: Optional[str] = None
    value: Any = NO_VALUE
    secret: bool = False
    ok: bool = False
    template: Optional[str] = "openai"
    keys: bool = True                     # add provider_keys (markers) to voice_compose
    setup: Optional[Callable[[Path], None]] = None        # prepares the case directory's project
    check: Optional[Callable[[Path, Dict[str, Any]], List[str]]] = None   # (project, result) -> problems
    words: Sequence[str] = ()             # common-word secrets this case uses
    diff: bool = True
    check_mode: bool = False
    also: Sequence[str] = ()              # further fragments the message must contain
    base: str = "seeded"                  # "seeded" (copy of a seeded openai project), "empty", "none"

    def task_args(self, project: Path) -> Dict[str, Any]:
        args: Dict[str, Any] = {}
        if self.module in ("voice_compose", "voice_env", "project_files", "release", "release_info"):
            args["path" if self.module == "project_files" else "project_dir"] = str(project)
        if self.template and self.module in ("voice_compose", "voice_env") and "stack" not in self.args:
            args["template"] = self.template
        if self.keys and self.module == "voice_compose":
            args["provider_keys"] = dict(KEYS)
        args.update(self.args)
        return _at_case({k: v for k, v in args.items() if v is not DROP}, str(project.parent))


DROP = object()


def _at_case(value: Any, case_dir: str) -> Any:
    """``@CASE@`` in any string of ``value`` replaced by the case directory."""
    if isinstance(value, str):
        return value.replace("@CASE@", case_dir)
    if isinstance(value, dict):
        return {k: _at_case(v, case_dir) for k, v in value.items()}
    if isinstance(value, list):
        return [_at_case(v, case_dir) for v in value]
    return value


def quoted(value: Any) -> List[str]:
    """How a message may quote ``value``."""
    if value == "":
        return ["''", '""', "empty"]
    if isinstance(value, str):
        return [repr(value), json.dumps(value), json.dumps(value, ensure_ascii=False), "'%s'" % value]
    return [repr(value), json.dumps(value)] if not isinstance(value, bytes) else [repr(value)]


def one_line_problems(case: Case, result: Dict[str, Any]) -> List[str]:
    msg = result.get("msg", "")
    if not result.get("failed"):
        return ["did not fail (changed=%s)" % result.get("changed")]
    if not isinstance(msg, str):
        return ["msg is not a string: %r" % (msg,)]
    out = []
    text = msg.strip()
    if "\n" in text or "\r" in text:
        out.append("message spans %d lines: %r" % (text.count("\n") + 1, text[:300]))
    if "Traceback" in msg or "Unexpected failure" in msg or "exception" in result and "Traceback" in str(
            result.get("exception")):
        out.append("an exception instead of a message: %r" % text[:300])
    if case.field and case.field not in msg:
        out.append("message does not name %r: %r" % (case.field, text[:300]))
    if case.value is not NO_VALUE:
        if case.secret:
            if isinstance(case.value, str) and len(case.value) >= 4 and case.value in msg:
                out.append("message shows the secret value")
        elif not any(q in msg for q in quoted(case.value)):
            out.append("message does not quote the value %r: %r" % (case.value, text[:300]))
    out += ["message lacks %r: %r" % (frag, text[:300]) for frag in case.also if frag not in msg]
    if "_Ansible" in msg:
        out.append("message names an internal Ansible type: %r" % text[:300])
    return out


@dataclass
class Outcome:
    case: Case
    problems: List[str] = field(default_factory=list)
    msg: str = ""
    failed: bool = False


def run_batch(ansible: Ansible, root: Path, seeded: Optional[Path], cases: Sequence[Case],
              extra_checks: Optional[Callable[[Case, Path, Dict[str, Any]], List[str]]] = None) -> List[Outcome]:
    """All ``cases`` in one playbook run, each in ``root/<n>/project``; the outcome of each."""
    only = os.environ.get("VOICEOPS_HOSTILE_ONLY", "").lower()
    if only:   # a debugging aid: only the cases whose id contains this text
        cases = [c for c in cases if only in c.id.lower()]
        if not cases:
            return []
    ids = [c.id for c in cases]
    assert len(set(ids)) == len(ids), "duplicate case ids: %s" % sorted({i for i in ids if ids.count(i) > 1})
    tasks, dirs = [], []
    for index, case in enumerate(cases):
        case_dir = root / ("c%03d" % index)
        project = case_dir / "project"
        case_dir.mkdir(parents=True)
        if case.base == "seeded":
            assert seeded is not None
            shutil.copytree(seeded, project, symlinks=True)
        elif case.base == "empty":
            project.mkdir()
        if case.setup:
            case.setup(project)
        dirs.append((case_dir, project, snapshot(case_dir)))
        keywords: Dict[str, Any] = {"ignore_errors": True}
        if case.diff:
            keywords["diff"] = True
        if case.check_mode:
            keywords["check_mode"] = True
        tasks.append(task(case.module, case.task_args(project), "case %03d" % index, **keywords))
    top = sorted(os.listdir(root))
    run = ansible.run(tasks)
    results = run.results()
    outcomes = []
    for index, case in enumerate(cases):
        case_dir, project, before = dirs[index]
        outcome = Outcome(case)
        result = results.get("case %03d" % index)
        if result is None:
            outcome.problems.append("the task did not run: rc=%d %s" % (run.rc, run.stderr[-400:]))
            outcomes.append(outcome)
            continue
        if case.ok:
            if result.get("failed"):
                outcome.problems.append("failed: %r" % str(result.get("msg"))[:300])
            elif case.check:
                outcome.problems += case.check(project, result)
            if case.check_mode:
                outcome.problems += ["check mode changed a file: %s" % c
                                     for c in snapshot_changes(before, snapshot(case_dir))]
        else:
            outcome.problems += one_line_problems(case, result)
            outcome.problems += ["file changed: %s" % c for c in snapshot_changes(before, snapshot(case_dir))]
        outcome.problems += find_leaks(json.dumps(result), "the registered result", case.words)
        if extra_checks:
            outcome.problems += extra_checks(case, project, result)
        outcome.msg = str(result.get("msg", ""))[:240]
        outcome.failed = bool(result.get("failed"))
        outcomes.append(outcome)
    if sorted(os.listdir(root)) != top:
        outcomes[0].problems.append("a case wrote next to the case directories: %s" % (
            sorted(set(os.listdir(root)) ^ set(top))))
    # run-wide: stdout, stderr, the log and every group/other-readable file below the test's tmp dir.
    # A marker found there is charged to the cases whose result holds it, else to every case.
    texts = [("stdout", run.stdout.encode("utf-8", "surrogateescape")),
             ("stderr", run.stderr.encode("utf-8", "surrogateescape")),
             ("the Ansible log", run.log.encode("utf-8", "surrogateescape"))]
    texts += list(readable_files(ansible.base.parent))
    dumped = [json.dumps(results.get("case %03d" % i, {})).encode() for i in range(len(cases))]
    for where, data in texts:
        for marker in MARKERS:
            if marker.encode() not in data:
                continue
            owners = [i for i, d in enumerate(dumped) if marker.encode() in d]
            owners = owners or [i for i, (case_dir, _p, _b) in enumerate(dirs) if str(case_dir) + "/" in where]
            for i in owners or range(len(cases)):
                outcomes[i].problems.append("%s holds a marker secret%s" % (
                    where, " (from this case's result)" if owners else ""))
    for i, (case_dir, _project, _before) in enumerate(dirs):
        if cases[i].words:
            outcomes[i].problems += find_leaks(run.log, "the Ansible log", cases[i].words) if len(cases) == 1 else []
            for where, data in readable_files(case_dir):
                outcomes[i].problems += find_leaks(data, where, cases[i].words)
    return outcomes


def report(cls: str, outcomes: Sequence[Outcome], seconds: float = 0.0, part: str = "") -> str:
    """Write the class summary under tests/output/hostile/ and return the failure text (empty: all hold)."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    failing = [o for o in outcomes if o.problems]
    data = {"class": cls, "tried": len(outcomes), "holding": len(outcomes) - len(failing), "seconds": round(seconds, 1),
            "failing": {o.case.id: sorted(set(o.problems)) for o in failing},
            "messages": {o.case.id: ("failed: " if o.failed else "ok: ") + o.msg for o in outcomes}}
    (OUTPUT / ("%s%s.json" % (cls, "." + part if part else ""))).write_text(
        json.dumps(data, indent=2, ensure_ascii=True) + "\n")
    lines = ["%s: %d of %d cases hold" % (cls, data["holding"], data["tried"])]
    for o in failing:
        lines.append("- %s:" % o.case.id)
        lines += ["    %s" % p for p in sorted(set(o.problems))[:6]]
    return "\n".join(lines) if failing else ""


def hold(cls: str, outcomes: Sequence[Outcome], seconds: float = 0.0, part: str = "") -> None:
    text = report(cls, outcomes, seconds, part)
    assert not text, text


#: Halves of a class's table, each a test of its own, so that two workers share a class.
PARTS = ("a", "b")


def part_of(cases: Sequence[Case], part: str) -> List[Case]:
    """Pairs of neighbours go to alternate parts (tables often list a case for each module in turn)."""
    return [case for i, case in enumerate(cases) if (i // 2) % len(PARTS) == PARTS.index(part)]


def write_secret_file(path: Path, data: bytes, mode: int = 0o600) -> None:
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def compose_env(path: Path, service: str) -> Dict[str, str]:
    return dict(yaml.safe_load(path.read_text())["services"][service]["environment"])


def iter_files(root: Path) -> Iterable[Path]:
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            yield Path(dirpath) / name


def compose_value(raw: Any) -> Optional[str]:
    """What Compose makes of a value in the compose file: ``$$`` is a ``$``; a lone ``$`` interpolates
    (None: the value would not reach the container as written)."""
    if not isinstance(raw, str):
        return None
    out, i = [], 0
    while i < len(raw):
        if raw[i] == "$":
            if raw[i + 1:i + 2] == "$":
                out.append("$")
                i += 2
                continue
            return None
        out.append(raw[i])
        i += 1
    return "".join(out)


def compose_holds(project: Path, service: str, var: str, expected: str, name: str = "docker-compose.yml",
                  file_mode: int = 0o600) -> List[str]:
    """The compose file has mode ``file_mode`` and gives ``var`` of ``service`` exactly ``expected``."""
    path = project / name
    if not path.is_file():
        return ["%s is missing" % name]
    out = []
    if mode_of(path) != file_mode:
        out.append("%s is mode %04o, not %04o" % (name, mode_of(path), file_mode))
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        raw = doc["services"][service]["environment"][var]
    except Exception as exc:  # noqa: BLE001 - any reason the value is not there is the finding
        return out + ["%s: %s.%s unreadable (%s: %s)" % (name, service, var, type(exc).__name__, exc)]
    if compose_value(raw) != expected:
        out.append("%s: %s.%s is %r after Compose interpolation of %r, not %r" % (
            name, service, var, compose_value(raw), raw, expected))
    return out


def store_holds(project: Path, service: str, var: str, expected: str) -> List[str]:
    path = project / "environment.json"
    try:
        got = json.loads(path.read_text(encoding="utf-8"))["services"][service][var]
    except Exception as exc:  # noqa: BLE001
        return ["environment.json: %s.%s unreadable (%s: %s)" % (service, var, type(exc).__name__, exc)]
    return [] if got == expected else ["environment.json: %s.%s is %r, not %r" % (service, var, got, expected)]
