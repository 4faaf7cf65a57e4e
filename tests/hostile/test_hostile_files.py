"""Hostile files on disk: a full filesystem (tmpfs) with and without backup, symlinked
environment.json inside and outside the project, a credential path that is a directory, stale temp
files holding keys, project paths that are not directories."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

from harness import (GOOGLE_JSON, LLM, Case, compose_holds, hold, mode_of, new_marker, run_batch, store_holds,
                     write_secret_file)

CHANGE = {"env": {LLM: {"OPENAI_MODEL": "gpt-4o"}}}
ENV_CHANGE = {"set": {LLM: {"OPENAI_MODEL": "gpt-4o"}}}
PAGE = 4096
MOUNTS: List[Path] = []


def _full(free_pages: int):
    """The project on its own 256 KiB tmpfs, filled up to ``free_pages`` free pages."""
    def setup(project: Path) -> None:
        keep = project.parent / "seed-copy"
        shutil.move(str(project), str(keep))
        project.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0755", "tmpfs", str(project)], check=True)
        MOUNTS.append(project)
        for item in keep.iterdir():
            shutil.copy2(item, project / item.name)
        shutil.rmtree(keep)
        os.utime(project, ns=(time.time_ns(), time.time_ns()))
        filler = project / "filler"
        fd = os.open(str(filler), os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            while True:
                os.write(fd, b"\0" * PAGE)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
        finally:
            os.close(fd)
        size = filler.stat().st_size // PAGE * PAGE
        os.truncate(filler, max(0, size - free_pages * PAGE))
    return setup


def _env_link(target: str, move: bool = True):
    def setup(project: Path) -> None:
        store = project / "environment.json"
        dest = (project / target) if not target.startswith("/") else Path(target)
        if not os.path.isabs(target):
            dest = Path(os.path.normpath(project / target))
        dest.parent.mkdir(parents=True, exist_ok=True)
        if move:
            shutil.move(str(store), str(dest))
        else:
            store.unlink()
        store.symlink_to(target)
    return setup


def _link_kept(target: str, value: str = "gpt-4o"):
    def check(project: Path, result: Dict[str, Any]) -> List[str]:
        store = project / "environment.json"
        if not store.is_symlink() or os.readlink(store) != target:
            return ["environment.json is no longer the symlink to %s" % target]
        return store_holds(project, LLM, "OPENAI_MODEL", value)
    return check


def _compose_link_outside(project: Path) -> None:
    victim = project.parent / "victim.yml"
    victim.write_text("# someone else's file\n")
    (project / "docker-compose.yml").unlink()
    (project / "docker-compose.yml").symlink_to("../victim.yml")


def _google_path(kind: str):
    def setup(project: Path) -> None:
        (project / "environment.json").unlink()
        cred = project / "google.json"
        if kind == "dir":
            cred.mkdir()
            (cred / "inside").write_text("x")
        elif kind == "outside":
            (project.parent / "victim.json").write_text("{}\n")
            cred.symlink_to("../victim.json")
        elif kind == "dangling":
            cred.symlink_to("../nowhere.json")
    return setup


STALE = new_marker("stale")
#: Temp files an interrupted run of ours leaves: "." + name + "." + the 8 characters mkstemp adds (layout.py).
OURS = {"voice_compose": [".docker-compose.yml.k3x_9q2a", ".docker-compose.yml.0abc_def"],
        "voice_env": [".environment.json.k3x_9q2a", ".environment.json.zz0_1y2x"]}
#: Look-alikes our code can never have made (a suffix of another length or alphabet): a user's, left alone.
LOOK_ALIKES = [".docker-compose.yml.abc123", ".docker-compose.yml.x_y-z", ".docker-compose.yml.ABCDEFGH",
               ".environment.json.k3y", ".google.json.k3y"]


def _stale(module: str):
    def setup(project: Path) -> None:
        for name in OURS[module] + LOOK_ALIKES:
            write_secret_file(project / name, ("OPENAI_API_KEY: %s\n" % STALE).encode())
    return setup


def _no_temp(module: str):
    def check(project: Path, result: Dict[str, Any]) -> List[str]:
        left = sorted(name for name in OURS[module] if os.path.lexists(project / name))
        out = ["stale temp files holding a key survive the run: %s" % left] if left else []
        gone = sorted(name for name in LOOK_ALIKES if not (project / name).is_file()
                      or (project / name).read_bytes() != ("OPENAI_API_KEY: %s\n" % STALE).encode())
        return out + (["a user's look-alike file was removed or changed: %s" % gone] if gone else [])
    return check


def _compose_new(project: Path, result: Dict[str, Any]) -> List[str]:
    return compose_holds(project, LLM, "OPENAI_MODEL", "gpt-4o")


def _path(kind: str):
    def setup(project: Path) -> None:
        if kind == "file":
            project.write_text("not a directory\n")
        elif kind == "link outside":
            (project.parent / "elsewhere").mkdir()
            project.symlink_to("elsewhere")
        elif kind == "parent is a file":
            project.write_text("x")
    return setup


NO_SPACE = ("No space left",)
CASES: List[Case] = [
    # -- a full filesystem --------------------------------------------------------------------------------
    Case("full filesystem: compose, no backup", "voice_compose", CHANGE, field="docker-compose.yml", also=NO_SPACE,
         setup=_full(0)),
    Case("full filesystem: compose, backup", "voice_compose", dict(CHANGE, backup=True), field="docker-compose.yml",
         also=NO_SPACE, setup=_full(0)),
    Case("nearly full (room for the file, not the backup)", "voice_compose", dict(CHANGE, backup=True),
         field="docker-compose.yml", also=NO_SPACE, setup=_full(1)),
    Case("full filesystem: environment.json, no backup", "voice_env", ENV_CHANGE, field="environment.json",
         also=NO_SPACE, setup=_full(0)),
    Case("full filesystem: environment.json, backup", "voice_env", dict(ENV_CHANGE, backup=True),
         field="environment.json", also=NO_SPACE, setup=_full(1)),
    Case("full filesystem: google.json", "voice_compose", {"allow_missing": True}, template="google",
         field="", also=NO_SPACE, diff=False,  # whichever file it could not write
         setup=lambda p: ((p / "environment.json").unlink(), _full(0)(p))),
    # -- symlinks ---------------------------------------------------------------------------------------
    Case("environment.json -> store/env.json (inside)", "voice_env", ENV_CHANGE, ok=True,
         setup=_env_link("store/env.json"), check=_link_kept("store/env.json")),
    Case("environment.json -> store/env.json, voice_compose", "voice_compose", CHANGE, ok=True,
         setup=_env_link("store/env.json"), check=_compose_new),
    Case("environment.json -> ../outside.json", "voice_env", ENV_CHANGE, field="environment.json",
         setup=_env_link("../outside.json")),
    Case("environment.json -> ../outside.json, voice_compose", "voice_compose", CHANGE, field="environment.json",
         setup=_env_link("../outside.json")),
    # a dangling link (its target missing, often an unmounted volume) is refused, not written through
    Case("environment.json -> dangling", "voice_env", ENV_CHANGE, field="environment.json",
         setup=_env_link("missing.json", move=False)),
    Case("environment.json -> dangling, voice_compose", "voice_compose", CHANGE, field="environment.json",
         setup=_env_link("missing.json", move=False)),
    Case("environment.json -> /etc/hostname", "voice_env", ENV_CHANGE, field="environment.json",
         setup=lambda p: ((p / "environment.json").unlink(), (p / "environment.json").symlink_to("/etc/hostname"))),
    Case("docker-compose.yml -> ../victim.yml", "voice_compose", CHANGE, field="docker-compose.yml",
         setup=_compose_link_outside),
    Case("environment.json is a directory", "voice_env", ENV_CHANGE, field="environment.json",
         setup=lambda p: ((p / "environment.json").unlink(), (p / "environment.json").mkdir())),
    Case("environment.json is a directory, voice_compose", "voice_compose", CHANGE, field="environment.json",
         setup=lambda p: ((p / "environment.json").unlink(), (p / "environment.json").mkdir())),
    # -- a store seeded for another template (the same services: nothing else would notice) --------
    Case("store seeded for openai, voice_compose template deepgram", "voice_compose", CHANGE, template="deepgram",
         field="environment.json", also=("'openai'",)),
    Case("store seeded for openai, voice_env template deepgram", "voice_env", ENV_CHANGE, template="deepgram",
         field="environment.json", also=("'openai'",)),
    # -- credential files -------------------------------------------------------------------------------------
    Case("google.json is a directory", "voice_compose", {"allow_missing": True}, template="google",
         field="google.json", diff=False, setup=_google_path("dir")),
    Case("google.json -> ../victim.json", "voice_compose", {"allow_missing": True}, template="google",
         field="google.json", diff=False, setup=_google_path("outside")),
    Case("google.json -> dangling", "voice_compose", {"allow_missing": True}, template="google",
         field="google.json", diff=False, setup=_google_path("dangling")),
    Case("google.json written 0600 (control)", "voice_compose", {"allow_missing": True}, template="google", ok=True,
         diff=False, setup=lambda p: (p / "environment.json").unlink(),
         check=lambda p, r: [] if mode_of(p / "google.json") == 0o600 and
         (p / "google.json").read_text() == GOOGLE_JSON else ["google.json is not the key, mode 0600"]),
    # -- stale temp files ---------------------------------------------------------------------------------------
    # ours are removed, a user's look-alikes (control) are left alone
    Case("stale temp files, a run with a change", "voice_compose", CHANGE, ok=True, setup=_stale("voice_compose"),
         check=lambda p, r: _no_temp("voice_compose")(p, r) + _compose_new(p, r)),
    Case("stale temp files, a run without a change", "voice_compose", {}, ok=True, setup=_stale("voice_compose"),
         check=_no_temp("voice_compose")),
    Case("stale temp files, voice_env", "voice_env", ENV_CHANGE, ok=True, setup=_stale("voice_env"),
         check=_no_temp("voice_env")),
    # -- project paths that are not directories -----------------------------------------------------------------
    Case("project_dir is a file", "voice_compose", CHANGE, field="project_dir", base="none", setup=_path("file")),
    Case("project_dir is a file, voice_env", "voice_env", ENV_CHANGE, field="project_dir", base="none",
         setup=_path("file")),
    Case("project_dir under a file", "voice_compose", dict(CHANGE, project_dir="@CASE@/project/sub"),
         field="project_dir", base="none", setup=_path("parent is a file")),
]


@pytest.fixture
def unmount():
    yield
    while MOUNTS:
        subprocess.run(["umount", "-l", str(MOUNTS.pop())], check=False)


def test_files(ansible, seeded: Path, tmp_path: Path, unmount) -> None:
    began = time.monotonic()
    outcomes = run_batch(ansible, tmp_path / "cases", seeded, CASES)
    hold("files", outcomes, time.monotonic() - began)
