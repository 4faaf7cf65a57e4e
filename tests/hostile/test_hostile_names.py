"""Hostile names: deployment, service_prefix, template, providers, compose_file, env names."""

from __future__ import annotations

import time
from pathlib import Path
from typing import List

import pytest

from harness import PARTS, part_of, LLM, Case, hold, run_batch

CYR_E = "\u0435"      # Cyrillic small ie, looks like "e"
CYR_O = "\u043e"      # Cyrillic small o
LONG = "p" * 50       # 50 + "-" + "avr-llm-openai": longer than a DNS label (63)

#: Spellings of one bad name, applied to each name option below: (label, value, the value quoted?).
BAD_NAMES = [
    ("trailing newline", "{n}\n", True),
    ("NUL", "{n}\0x", True),
    ("dot-dot slash", "../{n}", True),
    ("slash", "a/{n}", True),
    ("leading space", " {n}", True),
    ("trailing space", "{n} ", True),
    ("look-alike", "{lookalike}", True),
    ("64 chars", "{n}" + "x" * 64, True),
]
NOT_STR = [("int", 12), ("bool", True), ("list", ["{n}"]), ("dict", {"a": "{n}"})]


def _spell(pattern: object, name: str, lookalike: str) -> object:
    if isinstance(pattern, str):
        return pattern.format(n=name, lookalike=lookalike)
    if isinstance(pattern, list):
        return [_spell(p, name, lookalike) for p in pattern]
    if isinstance(pattern, dict):
        return {k: _spell(v, name, lookalike) for k, v in pattern.items()}
    return pattern


def _option_cases(module: str, option: str, name: str, lookalike: str, empty: bool = True,
                  field: str = "", skip: tuple = (), converted: tuple = ()) -> List[Case]:
    """Cases for one name option; ``converted``: NOT_STR labels that Ansible turns into a valid name.

    Ansible converts an int or bool given for a ``str`` option to its text (with a warning of its
    own); when that text is a valid name (``12``), the option takes it like any other.
    """
    out = []
    for label, pattern, _q in BAD_NAMES:
        if label in skip:
            continue
        value = _spell(pattern, name, lookalike)
        out.append(Case("%s %s: %s" % (module, option, label), module, {option: value}, field=field or option,
                        value=value))
    if empty:
        out.append(Case("%s %s: empty" % (module, option), module, {option: ""}, field=field or option, value=""))
    for label, value in NOT_STR:
        if label in converted:
            out.append(Case("%s %s: %s" % (module, option, label), module, {option: value}, ok=True))
            continue
        out.append(Case("%s %s: %s" % (module, option, label), module, {option: _spell(value, name, lookalike)},
                        field=field or option))
    return out


def _providers(asr: object) -> dict:
    return {"stack": "modular", "providers": {"asr": asr, "llm": "openai", "tts": "deepgram"}}


CASES: List[Case] = []
CASES += _option_cases("voice_compose", "deployment", "support", "supp" + CYR_O + "rt", converted=("int",))
CASES += _option_cases("voice_compose", "service_prefix", "sales", "sal" + CYR_E + "s", empty=False,
                       converted=("int",))
CASES += [Case("voice_compose service_prefix: 64+ after prefixing", "voice_compose", {"service_prefix": LONG},
               field="service_prefix", value=LONG)]
CASES += _option_cases("voice_compose", "template", "openai", CYR_O + "penai")
CASES += _option_cases("voice_env", "template", "openai", CYR_O + "penai")
# a file name, not a DNS label: long and non-ASCII names are valid file names
CASES += _option_cases("voice_compose", "compose_file", "docker-compose.yml", "", skip=("64 chars", "look-alike"),
                       converted=("int", "bool"))
CASES += [
    Case("voice_compose compose_file: %s" % name, "voice_compose", {"compose_file": name},
         field="compose_file", value=name)
    for name in ("environment.json", ".credentials.json", "current", "releases", ".", "..", "/etc/passwd")
]
for label, pattern, _q in BAD_NAMES + [("empty", "", True)]:
    value = _spell(pattern, "deepgram", "d" + CYR_E + "epgram")
    CASES.append(Case("voice_compose providers.asr: %s" % label, "voice_compose", _providers(value),
                      field="providers.asr", value=value))
    CASES.append(Case("voice_compose provider_keys name: %s" % label, "voice_compose",
                      {"provider_keys": {value: "pk-not-a-marker-0001"}}, field="provider_keys", value=value))
for label, value in NOT_STR:
    CASES.append(Case("voice_compose providers.asr: %s" % label, "voice_compose",
                      _providers(_spell(value, "deepgram", "")), field="providers.asr"))
# env variable names and service names, in voice_compose env and voice_env set/unset
VAR_NAMES = [(label, _spell(p, "OPENAI_MODEL", CYR_O + "PENAI_MODEL")) for label, p, _q in BAD_NAMES] + [
    ("empty", ""), ("lower case", "openai_model"), ("dollar", "OPENAI_$MODEL"), ("equals", "OPENAI_MODEL=x")]
for label, name in VAR_NAMES:
    CASES.append(Case("voice_compose env name: %s" % label, "voice_compose", {"env": {LLM: {name: "gpt-4o"}}},
                      field="env.%s" % LLM, value=name))
    CASES.append(Case("voice_env set name: %s" % label, "voice_env", {"set": {LLM: {name: "gpt-4o"}}},
                      field="set.%s" % LLM, value=name))
    CASES.append(Case("voice_env unset name: %s" % label, "voice_env", {"unset": {LLM: [name]}},
                      field="unset.%s" % LLM, value=name))
for label, pattern, _q in BAD_NAMES[:7] + [("empty", "", True)]:
    service = _spell(pattern, LLM, "avr-llm-" + CYR_O + "penai")
    CASES.append(Case("voice_compose env service: %s" % label, "voice_compose",
                      {"env": {service: {"OPENAI_MODEL": "gpt-4o"}}}, field="env", value=service))
    CASES.append(Case("voice_env set service: %s" % label, "voice_env",
                      {"set": {service: {"OPENAI_MODEL": "gpt-4o"}}}, field="set", value=service))
# a name given where a mapping or list is expected
CASES += [
    Case("voice_env unset: a string, not a list", "voice_env", {"unset": {LLM: "OPENAI_MODEL"}},
         field="unset.%s" % LLM),
    Case("voice_compose env: a list of values", "voice_compose", {"env": {LLM: ["OPENAI_MODEL=gpt-4o"]}},
         field="env.%s" % LLM),
]


@pytest.mark.parametrize("part", PARTS)
def test_names(ansible, seeded: Path, tmp_path: Path, part: str) -> None:
    began = time.monotonic()
    outcomes = run_batch(ansible, tmp_path / "cases", seeded, part_of(CASES, part))
    hold("names", outcomes, time.monotonic() - began, part)
