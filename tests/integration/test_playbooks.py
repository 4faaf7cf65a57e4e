"""voice_compose, voice_env and the filters through the real ansible-playbook.

Each test runs the playbooks of ``tests/integration/playbooks`` with the venv's
``ansible-playbook`` against localhost (local connection, this interpreter),
with project directories under ``tmp_path``, and judges the result from the
JSON callback (or the default callback's text, where the human output itself
is under test) and from the files on disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
import yaml
from ansible_env import ansible_environ

PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
BIN = Path(sys.executable).parent
ANSIBLE_PLAYBOOK = BIN / "ansible-playbook"

OPENAI_KEY = "sk-test-not-real-0123456789abcdef"
DEEPGRAM_KEY = "dg-test-not-real-fedcba9876543210"
OPENROUTER_KEY = "or-test-not-real-a1b2c3d4e5f6a7b8"
GOOGLE_PRIVATE = "gpk-test-not-real-5a5a5a5a5a5a5a5a"
GOOGLE_JSON = json.dumps({"type": "service_account", "project_id": "not-real",
                          "private_key": GOOGLE_PRIVATE}, indent=2) + "\n"
KEY_VARS: Dict[str, Any] = {"openai_key": OPENAI_KEY, "deepgram_key": DEEPGRAM_KEY,
                            "openrouter_key": OPENROUTER_KEY, "google_json": GOOGLE_JSON}
SECRETS = (OPENAI_KEY, DEEPGRAM_KEY, OPENROUTER_KEY, GOOGLE_PRIVATE)
MASK = "********"
LLM = "avr-llm-openai"
RECAP = re.compile(r"^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


# -- running ansible-playbook ------------------------------------------------------------------


@dataclass
class Run:
    argv: List[str]
    rc: int
    stdout: str
    stderr: str
    log: str = ""

    def __str__(self) -> str:
        return "%s (rc=%d)\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
            " ".join(self.argv), self.rc, self.stdout[-6000:], self.stderr[-3000:])

    @property
    def data(self) -> Dict[str, Any]:
        start = self.stdout.find("\n{\n") + 1 if not self.stdout.startswith("{") else 0
        try:
            return dict(json.loads(self.stdout[start:]))
        except ValueError as exc:
            raise AssertionError("ansible-playbook output is not JSON (%s):\n%s" % (exc, self)) from None

    def task(self, name: str) -> Dict[str, Any]:
        """The localhost result of the task called ``name`` (unique in the playbook)."""
        found = [t["hosts"]["localhost"] for play in self.data["plays"] for t in play["tasks"]
                 if t["task"]["name"] == name]
        assert len(found) == 1, "task %r ran %d times in:\n%s" % (name, len(found), self)
        return dict(found[0])

    @property
    def stats(self) -> Dict[str, int]:
        return dict(self.data["stats"]["localhost"])

    @property
    def recap(self) -> Dict[str, int]:
        """ok/changed/failed of localhost from the default callback's PLAY RECAP."""
        match = RECAP.search(self.stdout)
        assert match, "no PLAY RECAP line for localhost in:\n%s" % self
        return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, match.groups())))


class Ansible:
    """ansible-playbook with an isolated configuration, inventory and temporary directories."""

    def __init__(self, base: Path, collections_path: Path):
        assert ANSIBLE_PLAYBOOK.is_file(), (
            "ansible-playbook is expected next to %s; run the tests from the venv "
            "(source scripts/venv.sh requirements-test.txt)" % sys.executable)
        self.base = base
        base.mkdir(parents=True, exist_ok=True)
        self.inventory = base / "inventory.yml"
        self.inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
            "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
        self.config = base / "ansible.cfg"
        self.config.write_text("[defaults]\nretry_files_enabled = false\nnocolor = true\n")
        self.collections_path = collections_path
        self.runs = 0

    def run(self, playbook: str, extra_vars: Optional[Dict[str, Any]] = None, check: bool = False,
            diff: bool = False, verbosity: int = 0, callback: str = "ansible.posix.json",
            log: bool = False, env: Optional[Dict[str, str]] = None, start: bool = False) -> Any:
        self.runs += 1
        tag = "run%02d" % self.runs
        argv = [str(ANSIBLE_PLAYBOOK), "-i", str(self.inventory), str(PLAYBOOKS / playbook)]
        if extra_vars is not None:
            vars_file = self.base / ("%s.vars.json" % tag)
            vars_file.write_text(json.dumps(extra_vars))
            argv += ["-e", "@%s" % vars_file]
        if check:
            argv.append("--check")
        if diff:
            argv.append("--diff")
        if verbosity:
            argv.append("-" + "v" * verbosity)
        environ = ansible_environ(self.config, self.collections_path, self.base, callback)
        log_path = self.base / ("%s.log" % tag)
        if log:
            environ["ANSIBLE_LOG_PATH"] = str(log_path)
        environ.update(env or {})
        proc = subprocess.Popen(argv, cwd=self.base, env=environ, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

        def finish() -> Run:
            out, err = proc.communicate(timeout=300)
            return Run(argv, proc.returncode, out, err, log_path.read_text() if log and log_path.exists() else "")
        return finish if start else finish()


@pytest.fixture
def ansible(tmp_path: Path, collections_path: Path) -> Ansible:
    return Ansible(tmp_path / "ansible", collections_path)


# -- checks ---------------------------------------------------------------------------------------


def ok(run: Run) -> Run:
    assert run.rc == 0, str(run)
    assert_no_secret(run)
    return run


def assert_no_secret(run: Run) -> None:
    for where, text in (("stdout", run.stdout), ("stderr", run.stderr), ("log", run.log)):
        for secret in SECRETS:
            assert secret not in text, "a provider key leaked into %s of %s" % (where, " ".join(run.argv))


def snapshot(root: Path) -> Dict[str, Tuple[str, int, str]]:
    """Every file and directory below ``root``: sha256 (files), mtime_ns and mode."""
    out: Dict[str, Tuple[str, int, str]] = {}
    if not root.exists():
        return out
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        out[str(path.relative_to(root))] = (digest, st.st_mtime_ns, "%04o" % stat.S_IMODE(st.st_mode))
    return out


def mode(path: Path) -> str:
    return "%04o" % stat.S_IMODE(path.stat().st_mode)


def compose_env(path: Path, service: str) -> Dict[str, str]:
    return dict(yaml.safe_load(path.read_text())["services"][service]["environment"])


def diff_lines(text: str, sign: str) -> List[str]:
    return [line[1:].strip() for line in text.splitlines() if line.startswith(sign) and not line.startswith(sign * 3)]


# -- 1. voice_compose -----------------------------------------------------------------------------


def test_voice_compose_check_write_idempotent_and_masked(ansible: Ansible, tmp_path: Path) -> None:
    root = tmp_path / "deploy"
    base_vars = dict(KEY_VARS, root=str(root))

    # check mode on a fresh tree: reports changes and a masked diff, writes nothing.
    run = ok(ansible.run("compose.yml", base_vars, check=True, diff=True))
    assert not root.exists(), "check mode created %s" % sorted(snapshot(root))
    assert run.stats["changed"] == 3, run
    compose = run.task("Render openai")
    assert compose["changed"] and compose["written"] == ["docker-compose.yml"], compose
    after = compose["diff"][0]["after"]
    assert compose["diff"][0]["before"] == ""
    assert "OPENAI_API_KEY: %s" % MASK in after and "DEEPGRAM_API_KEY: %s" % MASK in after
    assert "OPENAI_MODEL: gpt-3.5-turbo" in after
    google = run.task("Render google")
    assert google["changed"] and sorted(google["written"]) == ["docker-compose.yml", "google.json"], google
    assert [d["after"] for d in google["diff"]][1] == "(credential file: content hidden)\n"

    # real run, loudest output, with a log file: every file written, no key anywhere in the output.
    run = ok(ansible.run("compose.yml", base_vars, diff=True, verbosity=3, callback="default", log=True))
    assert run.recap["changed"] == 3 and run.recap["failed"] == 0, run
    assert MASK in run.stdout and "OPENAI_API_KEY: %s" % MASK in run.stdout
    assert run.log and "Render openai" in run.log, "ANSIBLE_LOG_PATH log is empty"
    openai_file = root / "openai" / "docker-compose.yml"
    store = root / "openai" / "environment.json"
    env = compose_env(openai_file, LLM)
    assert env["OPENAI_API_KEY"] == OPENAI_KEY and env["OPENAI_MODEL"] == "gpt-3.5-turbo"
    assert compose_env(openai_file, "avr-tts-deepgram")["DEEPGRAM_API_KEY"] == DEEPGRAM_KEY
    assert mode(openai_file) == "0600"
    assert mode(root / "google" / "docker-compose.yml") == "0600"
    credential = root / "google" / "google.json"
    assert credential.read_text() == GOOGLE_JSON
    assert mode(credential) == "0600"
    assert compose_env(root / "google" / "docker-compose.yml", "avr-llm-openrouter")["OPENROUTER_API_KEY"] \
        == OPENROUTER_KEY
    stored_text = store.read_text()
    for secret in SECRETS + (GOOGLE_JSON.strip(),):
        assert secret not in stored_text
    stored = json.loads(stored_text)["services"]
    assert "OPENAI_API_KEY" not in stored[LLM]
    assert stored[LLM]["OPENAI_MODEL"] == "gpt-3.5-turbo"
    written = snapshot(root)

    # same inputs again: nothing changes, not even an mtime.
    run = ok(ansible.run("compose.yml", base_vars, verbosity=1))
    assert run.stats["changed"] == 0, run
    assert not run.task("Render openai")["changed"]
    assert snapshot(root) == written

    # check mode with a changed value: reported as a change with the changed line, file untouched.
    changed_vars = dict(base_vars, openai_env={LLM: {"OPENAI_MODEL": "gpt-4o"}})
    run = ok(ansible.run("compose.yml", changed_vars, check=True, diff=True, verbosity=3, callback="default",
                         log=True))
    assert run.recap["changed"] == 1, run
    assert "OPENAI_MODEL: gpt-3.5-turbo" in diff_lines(run.stdout, "-"), run
    assert "OPENAI_MODEL: gpt-4o" in diff_lines(run.stdout, "+"), run
    assert "OPENAI_API_KEY: %s" % MASK in run.stdout, "the key line next to the change is not masked"
    assert snapshot(root) == written, "check mode changed files"


# -- 2. voice_env ----------------------------------------------------------------------------------


def test_voice_env_seed_check_set_unset_and_precedence(ansible: Ansible, tmp_path: Path) -> None:
    root = tmp_path / "deploy"
    base_vars = dict(KEY_VARS, root=str(root))

    run = ok(ansible.run("env_seed.yml", base_vars))
    store = run.task("Store of openai")
    assert store["changed"] and store["seeded"], store
    assert store["template"] == "openai" and store["missing"] == []
    assert store["provider_keys"] == {"openai": {"required": True, "present": True},
                                      "deepgram": {"required": True, "present": False}}
    assert store["environment"]["avr-core"]["PORT"] == "5001"
    assert store["environment"][LLM]["AMI_URL"] == "http://{{service:avr-ami}}:6006"
    ultravox = run.task("Store of ultravox")
    assert ultravox["changed"] and ultravox["missing"] == ["avr-sts-ultravox.ULTRAVOX_AGENT_ID"], ultravox
    assert ultravox["provider_keys"] == {"ultravox": {"required": True, "present": False}}
    env_file = root / "openai" / "environment.json"
    data = json.loads(env_file.read_text())
    assert data["template"] == "openai" and data["services"] == store["environment"]
    assert mode(env_file) == "0644"
    assert OPENAI_KEY not in env_file.read_text()
    assert run.task("Render openai from its store")["environment_file"] is True
    assert compose_env(root / "openai" / "docker-compose.yml", LLM)["OPENAI_MODEL"] == "gpt-3.5-turbo"
    seeded = snapshot(root)

    run = ok(ansible.run("env_seed.yml", base_vars))
    assert run.stats["changed"] == 0, run
    assert not run.task("Store of openai")["seeded"]
    assert snapshot(root) == seeded

    # check mode + diff of a set: reported with the new value, store untouched.
    changed = dict(base_vars, store_set={LLM: {"OPENAI_MODEL": "gpt-4o-mini"}})
    run = ok(ansible.run("env_seed.yml", changed, check=True, diff=True))
    store = run.task("Store of openai")
    assert store["changed"] and not store["seeded"], store
    assert store["environment"][LLM]["OPENAI_MODEL"] == "gpt-4o-mini"
    assert '"OPENAI_MODEL": "gpt-3.5-turbo"' in store["diff"]["before"]
    assert '"OPENAI_MODEL": "gpt-4o-mini"' in store["diff"]["after"]
    assert run.stats["changed"] == 1, run
    assert snapshot(root) == seeded

    # precedence of one variable: image default -> environment.json -> task env.
    run = ok(ansible.run("env_layers.yml", base_vars, diff=True))
    set_result = run.task("Set the model in the store")
    assert set_result["changed"], set_result
    unset_result = run.task("Unset the model in the store")
    assert unset_result["changed"] and "OPENAI_MODEL" not in unset_result["environment"][LLM]
    project = root / "openai"
    assert compose_env(project / "compose.stored.yml", LLM)["OPENAI_MODEL"] == "gpt-4o-mini"
    assert compose_env(project / "compose.task.yml", LLM)["OPENAI_MODEL"] == "gpt-4o"
    default = compose_env(project / "compose.default.yml", LLM)
    assert default["OPENAI_MODEL"] == "gpt-3.5-turbo"
    assert default["OPENAI_API_KEY"] == OPENAI_KEY
    stored = json.loads((project / "environment.json").read_text())["services"][LLM]
    assert "OPENAI_MODEL" not in stored and stored["OPENAI_MAX_TOKENS"] == "100"


# -- 3. bad input -----------------------------------------------------------------------------------

ROLE_MISMATCH = {"templates": [{"id": "crossed", "stack": "modular", "images": {
    "asr": "llm/avr-llm-openai", "llm": "llm/avr-llm-openai", "tts": "tts/avr-tts-deepgram"}}]}
BAD_PORT = {"images": [{"role": "asr", "name": "avr-asr-custom", "image": "example/asr", "port": "abc"}]}
MISSING_IMAGE = {"templates": [{"id": "custom", "stack": "modular", "images": {
    "asr": "asr/avr-asr-deepgram", "llm": "llm/avr-llm-nope", "tts": "tts/avr-tts-deepgram"}}]}
#: A key given where keys do not belong: the loop echoes its item, the error message must not.
MISPLACED = "sk-test-misplaced-0123456789"

#: case -> (task arguments, fragments the one error message must contain)
COMPOSE_CASES: Dict[str, Tuple[Dict[str, Any], List[str]]] = {
    "unknown template": ({"template": "opnai"}, ["template", "'opnai'", "did you mean 'openai'"]),
    "unknown provider": ({"stack": "modular", "providers": {"asr": "nope", "llm": "openai", "tts": "deepgram"}},
                         ["providers.asr", "'nope'"]),
    "unknown service": ({"env": {"avr-llm-opnai": {"OPENAI_MODEL": "x"}}},
                        ["env.avr-llm-opnai", "'avr-llm-opnai'", "did you mean '%s'" % LLM]),
    "unknown variable": ({"env": {LLM: {"OPENAI_MODLE": "gpt-4o"}}},
                         ["env.%s.OPENAI_MODLE" % LLM, "'OPENAI_MODLE'", "did you mean 'OPENAI_MODEL'"]),
    "secret in env": ({"env": {LLM: {"OPENAI_API_KEY": MISPLACED}}}, ["env.%s.OPENAI_API_KEY" % LLM, "secret"]),
    "role mismatch": ({"template": "crossed", "catalog": ROLE_MISMATCH},
                      ["catalog.templates[0].images.asr", "'llm/avr-llm-openai'", "role 'llm'"]),
    "integer value": ({"env": {LLM: {"OPENAI_MAX_TOKENS": 100}}},
                      ["env.%s.OPENAI_MAX_TOKENS" % LLM, "100", "not a string"]),
    "newline in value": ({"env": {LLM: {"SYSTEM_PROMPT": "line one\nline two"}}},
                         ["env.%s.SYSTEM_PROMPT" % LLM, "newline"]),
    "NUL in value": ({"env": {LLM: {"SYSTEM_PROMPT": "before\u0000after"}}},
                     ["env.%s.SYSTEM_PROMPT" % LLM, "NUL"]),
    "bad deployment": ({"deployment": "Bad Name!"}, ["deployment", "'Bad Name!'"]),
    "bad service_prefix": ({"service_prefix": "../x"}, ["service_prefix", "'../x'"]),
    "invalid catalog": ({"catalog": BAD_PORT}, ["catalog.images[0].port", "'abc'"]),
    "template with unknown image": ({"template": "custom", "catalog": MISSING_IMAGE},
                                    ["'custom'", "not functional", "llm/avr-llm-nope"]),
}
ENV_CASES: Dict[str, Tuple[Dict[str, Any], List[str]]] = {
    "set a secret": ({"set": {LLM: {"OPENAI_API_KEY": MISPLACED}}},
                     ["set.%s.OPENAI_API_KEY" % LLM, "secret"]),
    "set an unknown variable": ({"set": {LLM: {"OPENAI_MODLE": "gpt-4o"}}},
                                ["set.%s.OPENAI_MODLE" % LLM, "did you mean 'OPENAI_MODEL'"]),
    "unset an unknown service": ({"unset": {"avr-llm": ["OPENAI_MODEL"]}}, ["unset.avr-llm", "'avr-llm'"]),
    "set an integer": ({"set": {LLM: {"OPENAI_MAX_TOKENS": 100}}},
                       ["set.%s.OPENAI_MAX_TOKENS" % LLM, "100", "not a string"]),
    "unknown template": ({"template": "ultravx"}, ["'ultravx'", "did you mean 'ultravox'"]),
    "invalid catalog": ({"catalog": BAD_PORT}, ["catalog.images[0].port", "'abc'"]),
}


def test_bad_input_fails_clearly_and_changes_nothing(ansible: Ansible, tmp_path: Path) -> None:
    base = tmp_path / "base"
    ok(ansible.run("env_seed.yml", dict(KEY_VARS, root=str(base))))
    cases = tmp_path / "cases"
    compose_cases, env_cases = [], []
    for kind, table, out in (("compose", COMPOSE_CASES, compose_cases), ("env", ENV_CASES, env_cases)):
        for index, (case, (args, _expected)) in enumerate(table.items()):
            project = cases / ("%s-%02d" % (kind, index))
            shutil.copytree(base / "openai", project)
            out.append(dict({"case": case, "project_dir": str(project), "template": "openai"}, **args))
            if "stack" in args:
                del out[-1]["template"]
    fresh = tmp_path / "fresh"  # a directory that does not exist must not be created by a failure
    compose_cases.append({"case": "fresh dir", "project_dir": str(fresh), "template": "opnai"})
    env_cases.append({"case": "fresh dir", "project_dir": str(fresh), "template": "openai",
                      "set": {LLM: {"OPENAI_API_KEY": MISPLACED}}})
    before = snapshot(cases)
    assert len({p.split("/")[0] for p in before}) == len(COMPOSE_CASES) + len(ENV_CASES)

    run = ok(ansible.run("bad_input.yml", {"compose_cases": compose_cases, "env_cases": env_cases,
                                           "missing_catalog": MISSING_IMAGE}))
    assert snapshot(cases) == before, "a refused task changed files on disk"
    assert not fresh.exists(), "a refused task created its project directory"
    assert run.task("A template naming an unknown image is reported as not functional").get("failed") is not True

    problems = []
    for task, table in (("Bad voice_compose input", COMPOSE_CASES), ("Bad voice_env input", ENV_CASES)):
        results = run.task(task)["results"]
        expected = dict((case, frags) for case, (_args, frags) in table.items())
        expected["fresh dir"] = ["'opnai'"] if "compose" in task else ["OPENAI_API_KEY", "secret"]
        assert [r["item"]["case"] for r in results] == list(expected), results
        for result in results:
            case = result["item"]["case"]
            msg = str(result.get("msg", ""))
            where = "%s / %s: %r" % (task, case, msg)
            if not result.get("failed"):
                problems.append("%s: did not fail" % where)
                continue
            if MISPLACED in msg:
                problems.append("%s: the error message repeats a key" % where)
            if "Traceback" in msg + str(result.get("exception", "")) or "Unexpected failure" in msg \
                    or "\n" in msg.strip():
                problems.append("%s: not one clear line (or an unexpected exception)" % where)
            if "_Ansible" in msg:
                problems.append("%s: names an internal Ansible type instead of the YAML type" % where)
            problems += ["%s: lacks %r" % (where, frag) for frag in expected[case] if frag not in msg]
    assert not problems, "\n".join(problems)


# -- 4. service_prefix -----------------------------------------------------------------------------


def test_two_prefixed_deployments_side_by_side(ansible: Ansible, tmp_path: Path, docker_compose: List[str]) -> None:
    root = tmp_path / "host"
    run = ok(ansible.run("prefix.yml", dict(KEY_VARS, root=str(root))))
    assert run.stats["changed"] == 2, run
    seen_containers = set()
    for prefix, subnet in (("a", "172.30.1.0/24"), ("b", "172.30.2.0/24")):
        result = run.task("Deployment %s" % prefix)
        assert result["deployment"] == "dep-%s" % prefix
        assert all(name.startswith(prefix + "-") for name in result["services"]), result["services"]
        doc = yaml.safe_load((root / prefix / "docker-compose.yml").read_text())
        services = doc["services"]
        assert set(services) == set(result["services"])
        for name, svc in services.items():
            assert svc["container_name"] == name
        llm = services["%s-avr-llm-openai" % prefix]["environment"]
        assert llm["AMI_URL"] == "http://%s-avr-ami:6006" % prefix
        core = services["%s-avr-core" % prefix]["environment"]
        assert core["ASR_URL"].startswith("http://%s-avr-asr-deepgram:6010/" % prefix), core
        assert services["%s-avr-ami" % prefix]["environment"]["AMI_HOST"] == "%s-avr-asterisk" % prefix

        proc = subprocess.run(docker_compose + ["--project-directory", str(root / prefix), "-f",
                                                "docker-compose.yml", "config", "--format", "json"],
                              cwd=root / prefix, capture_output=True, text=True, check=False,
                              env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)})
        assert proc.returncode == 0, "docker compose config rejected deployment %s: %s" % (prefix, proc.stderr)
        config = json.loads(proc.stdout)
        assert config["name"] == "dep-%s" % prefix
        containers = {svc["container_name"] for svc in config["services"].values()}
        assert not containers & seen_containers, "container names clash between deployments"
        seen_containers |= containers
        network = config["networks"]["avr"]
        assert network["name"] == "%s-avr" % prefix
        assert network["ipam"]["config"] == [{"subnet": subnet}]


# -- 5. filters ------------------------------------------------------------------------------------


def test_filters_in_a_playbook(ansible: Ansible) -> None:
    run = ok(ansible.run("filters.yml"))
    asserted = [t for play in run.data["plays"] for t in play["tasks"]
                if t["hosts"]["localhost"].get("action") == "ansible.builtin.assert"]
    assert len(asserted) == 5, run
    assert run.stats["failures"] == 0 and run.stats["ok"] >= 5, run


# -- 6. byte-identical output across processes ---------------------------------------------------


def test_output_is_byte_identical_across_hash_seeds(ansible: Ansible, tmp_path: Path) -> None:
    roots = [tmp_path / "seed-1", tmp_path / "seed-2"]
    pending = [ansible.run("determinism.yml", {"root": str(root)}, env={"PYTHONHASHSEED": seed}, start=True)
               for root, seed in zip(roots, ("1", "4242"))]
    for finish in pending:
        ok(finish())
    files = [{p: (r / p).read_bytes() for p in sorted(snapshot(r)) if (r / p).is_file()} for r in roots]
    assert len(files[0]) == 8, sorted(files[0])
    assert sorted(files[0]) == sorted(files[1])
    different = [p for p in files[0] if files[0][p] != files[1][p]]
    assert not different, "output differs between PYTHONHASHSEED=1 and 4242: %s" % different
    selection = yaml.safe_load(files[0]["selection/docker-compose.yml"])
    assert selection["services"]["sel-avr-core"]["environment"]["SYSTEM_MESSAGE"] == \
        "Price: $$5 & 'quotes' \"double\" # not a comment: yes"
