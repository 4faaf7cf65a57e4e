"""Hostile modes and owners: spellings Ansible accepts that make a key-holding file readable by
group or others, invalid modes, unknown owners and groups."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

from harness import PARTS, part_of, LLM, Case, compose_holds, hold, mode_of, run_batch, store_holds

CHANGE = {"env": {LLM: {"OPENAI_MODEL": "gpt-4o"}}}            # makes voice_compose write
ENV_CHANGE = {"set": {LLM: {"OPENAI_MODEL": "gpt-4o"}}}        # makes voice_env write

#: Modes that let group or others read the compose file, which holds keys: refused.
READABLE = ["0644", "0640", "0604", "0660", "0666", "0o644", " 0644", "0644 ", "644", "u=rw,g=u", "u=rw,go=u",
            "a=u", "u=rw,o=u", "u=rw,g=r", "a=r", "u=rw,g+r", "g+r", "0777", "4644", "u=rw,o+r"]
#: Integers as YAML gives them (0644 unquoted is the integer 420).
READABLE_INT = [420, 0o640, 0o604]
#: Not modes at all: refused for both modules.
#: '' and 'u=rw,' (an empty symbolic clause) Ansible would read as "no change": refused as the slip they are.
INVALID = ["preserve", "rw", "0999", "u=rw,bogus", "", "-1", "99999", "0o", "u=rw,", "x=rw", "u=rwq",
           "06\x0000"]
#: Private modes: accepted, the file ends up with exactly this mode.
PRIVATE = [("0600", 0o600), ("0o600", 0o600), ("600", 0o600), ("u=rw", 0o600), ("u=rw,go=", 0o600),
           ("0400", 0o400), ("u=r", 0o400), (384, 0o600), ("go-rwx", 0o600), ("a-rwx,u=rw", 0o600),
           ("0600\n", 0o600)]  # Ansible reads int('0600\n', 8) == 0o600: the resulting mode decides


def _compose_mode(expected: int):
    def check(project: Path, result: Dict[str, Any]) -> List[str]:
        return compose_holds(project, LLM, "OPENAI_MODEL", "gpt-4o", file_mode=expected)
    return check


def _store_mode(expected: int):
    def check(project: Path, result: Dict[str, Any]) -> List[str]:
        out = store_holds(project, LLM, "OPENAI_MODEL", "gpt-4o")
        got = mode_of(project / "environment.json")
        return out + ([] if got == expected else ["environment.json is mode %04o, not %04o" % (got, expected)])
    return check


CASES: List[Case] = []
for value in READABLE:
    CASES.append(Case("compose mode %r with a change" % value, "voice_compose", dict(CHANGE, mode=value),
                      field="mode", value=value))
for value in READABLE[:8] + ["u=rw,g=u", "a=u"]:
    CASES.append(Case("compose mode %r alone" % value, "voice_compose", {"mode": value}, field="mode", value=value))
for value in READABLE_INT:
    CASES.append(Case("compose mode int %04o" % value, "voice_compose", dict(CHANGE, mode=value), field="mode"))
for value in INVALID:
    CASES.append(Case("compose mode %r" % value, "voice_compose", dict(CHANGE, mode=value), field="mode",
                      value=value))
    CASES.append(Case("environment.json mode %r" % value, "voice_env", dict(ENV_CHANGE, mode=value), field="mode",
                      value=value))
for value, expected in PRIVATE:
    CASES.append(Case("compose mode %r" % (value,), "voice_compose", dict(CHANGE, mode=value), ok=True,
                      check=_compose_mode(expected)))
# environment.json holds no secret: a readable mode is fine, and must be the mode asked for
for value, expected in (("0o644", 0o644), ("u=rw,g=u", 0o664), ("a=u", 0o666), ("0640", 0o640),
                        ("u=rw,go=r", 0o644), ("0600\n", 0o600)):
    CASES.append(Case("environment.json mode %r" % value, "voice_env", dict(ENV_CHANGE, mode=value), ok=True,
                      check=_store_mode(expected)))
# owners and groups
for module, change in (("voice_compose", CHANGE), ("voice_env", ENV_CHANGE)):
    for option, value in (("owner", "nosuchuser-hostile"), ("group", "nosuchgroup-hostile"), ("owner", "root\n"),
                          ("group", "root\n"), ("owner", "../root"), ("owner", "4294967296"),
                          ("group", "-1"), ("owner", "")):
        CASES.append(Case("%s %s %r" % (module, option, value), module, dict(change, **{option: value}),
                          field=option, value=value))
    CASES.append(Case("%s owner unknown, no change" % module, module, {"owner": "nosuchuser-hostile"},
                      field="owner", value="nosuchuser-hostile"))
    CASES.append(Case("%s owner root group root" % module, module, dict(change, owner="root", group="root"),
                      ok=True, check=_compose_mode(0o600) if module == "voice_compose" else _store_mode(0o644)))
    CASES.append(Case("%s numeric owner 0" % module, module, dict(change, owner="0", group="0"), ok=True,
                      check=_compose_mode(0o600) if module == "voice_compose" else _store_mode(0o644)))
# backup with a bad mode: no backup file either
CASES.append(Case("compose mode 0644 with backup", "voice_compose", dict(CHANGE, mode="0644", backup=True),
                  field="mode", value="0644"))
CASES.append(Case("compose mode 'preserve' with backup", "voice_compose", dict(CHANGE, mode="preserve", backup=True),
                  field="mode", value="preserve"))
CASES.append(Case("compose unknown owner with backup", "voice_compose",
                  dict(CHANGE, owner="nosuchuser-hostile", backup=True), field="owner", value="nosuchuser-hostile"))


def _backup_private(project: Path, result: Dict[str, Any]) -> List[str]:
    out = compose_holds(project, LLM, "OPENAI_MODEL", "gpt-4o")
    backups = [p for p in project.iterdir() if p.name.startswith("docker-compose.yml.") or p.name.endswith("~")]
    if not backups:
        out.append("no backup file was made")
    out += ["backup %s is mode %04o" % (p.name, mode_of(p)) for p in backups if mode_of(p) & 0o077]
    return out


CASES.append(Case("compose backup of a key-holding file", "voice_compose", dict(CHANGE, backup=True), ok=True,
                  check=_backup_private))


@pytest.mark.parametrize("part", PARTS)
def test_modes(ansible, seeded: Path, tmp_path: Path, part: str) -> None:
    began = time.monotonic()
    outcomes = run_batch(ansible, tmp_path / "cases", seeded, part_of(CASES, part))
    hold("modes", outcomes, time.monotonic() - began, part)
