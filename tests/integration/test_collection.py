"""The collection as a user gets it: the main job's requirements, the built tarball, module_defaults.

- The main job (``./scripts/render.sh``) installs ``requirements.txt`` only. Run for real, with its
  venv under /tmp (keyed by the file's hash, so only a changed file costs an install), it renders,
  and its venv resolves ``community.docker.docker_compose_v2`` and passes
  ``ansible-playbook --syntax-check`` of a playbook that uses the ``stack`` role.
- ``ansible-galaxy collection build`` makes a tarball without the checkout's state (virtualenvs,
  the ``.collections`` link, caches, rendered and test output), whose install honours
  ``galaxy.yml``'s ``dependencies`` and runs real playbooks from the install path, never from the
  symlinked checkout.
- ``meta/runtime.yml``'s action group ``voice`` serves ``module_defaults`` for the voice modules.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest
import yaml
from ansible_env import ansible_environ

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
#: The collections the `ansible` package installed in the test venv.
SITE_COLLECTIONS = Path(sysconfig.get_paths()["purelib"]) / "ansible_collections"
COMPOSE_MODULE = "community.docker.docker_compose_v2"
UNRESOLVED = "couldn't resolve module/action '%s'" % COMPOSE_MODULE


def run(argv: List[str], env: Dict[str, str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in argv], env=env, cwd=str(cwd), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, check=False)


def shown(proc: subprocess.CompletedProcess) -> str:
    return "$ %s (exit %d)\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
        " ".join(str(a) for a in proc.args), proc.returncode, proc.stdout[-6000:], proc.stderr[-6000:])


def environ(base: Path, collections: Path, scan_sys_path: bool, bin_dir: Path = BIN) -> Dict[str, str]:
    """An isolated Ansible environment: its own config, collections path, tmp dirs; no HOME collections."""
    base.mkdir(parents=True, exist_ok=True)
    config = base / "ansible.cfg"
    config.write_text("[defaults]\nretry_files_enabled = false\nnocolor = true\n")
    env = ansible_environ(config, collections, base, "default")
    env["ANSIBLE_COLLECTIONS_SCAN_SYS_PATH"] = "true" if scan_sys_path else "false"
    (base / "home").mkdir(exist_ok=True)
    env["HOME"] = str(base / "home")
    env["PATH"] = "%s:%s" % (bin_dir, env["PATH"])
    return env


def inventory(base: Path, python: str = sys.executable) -> Path:
    path = base / "inventory.yml"
    path.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": python}}}}))
    return path


def role_playbook(base: Path) -> Path:
    """A play running the role, and one play per task file importing it statically.

    ``include_tasks`` is dynamic, so ``--syntax-check`` of ``roles: [voiceops.avr.stack]`` alone
    never parses the tasks that call community.docker; ``import_role`` with ``tasks_from`` parses
    every task file of the role (read from the tree, so renamed or new files are covered).
    """
    plays: List[Dict[str, object]] = [{"name": "The role", "hosts": "all", "gather_facts": False,
                                       "roles": [{"role": "voiceops.avr.stack"}]}]
    for tasks in sorted((ROOT / "roles" / "stack" / "tasks").glob("*.yml")):
        plays.append({"name": "The role's %s" % tasks.name, "hosts": "all", "gather_facts": False,
                      "tasks": [{"name": "Import %s" % tasks.stem, "ansible.builtin.import_role": {
                          "name": "voiceops.avr.stack", "tasks_from": tasks.stem}}]})
    path = base / "role.yml"
    path.write_text(yaml.safe_dump(plays, sort_keys=False))
    return path


# -- 1. the main job's requirements ------------------------------------------------------------


def main_job(out: Path) -> Tuple[Path, subprocess.CompletedProcess]:
    """``./scripts/render.sh`` as a new user runs it, with its venv under /tmp (keyed by requirements.txt).

    scripts/venv.sh creates the venv and installs requirements.txt into it (only when the file
    changed: its stamp); the lock keeps two workers from installing into one venv at once.
    """
    digest = hashlib.sha256((ROOT / "requirements.txt").read_bytes()).hexdigest()[:16]
    venv = Path("/tmp") / ("voiceops-requirements-%s" % digest)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "VOICEOPS_", "VIRTUAL_ENV"))}
    env.update({"VOICEOPS_VENV": str(venv), "ANSIBLE_NOCOLOR": "1",
                "PYTHON": getattr(sys, "_base_executable", None) or "python3",
                "PATH": ":".join(p for p in env.get("PATH", "/usr/bin:/bin").split(":") if p != str(BIN))})
    with open("%s.lock" % venv, "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        proc = run([ROOT / "scripts" / "render.sh", "-e", "avr_output_dir=%s" % out], env, ROOT, timeout=1800)
    return venv / "bin", proc


def test_requirements_txt_brings_the_collections_the_role_needs(tmp_path: Path, collections_path: Path) -> None:
    out = tmp_path / "out"
    venv_bin, job = main_job(out)
    assert job.returncode == 0, shown(job)
    assert (out / "localhost" / "openai" / "docker-compose.yml").is_file(), shown(job)
    # The venv holds what requirements.txt says, nothing of the test venv.
    freeze = run([venv_bin / "python", "-m", "pip", "freeze"], environ(tmp_path / "f", collections_path, True),
                 tmp_path)
    assert freeze.returncode == 0 and "pytest" not in freeze.stdout, shown(freeze)

    env = environ(tmp_path / "main", collections_path, True, venv_bin)
    doc = run([venv_bin / "ansible-doc", COMPOSE_MODULE], env, tmp_path)
    assert doc.returncode == 0 and "[ERROR]" not in doc.stderr, shown(doc)
    assert "project_src" in doc.stdout and "wait" in doc.stdout, shown(doc)

    playbook = role_playbook(tmp_path)
    hosts = inventory(tmp_path, str(venv_bin / "python"))
    check = run([venv_bin / "ansible-playbook", "-i", hosts, "--syntax-check", playbook], env, tmp_path)
    assert check.returncode == 0, shown(check)

    # The control: the same syntax check without the package's collections fails as a user saw it,
    # so the check above is what proves the collections are there.
    bare = environ(tmp_path / "bare", collections_path, False, venv_bin)
    control = run([venv_bin / "ansible-playbook", "-i", hosts, "--syntax-check", playbook], bare, tmp_path)
    assert control.returncode != 0 and UNRESOLVED in control.stdout + control.stderr, shown(control)


# -- 2. the built tarball ----------------------------------------------------------------------

#: Paths a checkout holds that the tarball must not (planted into the copy that is built).
CHECKOUT_STATE = (".venv/pyvenv.cfg", ".collections/ansible_collections/voiceops/README", ".pytest_cache/v/x",
                  ".mypy_cache/x.json", ".ruff_cache/x", "tests/output/junit.xml", "out/localhost/x.yml",
                  "build/x", "voiceops-avr-0.0.1.tar.gz", "plugins/filter/__pycache__/images.cpython-311.pyc",
                  "changelogs/.plugin-cache.yaml")


def built_tarball(base: Path) -> Path:
    """Build the collection from a copy of the checkout holding the usual checkout state."""
    copy = base / "src" / "avr"

    def ignore(directory: str, names: List[str]) -> List[str]:
        top = Path(directory).resolve() == ROOT
        return [n for n in names if n in (".git", "__pycache__") or (top and n in (
            ".venv", ".collections", "out", ".pytest_cache", ".mypy_cache", ".ruff_cache")) or (
            Path(directory).resolve() == ROOT / "tests" and n == "output")]

    shutil.copytree(ROOT, copy, symlinks=True, ignore=ignore)
    for rel in CHECKOUT_STATE:
        (copy / rel).parent.mkdir(parents=True, exist_ok=True)
        (copy / rel).write_text("checkout state\n")
    # The link scripts/venv.sh makes: the checkout inside itself.
    (copy / ".collections/ansible_collections/voiceops/avr").symlink_to(copy)
    dist = base / "dist"
    env = environ(base / "build-env", base / "none", False)
    proc = run([BIN / "ansible-galaxy", "collection", "build", "--output-path", dist], env, copy)
    assert proc.returncode == 0, shown(proc)
    version = yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]
    tarball = dist / ("voiceops-avr-%s.tar.gz" % version)
    assert tarball.is_file(), shown(proc)
    return tarball


def dependency_sources() -> List[Path]:
    """The collections galaxy.yml declares and what they depend on, as the ansible package installed them (dirs
    with MANIFEST.json)."""
    sources = []
    pending = sorted(yaml.safe_load((ROOT / "galaxy.yml").read_text())["dependencies"])
    while pending:
        namespace, name = pending.pop().split(".")
        path = SITE_COLLECTIONS / namespace / name
        manifest = json.loads((path / "MANIFEST.json").read_text())["collection_info"]
        sources.append(path)
        pending.extend(dep for dep in manifest.get("dependencies") or {}
                       if SITE_COLLECTIONS.joinpath(*dep.split(".")) not in sources)
    return sources


@dataclass
class Installed:
    base: Path
    tarball: Path
    target: Path
    alone: subprocess.CompletedProcess


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The built tarball installed into an empty collections path, with its declared dependencies.

    No Galaxy server is reachable, so the install runs with ``--offline``: ansible-galaxy then resolves
    every dependency from the artifacts given on the command line or collections already installed in
    the target path, and fails on one it cannot satisfy. The dependencies are given as the collection
    directories the ``ansible`` package installed (their MANIFEST.json carries name, version and
    dependencies; ansible-galaxy installs such a directory as a collection): the copy of
    community.docker this project pins, with no tarball to rebuild. The tarball is first installed
    ALONE into another empty path, which must fail naming community.docker: the proof that galaxy.yml
    declares the dependency and ansible-galaxy honours it, not merely that we installed it beside it.
    """
    base = tmp_path_factory.mktemp("collection")
    tarball = built_tarball(base)
    alone_path = base / "alone"
    alone_path.mkdir()
    env = environ(base / "install-env", alone_path, False)
    alone = run([BIN / "ansible-galaxy", "collection", "install", "--offline", "-p", alone_path, tarball],
                env, base)
    target = base / "installed"
    target.mkdir()
    env = environ(base / "install-env", target, False)
    proc = run([BIN / "ansible-galaxy", "collection", "install", "--offline", "-p", target, tarball]
               + dependency_sources(), env, base)
    assert proc.returncode == 0, shown(proc)
    return Installed(base, tarball, target, alone)


def test_tarball_leaves_the_checkout_state_out(installed: Installed) -> None:
    with tarfile.open(installed.tarball) as tar:
        names = tar.getnames()
    assert "MANIFEST.json" in names and "plugins/modules/voice_compose.py" in names, names
    state_dirs = (".venv", ".collections", ".pytest_cache", ".mypy_cache", ".ruff_cache", "out", "build")
    leaked = sorted(n for n in names if n in CHECKOUT_STATE or n.split("/")[0] in state_dirs
                    or n.startswith("tests/output") or "__pycache__" in n.split("/")
                    or n.endswith((".pyc", ".tar.gz")) or n == "changelogs/.plugin-cache.yaml")
    assert not leaked, "the tarball holds checkout state: %s" % leaked


def test_install_honours_the_declared_dependency(installed: Installed) -> None:
    assert installed.alone.returncode != 0, "installed alone although it needs community.docker:\n" + shown(
        installed.alone)
    declared = yaml.safe_load((ROOT / "galaxy.yml").read_text())["dependencies"]
    assert "community.docker" in declared, declared
    wanted = "community.docker:%s (dependency of voiceops.avr" % declared["community.docker"]
    assert wanted in installed.alone.stdout + installed.alone.stderr, shown(installed.alone)
    target = installed.target / "ansible_collections"
    manifest = json.loads((target / "voiceops/avr/MANIFEST.json").read_text())["collection_info"]
    assert manifest["dependencies"] == declared, manifest
    shipped = json.loads((target / "community/docker/MANIFEST.json").read_text())["collection_info"]["version"]
    env = environ(installed.base / "list-env", installed.target, False)
    listed = run([BIN / "ansible-galaxy", "collection", "list", "--format", "json", "-p", installed.target],
                 env, installed.base)
    assert listed.returncode == 0, shown(listed)
    found = {name: info["version"] for path in json.loads(listed.stdout).values() for name, info in path.items()}
    assert found.get("community.docker") == shipped and found.get("voiceops.avr"), found


def test_render_job_and_docs_run_from_the_installed_collection(installed: Installed, tmp_path: Path) -> None:
    """The render job, the docs and the role resolve from the install path (sys.path scan off, no checkout)."""
    target = installed.target
    collection = target / "ansible_collections" / "voiceops" / "avr"
    assert not collection.is_symlink() and (collection / "FILES.json").is_file()
    env = environ(tmp_path / "env", target, False)

    doc = run([BIN / "ansible-doc", "voiceops.avr.voice_compose"], env, tmp_path)
    assert doc.returncode == 0 and "[ERROR]" not in doc.stderr, shown(doc)
    assert str(collection / "plugins" / "modules" / "voice_compose.py") in doc.stdout, shown(doc)
    assert str(ROOT) not in doc.stdout, shown(doc)

    out = tmp_path / "out"
    job = run([BIN / "ansible-playbook", "-i", inventory(tmp_path), "voiceops.avr.render",
               "-e", "avr_output_dir=%s" % out, "-e", "avr_template=vosk"], env, tmp_path)
    assert job.returncode == 0, shown(job)
    compose = out / "localhost" / "vosk" / "docker-compose.yml"
    assert compose.is_file() and (compose.parent / "environment.json").is_file(), shown(job)
    assert "avr-asr-vosk" in yaml.safe_load(compose.read_text())["services"], compose.read_text()

    check = run([BIN / "ansible-playbook", "-i", inventory(tmp_path), "--syntax-check", role_playbook(tmp_path)],
                env, tmp_path)
    assert check.returncode == 0, shown(check)


# -- 3. module_defaults through the action group -----------------------------------------------


def test_module_defaults_group_sets_the_shared_options(tmp_path: Path, collections_path: Path) -> None:
    project = tmp_path / "srv" / "support"
    playbook = tmp_path / "defaults.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "Options set once for the voice modules", "hosts": "all", "gather_facts": False,
        "module_defaults": {"group/voiceops.avr.voice": {"project_dir": str(project), "template": "openai"}},
        "tasks": [
            {"name": "Seed the store", "voiceops.avr.voice_env": {"set": {"avr-llm-openai": {
                "OPENAI_MODEL": "gpt-4o-mini"}}}},
            {"name": "Render", "voiceops.avr.voice_compose": {"allow_missing": True}},
        ]}], sort_keys=False))
    env = environ(tmp_path / "env", collections_path, True)
    proc = run([BIN / "ansible-playbook", "-i", inventory(tmp_path), playbook], env, tmp_path)
    assert proc.returncode == 0, shown(proc)
    store = json.loads((project / "environment.json").read_text())
    assert "gpt-4o-mini" in json.dumps(store), store
    compose = yaml.safe_load((project / "docker-compose.yml").read_text())
    llm = [s for s in compose["services"].values() if "avr-llm-openai" in str(s.get("image"))]
    assert llm and "gpt-4o-mini" in json.dumps(llm[0].get("environment")), compose


def group_members() -> Optional[List[str]]:
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    return (runtime.get("action_groups") or {}).get("voice")


def test_the_group_lists_every_module_taking_project_dir() -> None:
    """Every module whose options include project_dir is in the group (read from the module docs)."""
    members = group_members() or []
    takes = []
    for module in sorted((ROOT / "plugins" / "modules").glob("*.py")):
        text = module.read_text()
        doc = yaml.safe_load(text.split('DOCUMENTATION = r"""', 1)[1].split('"""', 1)[0])
        options = set(doc.get("options") or {})
        fragments = doc.get("extends_documentation_fragment") or []
        if "project_dir" in options or "voiceops.avr.selection" in fragments:
            takes.append(module.stem)
    assert takes and not sorted(set(takes) - set(members)), "not in group voice: %s" % sorted(set(takes) - set(members))


def test_module_docs_state_the_group_membership(tmp_path: Path, collections_path: Path) -> None:
    """ansible-doc shows attributes.action_group.membership exactly for the modules in the group."""
    members = set(group_members() or [])
    modules = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py"))
    env = environ(tmp_path / "env", collections_path, True)
    proc = run([BIN / "ansible-doc", "--json"] + ["voiceops.avr.%s" % m for m in modules], env, tmp_path)
    assert proc.returncode == 0, shown(proc)
    docs = json.loads(proc.stdout)
    documented = {name.split(".")[-1] for name, entry in docs.items()
                  if "voiceops.avr.voice" in ((entry["doc"].get("attributes") or {}).get("action_group") or {}).get(
                      "membership", [])}
    assert documented <= members, "documented as in group voice but not in meta/runtime.yml: %s" % (
        sorted(documented - members))
    undocumented = sorted((members & set(modules)) - documented)
    assert not undocumented, "in group voice without attributes.action_group in their docs: %s" % undocumented
