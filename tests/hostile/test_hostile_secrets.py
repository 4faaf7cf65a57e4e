"""Hostile secrets: common words, `{{service:x}}`, YAML/JSON syntax, newline; --diff after switching
template or provider; a hand-written compose file (flow style, JSON, block scalar) holding a key."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

from harness import (KEYS, LLM, MASK, PARTS, Case, compose_holds, hold, new_marker, part_of, run_batch,
                     write_secret_file)

ASR, TTS = "avr-asr-deepgram", "avr-tts-deepgram"
COMMON = ("always", "agentvoiceresponse")


def _diff_text(result: Dict[str, Any]) -> str:
    diffs = result.get("diff") or []
    if isinstance(diffs, dict):
        diffs = [diffs]
    return "\n".join("%s\n%s" % (d.get("before", ""), d.get("after", "")) for d in diffs if isinstance(d, dict))


def _not_corrupted(result: Dict[str, Any]) -> List[str]:
    """A common-word secret must not mask ordinary lines of the diff (restart: always, image names)."""
    text = _diff_text(result)
    bad = [line.strip() for line in text.splitlines()
           if MASK in line and not re.search(r"(KEY|SECRET|PASSWORD|TOKEN|CREDENTIALS?)\W*[:=]", line)]
    out = ["the diff masks an ordinary line: %r" % line for line in bad[:3]]
    if "restart: always" not in text and "restart:" in text:
        out.append("the diff lost 'restart: always'")
    return out


def _keys_held(values: Dict[str, str], common: bool = False, secret_vars: Dict[str, str] = None):
    wanted = [(LLM, "OPENAI_API_KEY", values["openai"]), (ASR, "DEEPGRAM_API_KEY", values["deepgram"]),
              (TTS, "DEEPGRAM_API_KEY", values["deepgram"])]
    wanted += [("avr-ami", var, value) for var, value in (secret_vars or {}).items()]

    def check(project: Path, result: Dict[str, Any]) -> List[str]:
        out: List[str] = []
        for service, var, value in wanted:
            out += compose_holds(project, service, var, value)
        if common:
            out += _not_corrupted(result)
        return out
    return check


def _keys(**changed: str) -> Dict[str, str]:
    return dict(KEYS, **changed)


CASES: List[Case] = []

# -- valid secrets that look like something else: stored whole, never templated, never shown ------
VALID = [
    ("common words", {"openai": "agentvoiceresponse", "deepgram": "always"}, True),
    ("service token", {"openai": new_marker("sk") + "{{service:avr-core}}"}, False),
    ("unknown service token", {"openai": "{{service:avr-nope}}" + new_marker("sk")}, False),
    ("service token alone", {"deepgram": "{{service:avr-core}}"}, False),
    ("jinja", {"openai": "{{ lookup('env','HOME') }}" + new_marker("sk")}, False),
    ("dollar", {"openai": new_marker("sk") + "$HOME${X}$$"}, False),
    ("colon space", {"openai": new_marker("sk") + ": x"}, False),
    ("dash", {"openai": "- " + new_marker("sk")}, False),
    ("hash", {"openai": "#" + new_marker("sk") + " #x"}, False),
    ("flow mapping", {"openai": "{%s: [1, 2]}" % new_marker("sk")}, False),
    ("JSON", {"openai": json.dumps({"k": new_marker("sk")})}, False),
    ("quotes", {"openai": "'\"%s\"'" % new_marker("sk")}, False),
    ("anchor and alias", {"openai": "&a %s *a" % new_marker("sk")}, False),
    ("tag", {"openai": "!!binary " + new_marker("sk")}, False),
    ("YAML bool", {"deepgram": "yes"}, False),
    ("leading space", {"openai": " " + new_marker("sk")}, False),
]
for label, keys, common in VALID:
    CASES.append(Case("provider key: %s" % label, "voice_compose", {"provider_keys": _keys(**keys)}, ok=True,
                      check=_keys_held(_keys(**keys), common), words=COMMON if common else ()))
for label, keys, common in VALID[:3]:
    CASES.append(Case("provider key (check mode): %s" % label, "voice_compose", {"provider_keys": _keys(**keys)},
                      ok=True, check_mode=True, words=COMMON if common else ()))
for label, value in (("common word", "agentvoiceresponse"), ("service token", "{{service:avr-core}}"),
                     ("dollar", new_marker("pw") + "$X")):
    CASES.append(Case("secrets.AMI_PASSWORD: %s" % label, "voice_compose", {"secrets": {"AMI_PASSWORD": value}},
                      ok=True, check=_keys_held(KEYS, label == "common word", {"AMI_PASSWORD": value}),
                      words=("agentvoiceresponse",) if label == "common word" else ()))

# -- secrets that must be refused without being shown -----------------------------------------------
for label, suffix in (("newline", "\nsecond line"), ("trailing newline", "\n"), ("CR", "\rx"), ("NUL", "\0x")):
    key = new_marker("sk") + suffix
    CASES.append(Case("provider key: %s" % label, "voice_compose", {"provider_keys": _keys(openai=key)},
                      field="provider_keys.openai", value=key, secret=True))
    pw = new_marker("pw") + suffix
    CASES.append(Case("secrets.AMI_PASSWORD: %s" % label, "voice_compose", {"secrets": {"AMI_PASSWORD": pw}},
                      field="secrets.AMI_PASSWORD", value=pw, secret=True))
for label, value in (("a list", [new_marker("sk")]), ("a mapping", {"k": new_marker("sk")}), ("a number", 12345)):
    CASES.append(Case("provider key: %s" % label, "voice_compose", {"provider_keys": _keys(openai=value)},
                      field="provider_keys.openai"))
CASES.append(Case("secrets: unknown name", "voice_compose", {"secrets": {"AMI_PASWORD": new_marker("pw")}},
                  field="secrets", value="AMI_PASWORD"))
CASES.append(Case("voice_env set: a key as a value", "voice_env",
                  {"set": {LLM: {"OPENAI_API_KEY": new_marker("sk")}}}, field="set.%s.OPENAI_API_KEY" % LLM))

# -- --diff after switching template or provider: the old keys stay hidden --------------------------


def _no_store(project: Path) -> None:
    (project / "environment.json").unlink()


for label, args in (
        ("template anthropic", {"template": "anthropic"}),
        ("template google", {"template": "google"}),
        ("template vosk", {"template": "vosk"}),
        ("template ultravox", {"template": "ultravox"}),
        ("modular openrouter", {"template": None, "stack": "modular",
                                "providers": {"asr": "deepgram", "llm": "openrouter", "tts": "deepgram"}}),
        ("sts ultravox", {"template": None, "stack": "sts", "providers": {"sts": "ultravox"}})):
    args = {k: v for k, v in args.items() if v is not None}
    template = args.pop("template", None)
    CASES.append(Case("diff after switching to %s" % label, "voice_compose", dict(args, allow_missing=True),
                      template=template, ok=True, setup=_no_store))
    CASES.append(Case("diff (check mode) after switching to %s" % label, "voice_compose",
                      dict(args, allow_missing=True), template=template, ok=True, setup=_no_store, check_mode=True))
CASES.append(Case("switch template on a store seeded for openai", "voice_compose", {"allow_missing": True},
                  template="anthropic", field="environment.json", also=("openai",)))

# -- a hand-written compose file holding a key, in the shapes YAML allows ---------------------------


def _hand_written(text: str):
    def setup(project: Path) -> None:
        write_secret_file(project / "docker-compose.yml", text.encode())
    return setup


HAND = {
    "flow style": "{services: {avr-llm-openai: {image: x, environment: {OPENAI_API_KEY: %s, OPENAI_MODEL: gpt}}}}\n",
    "JSON": json.dumps({"services": {LLM: {"image": "x", "environment": {"OPENAI_API_KEY": "%s"}}}}) + "\n",
    "literal block scalar": "services:\n  avr-llm-openai:\n    environment:\n      OPENAI_API_KEY: |\n        %s\n",
    "folded block scalar": "services:\n  avr-llm-openai:\n    environment:\n      OPENAI_API_KEY: >-\n        %s\n",
    "list of KEY=value": "services:\n  avr-llm-openai:\n    environment:\n      - OPENAI_API_KEY=%s\n",
    "quoted key": "services:\n  avr-llm-openai:\n    environment:\n      \"OPENAI_API_KEY\": '%s'\n",
    "anchor": "x-key: &k %s\nservices:\n  avr-llm-openai:\n    environment:\n      OPENAI_API_KEY: *k\n",
    "other template's variable": "services:\n  avr-llm-anthropic:\n    environment:\n      ANTHROPIC_API_KEY: %s\n",
    "multi-line plain scalar": "services:\n  avr-llm-openai:\n    environment:\n      OPENAI_API_KEY: abc\n"
                               "        %s\n",
    "secrets.AMI_PASSWORD of avr-ami": "services:\n  avr-ami:\n    environment:\n      AMI_PASSWORD: %s\n",
    "not YAML at all": "OPENAI_API_KEY=%s\n\t: [\n",
}
for label, shape in HAND.items():
    CASES.append(Case("hand-written compose file: %s" % label, "voice_compose", {}, ok=True,
                      setup=_hand_written(shape % new_marker("hw")), check=_keys_held(KEYS)))
    CASES.append(Case("hand-written compose file (check mode): %s" % label, "voice_compose", {}, ok=True,
                      check_mode=True, setup=_hand_written(shape % new_marker("hw"))))

CASES.append(Case("hand-written compose file: common-word key", "voice_compose", {}, ok=True, words=("always",),
                  setup=_hand_written("services:\n  avr-llm-openai:\n    restart: always\n    environment:\n"
                                      "      OPENAI_API_KEY: always\n")))


@pytest.mark.parametrize("part", PARTS)
def test_secrets(ansible, seeded: Path, tmp_path: Path, part: str) -> None:
    began = time.monotonic()
    outcomes = run_batch(ansible, tmp_path / "cases", seeded, part_of(CASES, part))
    hold("secrets", outcomes, time.monotonic() - began, part)
