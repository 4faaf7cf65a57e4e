"""registry.snapshot: a registry as a canonical document, loaded back into an equal registry."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any, Callable, Dict

import pytest

from ansible_collections.voiceops.avr.plugins.module_utils.registry.catalog import effective_registry
from ansible_collections.voiceops.avr.plugins.module_utils.registry.generations import generations
from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import RegistryError
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import (
    RENDERER_FORMAT, SNAPSHOT_SCHEMA, builtin,
)
from ansible_collections.voiceops.avr.plugins.module_utils.registry.snapshot import load
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import Inputs, render

CATALOG = {
    "images": [{"role": "llm", "name": "avr-llm-local", "image": "example.test/llm-local", "port": 6099,
                "provider": "local", "labels": ["team=voice"],
                "env": [{"name": "PORT", "default": "6099"}, {"name": "MODEL", "default": "m1"}]}],
    "templates": [{"id": "local", "stack": "modular",
                   "images": {"asr": "asr/avr-asr-deepgram", "llm": "llm/avr-llm-local", "tts": "tts/avr-tts-deepgram"},
                   "overrides": {"avr-llm-local": {"env": {"MODEL": "m2"}, "add_labels": ["tier=gold"],
                                                   "extend_env": [{"name": "EXTRA", "default": "x"}]}}}],
}


def registries() -> Dict[str, Any]:
    found = {version: builtin(version) for version in generations()}
    found["catalog on 2025.09"] = effective_registry(CATALOG, "2025.09")
    return found


@pytest.mark.parametrize("name", sorted(registries()))
def test_a_snapshot_loads_back_into_a_registry_that_writes_the_same_document_and_bytes(name: str) -> None:
    reg = registries()[name]
    doc = json.loads(reg.snapshot_text())
    loaded = load(doc)
    assert loaded.snapshot_text() == reg.snapshot_text()
    assert loaded.digest == reg.digest and loaded.generation == reg.generation and loaded.catalog == reg.catalog
    for tid, tpl in reg.templates.items():
        if not tpl.functional:
            continue
        inputs = Inputs(deployment="d", allow_missing=True)
        assert render(loaded, loaded.template(tid), inputs).content == render(reg, tpl, inputs).content, tid


def test_the_digest_is_the_sha256_of_the_snapshot_text() -> None:
    for version in generations():
        reg = builtin(version)
        assert reg.digest == hashlib.sha256(reg.snapshot_text().encode("ascii")).hexdigest()
        assert reg.snapshot_text().endswith("}\n") and "\n" not in reg.snapshot_text()[:-1]


def test_the_snapshot_holds_every_rule_rendering_reads() -> None:
    doc = builtin("2025.09").snapshot()
    assert doc["schema_version"] == SNAPSHOT_SCHEMA and doc["renderer_format"] == RENDERER_FORMAT
    assert doc["generation"] == "2025.09" and doc["catalog"] is None
    for key in ("images", "providers", "role_providers", "templates", "stack_defaults", "base_images", "network",
                "wiring", "tag_policies"):
        assert doc[key], key
    assert doc["wiring"]["llm"] == {"var": "LLM_URL", "scheme": "http", "path": "/prompt-stream", "use_ws_port": False}
    assert doc["tag_policies"]["avr"]["environments"]["prod"][0]["regex"].startswith("^v")


def test_the_digest_covers_the_rules_outside_the_images() -> None:
    """Wiring, stack defaults and tag-policy patterns are part of the digest (a change is a new digest)."""
    reg = builtin("2025.09")
    doc = reg.snapshot()
    edits = {
        "wiring": lambda d: d["wiring"]["llm"].update(path="/other"),
        "stack_defaults": lambda d: d["stack_defaults"]["modular"]["avr-core"]["env"][0].__setitem__(1, "false"),
        "tag_policies": lambda d: d["tag_policies"]["avr"]["environments"]["prod"][0].update(regex="^.*$"),
    }
    for name, edit in edits.items():
        changed = copy.deepcopy(doc)
        edit(changed)
        other = load(changed)
        assert other.digest != reg.digest, name


def _edited(edit: Callable[[Dict[str, Any]], Any]) -> Dict[str, Any]:
    doc = copy.deepcopy(builtin("2025.09").snapshot())
    edit(doc)
    return doc


@pytest.mark.parametrize("doc, message", [
    ("{not json", r"^registry_from: not a registry snapshot \(not JSON: "),
    ([], r"^registry_from: not a registry snapshot \(expected a JSON object\)$"),
    (_edited(lambda d: d.update(schema_version=99)),
     r"^registry_from: not a registry snapshot this collection renders \(schema_version: 99 is not a snapshot layout "
     r"this collection reads \(it reads 1\)\)$"),
    (_edited(lambda d: d.update(renderer_format=0)),
     r"^registry_from: .*renderer_format: the snapshot was recorded for renderer format 0; this collection writes "
     r"format 1 and would not render the same bytes\)$"),
    (_edited(lambda d: d.pop("wiring")), r"^registry_from: .*\(snapshot\.wiring: missing\)$"),
    (_edited(lambda d: d["images"]["core/avr-core"].update(port="5001")),
     r"^registry_from: .*\(images\.core/avr-core\.port: expected int, got str\)$"),
    (_edited(lambda d: d["templates"]["openai"]["images"].update(llm="llm/nope")),
     r"^registry_from: .*\(templates\.openai\.images\.llm: unknown image 'llm/nope'\)$"),
    (_edited(lambda d: d["templates"]["openai"].update(services=["edited"])),
     r"^registry_from: the snapshot does not load back to itself \(first difference at templates\.openai\.services\); "
     r"it was edited or damaged$"),
    (_edited(lambda d: d.update(extra=1)),
     r"^registry_from: the snapshot does not load back to itself \(first difference at extra\)"),
    (_edited(lambda d: d["images"]["ami/avr-ami"]["env"][0].update(default="a\nb")),
     r"^registry_from: the snapshot's registry is inconsistent: images\[ami/avr-ami\]\.env\.PORT\.default: "),
])
def test_a_bad_snapshot_is_refused_in_one_line_naming_the_field(doc: Any, message: str) -> None:
    with pytest.raises(RegistryError, match=message) as caught:
        load(doc)
    assert "\n" not in str(caught.value)


#: The snapshot digest of every released generation. A released generation is never edited: deployments record
#: these digests (in their compose file's header and their releases), and "same digest" must keep meaning "same
#: bytes out". A change of the data is a new generation; a change of the snapshot's layout or of the renderer
#: bumps SNAPSHOT_SCHEMA or RENDERER_FORMAT and is a breaking change (then update this table, and say so in the
#: changelog).
RELEASED = {
    "2025.09": "16d84d62e06c540a445e8117225e3d5ddec1c3ba16b472cc0751a4dc65771ffc",
    "2026.06": "0dcc8e96fe78d3ed866af1e4c3a97896ac51801404d0cfa5737ce801b703ef3f",
}


@pytest.mark.parametrize("version", sorted(RELEASED))
def test_a_released_generation_keeps_its_digest(version: str) -> None:
    assert (SNAPSHOT_SCHEMA, RENDERER_FORMAT) == (1, 1)
    assert builtin(version).digest == RELEASED[version], (
        "generation %s changed: make the change a new generation instead" % version)


def test_every_generation_is_released_here() -> None:
    assert sorted(generations()) == sorted(RELEASED)
