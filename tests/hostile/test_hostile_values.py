"""Hostile values: env values with newline, NUL, `$`, `{{service:...}}`, YAML syntax, huge values,
invalid UTF-8 in environment.json."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

from harness import PARTS, part_of, LLM, Case, compose_holds, hold, run_batch, store_holds

VAR = "SYSTEM_PROMPT"

#: Values that must be refused: (label, value).
BAD = [
    ("newline", "line one\nline two"),
    ("trailing newline", "prompt\n"),
    ("CR", "line one\rline two"),
    ("NUL", "before\0after"),
    ("unknown service token", "call {{service:avr-nope}} now"),
    ("service token with ../", "{{service:../etc}}"),
    ("service token with newline", "{{service:avr-core\n}}"),
]
#: Values that are hostile but valid: stored whole, reaching the container as written.
GOOD = [
    ("dollar", "costs $5"),
    ("dollar name", "home is $HOME"),
    ("dollar brace", "${OPENAI_API_KEY}"),
    ("double dollar", "a$$b"),
    ("YAML bool", "yes"),
    ("YAML null", "~"),
    ("YAML octal", "0o17"),
    ("YAML float", "1e3"),
    ("colon space", "key: value"),
    ("dash", "- item"),
    ("hash", "# not a comment"),
    ("anchor", "&anchor *alias"),
    ("tag", "!!python/object:os.system"),
    ("quotes", "it's \"quoted\""),
    ("flow", "{a: [b, c]}"),
    ("jinja", "{{ lookup('env', 'HOME') }}"),
    ("jinja block", "{% raw %}x{% endraw %}"),
    ("tab", "a\tb"),
    ("line separator", "a\u2028b"),
    ("next line", "a\u0085b"),
    ("BOM", "\ufeffprompt"),
    ("RTL override", "abc\u202edef"),
    ("emoji", "hello \U0001F600"),
    ("leading space", " padded "),
    ("empty", ""),
    ("huge (64 KiB)", "x" * (64 * 1024)),
]


def _compose_ok(value: str):
    def check(project: Path, result: Dict[str, Any]) -> List[str]:
        return compose_holds(project, LLM, VAR, value)
    return check


def _store_ok(value: str):
    def check(project: Path, result: Dict[str, Any]) -> List[str]:
        return store_holds(project, LLM, VAR, value)
    return check


def _store_with(service: str, var: str, raw: bytes):
    def setup(project: Path) -> None:
        path = project / "environment.json"
        text = path.read_bytes()
        data = json.loads(text)
        data["services"][service][var] = "@@PLACEHOLDER@@"
        out = json.dumps(data, indent=2).encode().replace(b"\"@@PLACEHOLDER@@\"", raw)
        path.write_bytes(out)
    return setup


CASES: List[Case] = []
for label, value in BAD:
    CASES.append(Case("voice_compose env value: %s" % label, "voice_compose", {"env": {LLM: {VAR: value}}},
                      field="env.%s.%s" % (LLM, VAR)))
    CASES.append(Case("voice_env set value: %s" % label, "voice_env", {"set": {LLM: {VAR: value}}},
                      field="set.%s.%s" % (LLM, VAR)))
#: JSON stores any string: voice_env (the slower module) gets the values a JSON writer or reader could trip on.
STORE_GOOD = ("dollar brace", "jinja", "line separator", "next line", "BOM", "RTL override", "emoji", "empty",
              "huge (64 KiB)", "quotes", "tab")
for label, value in GOOD:
    CASES.append(Case("voice_compose env value: %s" % label, "voice_compose", {"env": {LLM: {VAR: value}}},
                      ok=True, check=_compose_ok(value)))
    if label in STORE_GOOD:
        CASES.append(Case("voice_env set value: %s" % label, "voice_env", {"set": {LLM: {VAR: value}}},
                          ok=True, check=_store_ok(value)))
# a stored value the store must not take, read back by both modules
STORED_BAD = [
    ("invalid UTF-8", b'"caf\xe9"'),
    ("lone surrogate escape", b'"\\udc80"'),
    ("newline", b'"a\\nb"'),
    ("NUL", b'"a\\u0000b"'),
    ("number", b"5"),
    ("null", b"null"),
    ("list", b'["a"]'),
]
for label, raw in STORED_BAD:
    for module in ("voice_compose", "voice_env"):
        CASES.append(Case("%s reads environment.json value: %s" % (module, label), module,
                          {"set": {LLM: {"OPENAI_MODEL": "gpt-4o"}}} if module == "voice_env" else
                          {"env": {LLM: {"OPENAI_MODEL": "gpt-4o"}}},
                          field="environment.json", setup=_store_with(LLM, VAR, raw)))
for module in ("voice_compose", "voice_env"):
    CASES += [
        Case("%s environment.json: invalid UTF-8 outside strings" % module, module, {},
             field="environment.json",
             setup=lambda p: (p / "environment.json").write_bytes(b'{"format": 1,\xff\xfe "services": {}}')),
        Case("%s environment.json: not JSON" % module, module, {}, field="environment.json",
             setup=lambda p: (p / "environment.json").write_bytes(b"format: 1\nservices: {}\n")),
        Case("%s environment.json: a list" % module, module, {}, field="environment.json",
             setup=lambda p: (p / "environment.json").write_bytes(b"[1, 2]\n")),
        Case("%s environment.json: empty" % module, module, {}, field="environment.json",
             setup=lambda p: (p / "environment.json").write_bytes(b"")),
    ]


@pytest.mark.parametrize("part", PARTS)
def test_values(ansible, seeded: Path, tmp_path: Path, part: str) -> None:
    began = time.monotonic()
    outcomes = run_batch(ansible, tmp_path / "cases", seeded, part_of(CASES, part))
    hold("values", outcomes, time.monotonic() - began, part)
