"""Golden compose files: every template of every generation renders to the bytes recorded in tests/data/golden.

Two renders per template: ``bare`` (no keys, missing values as interpolations) and ``full`` (provider keys,
named secrets, a service prefix, a subnet, publish and management addresses, an image prefix with a tag and a
digest pin, an env override that needs quoting and ``$`` escaping). A generation is frozen, so its renders are
too: a difference here is a change of the renderer's output (a new RENDERER_FORMAT and a changelog entry) or of
a released generation's data (make it a new generation instead). The files were captured before the compose
writer was split into a neutral description and emitters, as the proof that compose output stays byte for byte.

    VOICEOPS_UPDATE_GOLDEN=1 pytest tests/unit/plugins/plugin_utils/test_golden.py   # rewrite them
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from ansible_collections.voiceops.avr.plugins.module_utils.registry.generations import generations
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import Registry, builtin
from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import Template
from ansible_collections.voiceops.avr.plugins.plugin_utils.references import image_references
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import Inputs, plan, render

GOLDEN = Path(__file__).resolve().parents[3] / "data" / "golden"
DIGEST = "sha256:" + "ab" * 32
CASES: List[Tuple[str, str]] = [(version, tid) for version in generations()
                                for tid in sorted(builtin(version).templates)]


def inputs(registry: Registry, tpl: Template, variant: str) -> Inputs:
    if variant == "bare":
        return Inputs(deployment=tpl.id, allow_missing=True)
    stack = plan(registry, tpl)
    keys = {var.provider: "key-%s-0001" % var.provider for img in stack.images for var in img.env
            if var.secret and var.provider}
    for img in stack.images:
        for var in img.env:
            provider = registry.providers.get(var.provider or "")
            if provider is not None and provider.file:
                keys[provider.name] = '{"type": "service_account", "private_key_id": "golden"}\n'
    secrets = {var.secret_name: "secret-%s-$1" % var.secret_name.lower() for img in stack.images for var in img.env
               if var.secret_name}
    env: Dict[str, Dict[str, Any]] = {}
    for img in stack.images:
        for var in img.env:
            unset = var.default is None and var.name not in stack.defaults[img.service_name]
            if var.required and not var.secret and unset:
                env.setdefault(img.service_name, {})[var.name] = "value-of-%s" % var.name.lower()
    first = stack.images[0]
    plain_vars = [var.name for var in first.env if not var.secret]
    if plain_vars:
        env.setdefault(first.service_name, {})[plain_vars[-1]] = "it's \"quoted\" and costs $5: yes"
    references = image_references(stack.images, "registry.example.org/mirror/", "v1.4.0",
                                  digests={first.service_name: DIGEST}, policies=registry.tag_policies)
    return Inputs(deployment="golden-" + tpl.id, service_prefix="gold", provider_keys=keys, secrets=secrets, env=env,
                  subnet="10.77.0.0/24", image_prefix="registry.example.org/mirror/", publish_address="192.0.2.10",
                  management_address="127.0.0.1", references=references)


@pytest.mark.parametrize("variant", ["bare", "full"])
@pytest.mark.parametrize("version, template_id", CASES)
def test_every_template_renders_its_golden_file(version: str, template_id: str, variant: str) -> None:
    registry = builtin(version)
    tpl = registry.template(template_id)
    content = render(registry, tpl, inputs(registry, tpl, variant)).content
    path = GOLDEN / version / ("%s.%s.yml" % (template_id, variant))
    if os.environ.get("VOICEOPS_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    assert path.is_file(), "no golden file %s (VOICEOPS_UPDATE_GOLDEN=1 writes it)" % path
    assert content == path.read_text(encoding="utf-8"), "%s %s (%s) no longer renders %s" % (
        version, template_id, variant, path)


def test_every_golden_file_belongs_to_a_template() -> None:
    want = {"%s/%s.%s.yml" % (version, tid, variant) for version, tid in CASES for variant in ("bare", "full")}
    found = {str(p.relative_to(GOLDEN)) for p in GOLDEN.glob("*/*.yml")}
    assert found == want
