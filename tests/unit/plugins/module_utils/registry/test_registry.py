"""module_utils/registry: built-in images, providers and templates, Registry checks, digest, suggestions."""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Dict, List

import pytest
import yaml

from ansible_collections.voiceops.avr.plugins.module_utils.registry.generations.g2025_09 import images as i
from ansible_collections.voiceops.avr.plugins.module_utils.registry.generations.g2025_09 import providers as p
from ansible_collections.voiceops.avr.plugins.module_utils.registry.generations.g2025_09 import templates as t
from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import (
    IMAGE_CLASSES, ROLES, SLOT_ROLES, WIRING, EnvVar, Image, RegistryError, ServiceOverride, Template,
)
from ansible_collections.voiceops.avr.plugins.module_utils.registry.generations import generations, newest
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import (
    STACK_SLOTS, Registry, builtin, image_class, images_by_role, suggest, template_data,
)

REGISTRY = builtin("2025.09")  # the data modules this file reads are generation 2025.09's
GENERATION = generations()["2025.09"]
TEMPLATE_IDS = sorted(REGISTRY.templates)
ROLE_MAPS = {"asr": p.ASR_PROVIDERS, "tts": p.TTS_PROVIDERS, "llm": p.LLM_PROVIDERS, "sts": p.STS_PROVIDERS}


def fresh(images: Any = None, templates: Any = None, providers: Any = None, role_providers: Any = None) -> Registry:
    """A registry from the built-in data, with any part replaced."""
    templates = list(t.TEMPLATES) if templates is None else templates
    if images is None:
        images = list(i.ALL_IMAGES)
    else:  # the templates follow replaced images
        by_key = {img.key: img for img in images}
        templates = [rebound(tpl, by_key) for tpl in templates]
    return Registry(images, templates, p.PROVIDERS if providers is None else providers,
                    ROLE_MAPS if role_providers is None else role_providers, generation=GENERATION)


def rebound(tpl: Template, by_key: Dict[str, Image]) -> Template:
    """``tpl`` using the images of ``by_key`` (a template uses the registry's own images)."""
    slots = {role: by_key.get(img.key, img) for role in ("core", "asterisk", "ami", "asr", "tts", "llm", "sts")
             for img in [tpl.slot(role)] if img is not None}  # type: ignore[list-item]
    return dataclasses.replace(tpl, extras=tuple(by_key.get(img.key, img) for img in tpl.extras), **slots)


def replace_image(img: Image, **changes: Any) -> List[Image]:
    return [dataclasses.replace(other, **changes) if other is img else other for other in i.ALL_IMAGES]


def example_services(examples_dir: Any) -> List[Any]:
    found = []
    for path in sorted(examples_dir.glob("docker-compose-*.yml")):
        for service, spec in yaml.safe_load(path.read_text())["services"].items():
            found.append((path.name, service, spec["image"]))
    return found


# -- the built-in data ---------------------------------------------------------------------


def test_builtin_is_built_once() -> None:
    assert builtin("2025.09") is REGISTRY
    assert builtin() is builtin(newest()) is not REGISTRY


def test_every_builtin_image_is_in_the_registry_under_its_key() -> None:
    assert set(REGISTRY.images) == {img.key for img in i.ALL_IMAGES}
    assert len(REGISTRY.images) == len(i.ALL_IMAGES), "two built-in images share a key"


def test_every_image_of_every_example_is_in_the_registry(examples_dir: Any) -> None:
    services = example_services(examples_dir)
    assert len(services) >= 40, "expected the 11 AVR examples, found %d services" % len(services)
    by_service = {img.service_name: img for img in REGISTRY.images.values()}
    problems = []
    for example, service, image in services:
        img = by_service.get(service)
        if img is None:
            problems.append("%s: service %s has no registry image" % (example, service))
        elif img.image != image:
            problems.append("%s: service %s runs %s, registry image %s runs %s"
                            % (example, service, image, img.key, img.image))
    assert not problems, "\n".join(problems)


def test_every_example_has_exactly_one_template(examples_dir: Any) -> None:
    examples = sorted(path.name for path in examples_dir.glob("docker-compose-*.yml"))
    named = sorted(tpl.example for tpl in REGISTRY.templates.values() if tpl.example)
    assert named == examples


@pytest.mark.parametrize("template_id", TEMPLATE_IDS)
def test_every_template_is_functional_and_well_formed(template_id: str) -> None:
    tpl = REGISTRY.template(template_id)
    assert tpl.functional and tpl.missing_images == ()
    for role in ROLES:
        img = tpl.slot(role)
        assert img is None or img.role == role
    for role in STACK_SLOTS.get(tpl.stack, ()):
        assert tpl.slot(role) is not None, "%s stack without %s" % (tpl.stack, role)
    if tpl.stack in STACK_SLOTS:
        assert tpl.core is not None
    services = [img.service_name for img in tpl.images]
    assert len(services) == len(set(services))
    order = [ROLES.index(img.role) for img in tpl.images]
    assert order == sorted(order), "images are not in service order"
    assert template_data(tpl)["functional"] is True


def test_thirteen_builtin_templates_with_unique_ids() -> None:
    assert len(t.TEMPLATES) == len(REGISTRY.templates) == 13


def test_companions_come_with_their_image() -> None:
    services = [img.service_name for img in REGISTRY.template("n8n").images]
    assert "avr-n8n" in services and "avr-llm-n8n" in services


@pytest.mark.parametrize("role", SLOT_ROLES)
def test_provider_maps_hold_images_of_their_role_and_known_providers(role: str) -> None:
    mapping = REGISTRY.role_providers[role]
    assert mapping, "no %s provider" % role
    for name, img in mapping.items():
        assert img.role == role and isinstance(img, IMAGE_CLASSES[role])
        assert name in REGISTRY.providers
        assert REGISTRY.images[img.key] is img


def test_every_secret_variable_names_a_source() -> None:
    for img in REGISTRY.images.values():
        for var in img.env:
            if var.secret:
                assert var.source is not None and var.source.split(".")[0] in ("provider_keys", "secrets")
                if var.provider:
                    assert var.provider in REGISTRY.providers


def test_image_classes_cover_every_role() -> None:
    assert set(IMAGE_CLASSES) == set(ROLES)
    for role, cls in IMAGE_CLASSES.items():
        assert cls.role == role
        assert image_class(role) is cls


def test_images_by_role_is_ordered_and_filtered() -> None:
    everything = images_by_role(REGISTRY)
    assert len(everything) == len(REGISTRY.images)
    assert [ROLES.index(img.role) for img in everything] == sorted(ROLES.index(img.role) for img in everything)
    assert {img.key for img in images_by_role(REGISTRY, "sts")} == {img.key for img in p.STS_PROVIDERS.values()}


# -- runtime checks (what mypy cannot see: catalog data, dynamic construction) --------------


def test_check_refuses_an_image_of_the_wrong_role_in_a_slot() -> None:
    bad = Template(id="bad", description="", stack="modular", core=i.AVR_CORE,
                   asr=i.AVR_LLM_OPENAI,  # type: ignore[arg-type]  # mypy rejects this; the check must too
                   llm=i.AVR_LLM_OPENAI, tts=i.AVR_TTS_DEEPGRAM)
    with pytest.raises(RegistryError, match=r"templates\[bad\]\.images\.asr: image 'llm/avr-llm-openai' has role "
                                            r"'llm', not 'asr'"):
        fresh(templates=[bad])


@pytest.mark.parametrize("stack, slots, message", [
    ("sts", dict(sts=i.AVR_STS_OPENAI, asr=i.AVR_ASR_DEEPGRAM), r"images\.asr: a sts stack has no asr image"),
    ("sts", dict(), r"images\.sts: a sts stack needs an sts image"),
    ("modular", dict(asr=i.AVR_ASR_DEEPGRAM, llm=i.AVR_LLM_OPENAI), r"images\.tts: a modular stack needs an tts"),
    ("plain", dict(llm=i.AVR_LLM_OPENAI), r"images\.llm: a plain stack has no llm image"),
])
def test_check_refuses_slots_the_stack_kind_does_not_have(stack: str, slots: Dict[str, Image], message: str) -> None:
    core = i.AVR_CORE if stack != "plain" else None
    bad = Template(id="bad", description="", stack=stack, core=core, **slots)
    with pytest.raises(RegistryError, match=message):
        fresh(templates=[bad])


def test_check_refuses_a_core_stack_without_core() -> None:
    bad = Template(id="bad", description="", stack="sts", sts=i.AVR_STS_OPENAI)
    with pytest.raises(RegistryError, match=r"images\.core: a sts stack needs a core image"):
        fresh(templates=[bad])


@pytest.mark.parametrize("override, message", [
    (("avr-llm-opnai", ServiceOverride()), r"overrides\.avr-llm-opnai: no such service.*did you mean 'avr-llm-openai'"),
    (("avr-llm-openai", ServiceOverride(env=(("OPENAI_MODLE", "x"),))),
     r"overrides\.avr-llm-openai\.env\.OPENAI_MODLE: image 'llm/avr-llm-openai' has no such variable; "
     r"did you mean 'OPENAI_MODEL'\?"),
    (("avr-llm-openai", ServiceOverride(env=(("OPENAI_API_KEY", "sk-x"),))),
     r"env\.OPENAI_API_KEY: secret variables take no template value"),
    (("avr-llm-openai", ServiceOverride(unset=("image",))), r"unset: cannot unset 'image'"),
])
def test_check_refuses_bad_overrides(override: Any, message: str) -> None:
    bad = t.modular("bad", "", asr=i.AVR_ASR_DEEPGRAM, llm=i.AVR_LLM_OPENAI, tts=i.AVR_TTS_DEEPGRAM,
                    overrides=(override,))
    with pytest.raises(RegistryError, match=message):
        fresh(templates=[bad])


def test_check_refuses_two_images_with_one_service_name() -> None:
    clash = dataclasses.replace(i.AVR_APP, service="avr-app-db")
    bad = t.plain("bad", "", extras=(clash, i.MYSQL))
    with pytest.raises(RegistryError, match=r"templates\[bad\]: two images share a service name"):
        fresh(templates=[bad])


@pytest.mark.parametrize("img, changes, message", [
    (i.AVR_ASR_VOSK, dict(name="Avr Vosk"), r"name: 'Avr Vosk' is not a safe name"),
    (i.AVR_ASR_VOSK, dict(env=(EnvVar("PORT"), EnvVar("PORT"))), r"env: variable 'PORT' is listed twice"),
    (i.AVR_ASR_VOSK, dict(env=(EnvVar("KEY", secret=True, provider="deepgrm"),)),
     r"env\.KEY\.provider: unknown provider 'deepgrm'; did you mean 'deepgram'\?"),
    (i.AVR_ASR_VOSK, dict(env=(EnvVar("KEY", secret=True),)), r"env\.KEY: a secret variable needs a provider"),
    (i.AVR_STS_OPENAI, dict(ws_port=None), r"images\[sts/avr-sts-openai\]\.ws_port: an sts image needs ws_port"),
    (i.AVR_TTS_DEEPGRAM, dict(port=None), r"images\[tts/avr-tts-deepgram\]\.port: a tts image needs port"),
])
def test_check_refuses_bad_images(img: Image, changes: Dict[str, Any], message: str) -> None:
    with pytest.raises(RegistryError, match=message):
        fresh(images=replace_image(img, **changes), templates=[])


# -- lookups, selection and suggestions -------------------------------------------------------


@pytest.mark.parametrize("call, message", [
    (lambda r: r.template("opnai"), r"^template: unknown template 'opnai'; did you mean 'openai'\?$"),
    (lambda r: r.template("zzzzzzzz"), r"^template: unknown template 'zzzzzzzz'; choose from: anthropic, app, "),
    (lambda r: r.image("asr/avr-asr-deepgrm"), r"unknown image 'asr/avr-asr-deepgrm'; did you mean "
                                               r"'asr/avr-asr-deepgram'\?"),
    (lambda r: r.image("asr/avr-asr-deepgram", role="tts"), r"image 'asr/avr-asr-deepgram' has role 'asr', not 'tts'"),
    (lambda r: r.provider_image("asr", "deepgrm"), r"^providers\.asr: unknown asr provider 'deepgrm'; did you mean "
                                                   r"'deepgram'\?$"),
    (lambda r: r.select(stack="modulr", providers={}), r"stack: unknown stack kind 'modulr'; did you mean 'modular'"),
    (lambda r: r.select(stack="modular", providers={"asr": "deepgram", "llm": "openai"}),
     r"providers\.tts: missing; a modular stack needs a provider for tts, one of: deepgram, google$"),
    (lambda r: r.select(stack="sts", providers={"sts": "openai", "asr": "deepgram"}),
     r"providers\.asr: a sts stack takes providers for sts only"),
    (lambda r: r.select(stack="sts", providers={"sts": "ultravx"}), r"did you mean 'ultravox'\?"),
    (lambda r: r.select(template="openai", stack="sts"), r"give either template or stack/providers, not both"),
    (lambda r: r.select(), r"give a template, or stack"),
])
def test_errors_name_the_field_and_suggest(call: Any, message: str) -> None:
    with pytest.raises(RegistryError, match=message):
        call(REGISTRY)


def test_suggest() -> None:
    assert suggest("opnai", ["openai", "anthropic"]) == "; did you mean 'openai'?"
    assert suggest("qqq", ["b", "a"]) == "; choose from: a, b"
    assert suggest("x", []) == "; choose from: (none)"


def test_select_modular_builds_a_template_from_provider_images() -> None:
    tpl = REGISTRY.select(stack="modular", providers={"asr": "vosk", "llm": "anthropic", "tts": "google"})
    assert tpl.id == "modular-vosk-anthropic-google" and tpl.stack == "modular"
    assert (tpl.asr, tpl.llm, tpl.tts, tpl.sts) == (i.AVR_ASR_VOSK, i.AVR_LLM_ANTHROPIC, i.AVR_TTS_GOOGLE, None)
    assert (tpl.core, tpl.asterisk, tpl.ami) == (i.AVR_CORE, i.AVR_ASTERISK, i.AVR_AMI)
    assert tpl.override("avr-core") == dict(t.STACK_DEFAULTS["modular"])["avr-core"]


def test_select_sts() -> None:
    tpl = REGISTRY.select(stack="sts", providers={"sts": "gemini"})
    assert tpl.id == "sts-gemini" and tpl.sts is i.AVR_STS_GEMINI
    assert tpl.asr is None and tpl.llm is None and tpl.tts is None


def test_select_by_name_returns_the_builtin_template() -> None:
    assert REGISTRY.select(template="vosk") is REGISTRY.templates["vosk"]


def test_wiring_covers_the_slot_roles() -> None:
    assert set(WIRING) == set(SLOT_ROLES)


def test_merge_overrides_merges_env_by_name_and_keeps_order() -> None:
    base = (("svc", ServiceOverride(env=(("A", "1"), ("B", "2")), add_volumes=("a:/a",), unset=("ports",))),)
    top = (("svc", ServiceOverride(env=(("B", "3"), ("C", None)), ports=("1:1",), add_volumes=("b:/b",),
                                   unset=("ports", "platform"))),
           ("other", ServiceOverride(env=(("X", "y"),))))
    merged = dict(t.merge_overrides(base, top))
    assert merged["svc"] == ServiceOverride(env=(("A", "1"), ("B", "3"), ("C", None)), ports=("1:1",),
                                            add_volumes=("a:/a", "b:/b"), unset=("ports", "platform"))
    assert merged["other"] == ServiceOverride(env=(("X", "y"),))


# -- digest ----------------------------------------------------------------------------------


def test_digest_is_a_stable_sha256() -> None:
    assert re.fullmatch(r"[0-9a-f]{64}", REGISTRY.digest)
    assert REGISTRY.digest == REGISTRY.digest == fresh().digest


@pytest.mark.parametrize("change", [
    lambda: fresh(images=replace_image(i.AVR_LLM_OPENAI, image="example.test/llm:2")),
    lambda: fresh(images=replace_image(i.AVR_LLM_OPENAI, env=i.AVR_LLM_OPENAI.env[:-1] + (
        dataclasses.replace(i.AVR_LLM_OPENAI.env[-1], default="Something else."),))),
    lambda: fresh(images=replace_image(i.AVR_AMI, ports=())),
    lambda: fresh(templates=list(t.TEMPLATES[:-1])),
    lambda: fresh(templates=[dataclasses.replace(tpl, description=tpl.description + "!") if tpl.id == "vosk" else tpl
                             for tpl in t.TEMPLATES]),
    lambda: fresh(providers=dict(p.PROVIDERS, extra=dataclasses.replace(p.PROVIDERS["openai"], name="extra"))),
    lambda: fresh(role_providers=dict(ROLE_MAPS, asr={"deepgram": i.AVR_ASR_DEEPGRAM})),
])
def test_digest_changes_when_the_data_changes(change: Any) -> None:
    assert change().digest != REGISTRY.digest


def test_data_is_plain_and_complete() -> None:
    data = REGISTRY.data()
    assert list(data) == ["images", "templates", "providers", "role_providers"]
    assert set(data["images"]) == set(REGISTRY.images)
    assert data["templates"]["n8n"]["services"] == [img.service_name for img in REGISTRY.template("n8n").images]
    assert data["role_providers"]["sts"]["openai"] == "sts/avr-sts-openai"
