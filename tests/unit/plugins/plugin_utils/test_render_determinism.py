"""Rendering is byte-identical across processes, whatever the hash seed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict

from ansible_collections.voiceops.avr.plugins.module_utils.registry.generations import generations
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import builtin

# Runs in a fresh interpreter: renders every template (two ways) and every provider selection,
# plus a catalog-built registry, and prints {name: content} as JSON.
SCRIPT = r'''
import json, sys
from ansible_collections.voiceops.avr.plugins.module_utils.registry.catalog import effective_registry
from ansible_collections.voiceops.avr.plugins.module_utils.registry.generations import generations
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import builtin
from ansible_collections.voiceops.avr.plugins.plugin_utils.envstore import seed
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import Inputs, plan, render

out = {}
for version in generations():
    reg = builtin(version)
    out[version + " digest"] = reg.digest
    for tid in sorted(reg.templates):
        tpl = reg.template(tid)
        key = version + " " + tid
        out[key] = render(reg, tpl, Inputs("demo", allow_missing=True)).content
        out[key + "+prefix"] = render(reg, tpl, Inputs("demo", service_prefix="blue", allow_missing=True,
                                      provider_keys={p: "k" for p in ("deepgram", "openai", "anthropic")},
                                      secrets={"ADMIN_PASSWORD": "$ecret"})).content
        out[key + "+store"] = json.dumps(seed(plan(reg, tpl)))
    for name in sorted(reg.role_providers["sts"]):
        tpl = reg.select(stack="sts", providers={"sts": name})
        out[version + " select-" + tpl.id] = render(reg, tpl, Inputs("sel", allow_missing=True)).content
    for asr in sorted(reg.role_providers["asr"]):
        for llm in sorted(reg.role_providers["llm"]):
            for tts in sorted(reg.role_providers["tts"]):
                tpl = reg.select(stack="modular", providers={"asr": asr, "llm": llm, "tts": tts})
                out[version + " select-" + tpl.id] = render(reg, tpl, Inputs("sel", allow_missing=True)).content
cat = effective_registry({
    "providers": [{"name": "acme", "env": "ACME_API_KEY"}],
    "images": [{"role": "asr", "name": "acme", "image": "example/acme", "port": 7000, "provider": "acme",
                "env": [{"name": "PORT", "default": "7000"},
                        {"name": "ACME_API_KEY", "secret": True, "required": True, "provider": "acme"}]}],
    "templates": [{"id": "acme", "stack": "modular",
                   "images": {"asr": "asr/acme", "llm": "llm/avr-llm-openai", "tts": "tts/avr-tts-deepgram"}}],
})
out["catalog-digest"] = cat.digest
out["catalog-acme"] = render(cat, cat.template("acme"), Inputs("acme", allow_missing=True)).content
sys.stdout.write(json.dumps(out, sort_keys=True))
'''


def render_in_subprocess(seed: str, collections: Path) -> bytes:
    env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(collections), PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


def test_every_template_renders_byte_identical_across_hash_seeds(collections_path: Path) -> None:
    first = render_in_subprocess("0", collections_path)
    second = render_in_subprocess("3141592653", collections_path)
    outputs: Dict[str, str] = json.loads(first)
    for version in generations():
        templates = builtin(version).templates
        assert len([k for k in outputs if k.split(" ", 1) in [[version, t] for t in templates]]) == len(templates)
        assert outputs[version + " digest"] == builtin(version).digest, "the digest differs in a fresh process"
    if first != second:
        other = json.loads(second)
        differ = sorted(k for k in outputs if outputs[k] != other.get(k))
        raise AssertionError("output depends on the hash seed: %s" % ", ".join(differ))
