"""module_utils/registry/catalog.py: user catalogs extend or override the built-in registry."""

from __future__ import annotations

import copy
from typing import Any, Dict, List

import pytest

from ansible_collections.voiceops.avr.plugins.module_utils.registry.catalog import effective_registry, validate
from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import AsrImage, RegistryError
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import builtin, image_data
from ansible_collections.voiceops.avr.plugins.module_utils.registry.generations.g2025_09.templates import BASE_IMAGES
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import Inputs, RenderError, render

BUILTIN = builtin()

ACME: Dict[str, Any] = {
    "providers": [{"name": "acme", "description": "Acme speech.", "env": "ACME_API_KEY"}],
    "images": [{
        "role": "asr", "name": "acme-asr", "image": "registry.example/acme-asr:1.0", "provider": "acme",
        "description": "Acme speech-to-text.", "port": 6090,
        "env": [
            {"name": "PORT", "default": "6090"},
            {"name": "ACME_API_KEY", "required": True, "secret": True, "provider": "acme"},
            {"name": "ACME_LANGUAGE", "default": "en"},
        ],
    }],
    "templates": [{
        "id": "acme", "description": "Acme ASR, OpenAI LLM, Deepgram TTS.", "stack": "modular",
        "images": {"asr": "asr/acme-asr", "llm": "llm/avr-llm-openai", "tts": "tts/avr-tts-deepgram"},
        "overrides": {"acme-asr": {"env": {"ACME_LANGUAGE": "fr"}}},
    }],
}


def image_entry(key: str, **changes: Any) -> Dict[str, Any]:
    """A catalog entry reproducing built-in image ``key``, with ``changes``."""
    entry = image_data(BUILTIN.images[key])
    del entry["key"]
    entry.update(changes)
    return entry


def with_image(**fields: Any) -> Dict[str, Any]:
    entry = {"role": "asr", "name": "x", "image": "example/x", "port": 6000}
    entry.update(fields)
    return {"images": [entry]}


def with_template(**fields: Any) -> Dict[str, Any]:
    entry: Dict[str, Any] = {"id": "t", "stack": "modular", "images": {
        "asr": "asr/avr-asr-vosk", "llm": "llm/avr-llm-openai", "tts": "tts/avr-tts-deepgram"}}
    entry.update(fields)
    return {"templates": [entry]}


# -- a valid catalog ---------------------------------------------------------------------------


def test_catalog_adds_an_image_a_provider_and_a_template() -> None:
    reg = effective_registry(copy.deepcopy(ACME))
    img = reg.images["asr/acme-asr"]
    assert isinstance(img, AsrImage) and img.image == "registry.example/acme-asr:1.0"
    assert reg.providers["acme"].env == "ACME_API_KEY"
    assert reg.role_providers["asr"]["acme"] is img
    tpl = reg.template("acme")
    assert tpl.functional and tpl.asr is img
    assert {role: tpl.slot(role).key for role in BASE_IMAGES} == dict(BASE_IMAGES)
    assert set(BUILTIN.templates) < set(reg.templates)
    assert reg.digest != BUILTIN.digest
    assert "asr/acme-asr" not in BUILTIN.images and "acme" not in BUILTIN.templates, "the built-in registry changed"


def test_catalog_template_renders_with_stack_defaults_overrides_and_provider_key() -> None:
    reg = effective_registry(copy.deepcopy(ACME))
    keys = {"acme": "acme-key", "deepgram": "dg", "openai": "oa"}
    out = render(reg, reg.template("acme"), Inputs("acme", provider_keys=keys))
    services = out.document["services"]
    assert services["acme-asr"]["environment"] == {"PORT": "6090", "ACME_API_KEY": "acme-key", "ACME_LANGUAGE": "fr"}
    core = services["avr-core"]["environment"]
    assert core["ASR_URL"] == "http://acme-asr:6090/speech-to-text-stream"
    assert core["INTERRUPT_LISTENING"] == "true", "stack defaults are not applied to catalog templates"


def test_catalog_provider_serves_stack_selection() -> None:
    reg = effective_registry(copy.deepcopy(ACME))
    tpl = reg.select(stack="modular", providers={"asr": "acme", "llm": "anthropic", "tts": "google"})
    assert tpl.asr is reg.images["asr/acme-asr"]


def test_provider_named_only_by_an_image_is_registered_without_a_key() -> None:
    reg = effective_registry(with_image(name="newco-asr", provider="newco"))
    assert reg.providers["newco"].needs_key is False
    assert reg.role_providers["asr"]["newco"].key == "asr/newco-asr"


def test_same_catalog_gives_the_same_registry_and_empty_gives_builtin() -> None:
    assert effective_registry(copy.deepcopy(ACME)) is effective_registry(copy.deepcopy(ACME))
    assert effective_registry(None) is BUILTIN
    assert effective_registry({}) is BUILTIN
    assert effective_registry(copy.deepcopy(ACME)).digest == effective_registry(copy.deepcopy(ACME)).digest


def test_validate_returns_the_model() -> None:
    model = validate(copy.deepcopy(ACME))
    assert model.images[0].name == "acme-asr" and model.templates[0].id == "acme"


# -- invalid catalogs name the field -------------------------------------------------------------


@pytest.mark.parametrize("data, message", [
    (with_image(port="6000"), r"^catalog\.images\[0\]\.port: Input should be a valid integer \(got '6000'\)$"),
    (with_image(port=70000), r"^catalog\.images\[0\]\.port: Input should be less than or equal to 65535"),
    (with_image(colour="blue"), r"^catalog\.images\[0\]\.colour: Extra inputs are not permitted"),
    (with_image(role="speech"), r"^catalog\.images\[0\]\.role: Input should be 'core', .* \(got 'speech'\)$"),
    (with_image(name="Bad Name"), r"^catalog\.images\[0\]\.name: String should match pattern"),
    ({"images": [{"role": "asr", "name": "x", "port": 6000}]}, r"^catalog\.images\[0\]\.image: Field required"),
    (with_image(env=[{"name": "1BAD"}]), r"^catalog\.images\[0\]\.env\[0\]\.name: String should match pattern"),
    (with_image(env=[{"name": "OK", "secret": "yes"}]), r"^catalog\.images\[0\]\.env\[0\]\.secret: Input should be "
                                                        r"a valid boolean"),
    (with_image(ports=["${PORT}:6000"]), r"^catalog\.images\[0\]\.ports: '\$\{PORT\}:6000': '\$'"),
    ({"images": [{"role": "asr", "name": "x", "image": "a", "port": 1},
                 {"role": "asr", "name": "y", "image": "a", "port": "2"}]}, r"^catalog\.images\[1\]\.port: "),
    ({"imagez": []}, r"^catalog\.imagez: Extra inputs are not permitted"),
    ({"providers": [{"name": "p", "env": "bad-name"}]}, r"^catalog\.providers\[0\]\.env: String should match"),
    (with_template(stack="hybrid"), r"^catalog\.templates\[0\]\.stack: Input should be 'modular', 'sts' or 'plain'"),
    (with_template(id="Bad Id"), r"^catalog\.templates\[0\]\.id: String should match pattern"),
    (with_template(overrides={"avr-core": {"unset": ["image"]}}),
     r"^catalog\.templates\[0\]\.overrides\.avr-core\.unset\[0\]: Input should be 'platform'"),
    (["not", "a", "mapping"], r"^catalog: expected a mapping with images, providers and templates, got list$"),
])
def test_invalid_catalog_names_the_field(data: Any, message: str) -> None:
    with pytest.raises(RegistryError, match=message):
        effective_registry(data)


@pytest.mark.parametrize("data, message", [
    (with_template(images={"asr": "llm/avr-llm-openai", "llm": "llm/avr-llm-openai", "tts": "tts/avr-tts-deepgram"}),
     r"^catalog\.templates\[0\]\.images\.asr: image 'llm/avr-llm-openai' has role 'llm', not 'asr'$"),
    (with_template(images={"asr": "asr/avr-asr-vosk", "llm": "llm/avr-llm-openai", "tts": "asr/avr-asr-vosk"}),
     r"^catalog\.templates\[0\]\.images\.tts: image 'asr/avr-asr-vosk' has role 'asr', not 'tts'$"),
    (with_template(extras=["asr/avr-asr-deepgram"]),
     r"^catalog\.templates\[0\]\.extras\[0\]: image 'asr/avr-asr-deepgram' has role 'asr', which goes in images\.asr"),
    (with_template(stack="sts", images={"sts": "sts/avr-sts-openai", "asr": "asr/avr-asr-vosk"}),
     r"^catalog\.templates\[0\]\.images\.asr: a sts stack has no asr image$"),
    (with_template(overrides={"avr-llm-openai": {"env": {"OPENAI_MODLE": "x"}}}),
     r"env\.OPENAI_MODLE: image 'llm/avr-llm-openai' has no such variable; did you mean 'OPENAI_MODEL'\?$"),
    (with_template(overrides={"avr-llm-openai": {"env": {"OPENAI_API_KEY": "sk"}}}),
     r"env\.OPENAI_API_KEY: secret variables take no template value"),
    (with_image(port=None), r"^catalog\.images\[0\]\.port: a asr image needs port$"),
    (with_image(role="sts", port=6000), r"^catalog\.images\[0\]\.ws_port: an sts image needs ws_port$"),
    (with_image(env=[{"name": "KEY", "secret": True, "provider": "opnai"}]),
     r"^catalog\.images\[0\]\.env\[0\]\.provider: unknown provider 'opnai'; did you mean 'openai'\?$"),
])
def test_catalog_data_is_checked_by_role_and_schema_at_runtime(data: Any, message: str) -> None:
    with pytest.raises(RegistryError, match=message):
        effective_registry(data)


@pytest.mark.parametrize("data, message", [
    (with_image(companions=["workflow/nope"]),
     r"^catalog\.images\[0\]\.companions\[0\]: unknown image 'workflow/nope'"),
    (with_image(role="app", provider="acme"), r"^catalog\.images\[0\]\.provider: only asr/tts/llm/sts images serve"),
])
def test_catalog_errors_raised_after_validation_use_the_same_field_paths(data: Any, message: str) -> None:
    with pytest.raises(RegistryError, match=message):
        effective_registry(data)


def test_template_naming_a_missing_image_is_kept_but_not_functional() -> None:
    reg = effective_registry(with_template(images={"asr": "asr/nope", "llm": "llm/avr-llm-openai",
                                                   "tts": "tts/avr-tts-deepgram"}))
    tpl = reg.template("t")
    assert not tpl.functional and tpl.missing_images == ("asr/nope",)
    with pytest.raises(RenderError, match=r"template 't' is not functional: .*asr/nope"):
        render(reg, tpl, Inputs("t", allow_missing=True))


def test_plain_catalog_template_has_no_core() -> None:
    reg = effective_registry({"templates": [{"id": "admin", "stack": "plain",
                                             "extras": ["app/avr-app", "database/mysql"]}]}, "2025.09")
    tpl = reg.template("admin")
    assert tpl.core is None and tpl.asterisk is not None
    assert [img.key for img in tpl.extras] == ["app/avr-app", "database/mysql"]


# -- overriding built-in images ----------------------------------------------------------------------

USED_KEYS = sorted({img.key for tpl in BUILTIN.templates.values() for img in tpl.images})


def override(key: str) -> Dict[str, Any]:
    return {"images": [image_entry(key, image="registry.example/%s:override" % key.split("/")[1])]}


def test_a_catalog_copy_of_a_builtin_image_changes_nothing() -> None:
    reg = effective_registry({"images": [image_entry(key) for key in USED_KEYS]})
    assert reg.data() == BUILTIN.data()


@pytest.mark.parametrize("key", USED_KEYS)
def test_overriding_a_builtin_image_is_used_by_builtin_templates(key: str) -> None:
    reg = effective_registry(override(key))
    wanted = reg.images[key].image
    assert wanted.endswith(":override")
    stale: List[str] = []
    for tid, tpl in reg.templates.items():
        for img in tpl.images:
            if img.key == key and img.image != wanted:
                stale.append("%s uses %s" % (tid, img.image))
        if key in {img.key for img in tpl.images}:
            out = render(reg, tpl, Inputs("d", allow_missing=True))
            images = {svc["image"] for svc in out.document["services"].values()}
            if wanted not in images:
                stale.append("%s renders without %s" % (tid, wanted))
    assert not stale, "catalog override of %s ignored: %s" % (key, "; ".join(stale))


def test_overriding_builtin_provider_images_is_used_by_stack_selection() -> None:
    pairs = sorted((role, name, img.key) for role, mapping in BUILTIN.role_providers.items()
                   for name, img in mapping.items())
    keys = sorted({key for _role, _name, key in pairs})
    reg = effective_registry({"images": [override(key)["images"][0] for key in keys]})
    stale = ["providers.%s=%s gives %s" % (role, name, reg.provider_image(role, name).image)
             for role, name, key in pairs
             if reg.provider_image(role, name) is not reg.images[key]]
    assert not stale, "selection ignores the catalog's images: %s" % "; ".join(stale)
    tpl = reg.select(stack="sts", providers={"sts": "openai"})
    assert tpl.sts is reg.images["sts/avr-sts-openai"]
