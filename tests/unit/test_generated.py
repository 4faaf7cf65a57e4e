"""Files derived from the registry must be current: the catalog page and the role's argument specs.

The catalog page shows every generation and what changed between consecutive ones, derived from the
registry data alone: a fixture pair of generations (2025.09 and a copy with one default and one port
changed, one template and one provider added) must list exactly those changes.
"""

from __future__ import annotations

import copy
import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict

import pytest
import yaml

from ansible_collections.voiceops.avr.plugins.module_utils.registry import snapshot
from ansible_collections.voiceops.avr.plugins.module_utils.registry.generations import FIRST, generations, newest
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import Registry, builtin

ROOT = Path(__file__).resolve().parents[2]


def _generate_module() -> Any:
    spec = importlib.util.spec_from_file_location("voiceops_generate", ROOT / "scripts" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generate = _generate_module()


def test_generated_files_are_current(collections_path):
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "generate.py"), "--check"],
                          capture_output=True, text=True, check=False,
                          env={"VOICEOPS_COLLECTIONS": str(collections_path), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_catalog_page_lists_every_template_and_functional_status():
    text = (ROOT / "docs" / "catalog.md").read_text()
    for template in ("openai", "anthropic", "gemini", "google", "deepgram", "vosk", "openai-realtime", "ultravox",
                     "gemini-sts", "deepgram-sts", "elevenlabs-sts", "n8n", "app"):
        assert "| `%s` |" % template in text
    assert "| yes |" in text


def test_catalog_page_shows_every_generation_newest_first():
    text = (ROOT / "docs" / "catalog.md").read_text()
    ids = list(generations())
    headings = [line for line in text.splitlines() if line.startswith("## Generation ")]
    assert headings == ["## Generation `%s`%s" % (gid, " (newest)" if gid == newest() else "")
                        for gid in reversed(ids)]
    for gid in ids:
        reg = builtin(gid)
        part = text.split("## Generation `%s`" % gid, 1)[1].split("\n## ", 1)[0]
        assert "Registry digest: `sha256:%s`." % reg.digest in part
        for tid in reg.templates:
            assert "| `%s` |" % tid in part
        for key in reg.images:
            assert "#### `%s` (%s)" % (key, gid) in part
        for name in reg.providers:
            assert "| `%s` |" % name in part
        for policy in reg.tag_policies:
            assert "| `%s` |" % policy in part
    pairs = [line for line in text.splitlines() if line.startswith("### From ")]
    assert pairs == ["### From `%s` to `%s`" % (old, new) for old, new in reversed(list(zip(ids, ids[1:])))]


def _fixture_pair() -> "tuple[Registry, Registry]":
    """Generation 2025.09 and a copy (2099.01) with one image default and one published port changed,
    one template and one provider added: built as a snapshot document, loaded as a registry."""
    old = builtin(FIRST)
    doc: Dict[str, Any] = copy.deepcopy(old.snapshot())
    doc["generation"] = "2099.01"
    [model_path] = [var for var in doc["images"]["asr/avr-asr-vosk"]["env"] if var["name"] == "MODEL_PATH"]
    assert model_path["default"] == "model"
    model_path["default"] = "model-en"
    assert doc["images"]["workflow/n8n"]["ports"] == ["5678:5678"]
    doc["images"]["workflow/n8n"]["ports"] = ["5679:5678"]
    added = copy.deepcopy(doc["templates"]["openai"])
    added["id"] = "openai-eu"
    doc["templates"]["openai-eu"] = added
    doc["providers"]["acme"] = {"name": "acme", "description": "Acme speech.", "env": "ACME_API_KEY", "file": None}
    doc["role_providers"]["tts"]["acme"] = "tts/avr-tts-deepgram"
    return old, snapshot.load(doc, "fixture")


def test_changes_between_generations_are_exactly_the_data_changes():
    old, new = _fixture_pair()
    assert generate.generation_changes(old, new) == {
        "templates": {
            "added": ["openai-eu"], "removed": [],
            "changed": {
                "n8n": {"services": {"avr-n8n": {"ports": [["5678:5678"], ["5679:5678"]]}}},
                "vosk": {"services": {"avr-asr-vosk": {"environment": {"changed": {"MODEL_PATH": ["model",
                                                                                                  "model-en"]}}}}},
            },
        },
        "images": {
            "added": [], "removed": [],
            "changed": {
                "asr/avr-asr-vosk": {"env": {"changed": {"MODEL_PATH": {"default": ["model", "model-en"]}}}},
                "workflow/n8n": {"ports": [["5678:5678"], ["5679:5678"]]},
            },
        },
        "providers": {"added": ["acme"], "removed": [], "changed": {}},
        "rules": {},
    }


def test_catalog_page_of_the_fixture_pair_says_what_changed():
    old, new = _fixture_pair()
    page = generate.catalog_page([old, new])
    assert page.index("## Generation `2099.01` (newest)") < page.index("## Generation `2025.09`")
    changed = page.split("### From `2025.09` to `2099.01`", 1)[1]
    templates = changed.split("#### Templates", 1)[1].split("#### Images", 1)[0]
    assert "- added: `openai-eu`\n- removed: none\n- changed: `n8n`, `vosk`\n" in templates
    assert "- `avr-n8n`:\n  - ports: `5678:5678` → `5679:5678`\n" in templates
    assert "- `avr-asr-vosk`:\n  - variable `MODEL_PATH`: `model` → `model-en`\n" in templates
    images = changed.split("#### Images", 1)[1].split("#### Providers", 1)[0]
    assert "- added: none\n- removed: none\n- changed: `asr/avr-asr-vosk`, `workflow/n8n`\n" in images
    assert "- variable `MODEL_PATH`: default `model` → `model-en`\n" in images
    assert "- ports: `5678:5678` → `5679:5678`\n" in images
    providers = changed.split("#### Providers", 1)[1]
    assert "- added: `acme` (tts: `tts/avr-tts-deepgram`)\n- removed: none\n- changed: none\n" in providers
    assert "Stack rules" not in changed  # no rule changed


def test_equal_generations_say_so():
    old = builtin(FIRST)
    doc = copy.deepcopy(old.snapshot())
    doc["generation"] = "2099.01"
    lines = generate.changes_section(old, snapshot.load(doc, "fixture"))
    assert lines[2].startswith("The same images, providers, templates and rules"), lines


def test_role_takes_a_registry_version_of_every_generation():
    specs = yaml.safe_load((ROOT / "roles" / "stack" / "meta" / "argument_specs.yml").read_text())
    option = specs["argument_specs"]["main"]["options"]["stack_registry_version"]
    assert option["type"] == "str" and option["default"] == ""
    assert option["choices"] == [""] + list(generations())
    text = " ".join(option["description"])
    assert "newest" in text and FIRST in text and "compose file" in text


@pytest.mark.parametrize("version", list(generations()))
def test_argument_specs_of_a_fixture_newest_generation(version):
    old, new = _fixture_pair()
    spec = yaml.safe_load(generate.argument_specs([builtin(version), new]))["argument_specs"]["main"]["options"]
    assert spec["stack_registry_version"]["choices"] == ["", version, "2099.01"]
    assert "openai-eu" in spec["stack_template"]["description"][0]
    assert "acme" in spec["stack_provider_keys"]["description"][0]


def test_generation_section_shows_template_variables_and_labels():
    old = builtin(FIRST)
    doc: Dict[str, Any] = copy.deepcopy(old.snapshot())
    doc["generation"] = "2099.01"
    doc["templates"]["openai"]["overrides"]["avr-llm-openai"]["extend_env"].append(
        {"name": "HTTP_PORT", "default": "6003", "required": False, "secret": False, "provider": None,
         "secret_name": None, "description": "Fixture HTTP port."})
    doc["images"]["workflow/n8n"]["labels"] = ["traefik.enable=true"]
    new = snapshot.load(doc, "fixture")
    section = "\n".join(generate.generation_section(new, new.generation))
    assert "| `openai` | `avr-llm-openai` | `HTTP_PORT` | `6003` |  |  | Fixture HTTP port. |" in section
    assert "- labels: `traefik.enable=true`" in section
    assert "Variables a template adds" not in "\n".join(generate.generation_section(old, old.generation))
    change = generate.generation_changes(old, new)
    assert change["templates"]["changed"]["openai"] == {
        "services": {"avr-llm-openai": {"environment": {"added": {"HTTP_PORT": "6003"}}}}}
    assert change["templates"]["changed"]["n8n"] == {
        "services": {"avr-n8n": {"labels": [None, ["traefik.enable=true"]]}}}
    assert change["images"]["changed"] == {"workflow/n8n": {"labels": [[], ["traefik.enable=true"]]}}
