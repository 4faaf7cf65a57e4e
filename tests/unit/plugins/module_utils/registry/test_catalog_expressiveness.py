"""module_utils/registry/catalog.py: what a catalog can say that upstream says, and its exact messages.

Labels, extend_env, role ``service``, the core's wiring, providers named only by images, companions in
any order, one form of error path, the tag policy hint and where ``{{service:...}}`` tokens are resolved.
Every refusal is asserted as its whole one-line message.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Dict, List

import pytest

from ansible_collections.voiceops.avr.plugins.doc_fragments.catalog import ModuleDocFragment
from ansible_collections.voiceops.avr.plugins.module_utils.registry.catalog import effective_registry
from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import RegistryError
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import builtin
from ansible_collections.voiceops.avr.plugins.plugin_utils.references import image_references
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import Inputs, RenderError, plan, render

#: the generation these catalogs are written on (frozen data: the built-in keys and schemas they name stay)
GEN = "2025.09"
SLOTS = {"asr": "asr/avr-asr-vosk", "llm": "llm/avr-llm-openai", "tts": "tts/avr-tts-deepgram"}


def image(**fields: Any) -> Dict[str, Any]:
    entry = {"role": "asr", "name": "x", "image": "example/x", "port": 6000}
    entry.update(fields)
    return entry


def template(**fields: Any) -> Dict[str, Any]:
    entry: Dict[str, Any] = {"id": "t", "stack": "modular", "images": dict(SLOTS)}
    entry.update(fields)
    return entry


def refused(data: Any, version: Any = GEN) -> str:
    with pytest.raises(RegistryError) as caught:
        effective_registry(copy.deepcopy(data), version)
    text = str(caught.value)
    assert "\n" not in text and "\r" not in text, "not one line: %r" % text
    return text


def rendered(data: Dict[str, Any], template_id: str = "t", **inputs: Any) -> Dict[str, Any]:
    reg = effective_registry(copy.deepcopy(data), GEN)
    return render(reg, reg.template(template_id), Inputs(template_id, allow_missing=True, **inputs)).document


# -- labels -------------------------------------------------------------------------------------------

def test_image_labels_then_template_labels_are_rendered() -> None:
    data = {"images": [image(labels=["traefik.enable=true", "traefik.port=6000"])],
            "templates": [template(images=dict(SLOTS, asr="asr/x"),
                                   overrides={"x": {"add_labels": ["traefik.rule=Host(`a.localhost`)"]}})]}
    assert rendered(data)["services"]["x"]["labels"] == [
        "traefik.enable=true", "traefik.port=6000", "traefik.rule=Host(`a.localhost`)"]


LABEL = "catalog.images[0].labels[%d]: "


@pytest.mark.parametrize("labels, message", [
    (["traefik.enable"], LABEL % 0 + "'traefik.enable' is not KEY=VALUE (a key without spaces, '=', then the value)"),
    (["=true"], LABEL % 0 + "'=true' is not KEY=VALUE (a key without spaces, '=', then the value)"),
    (["a b=c"], LABEL % 0 + "'a b=c' is not KEY=VALUE (a key without spaces, '=', then the value)"),
    (["ok=1", "a=$HOME"], LABEL % 1 + "'a=$HOME' contains '$' (compose would interpolate it)"),
    (["a=b\nc"], LABEL % 0 + "'a=b\\nc' contains a newline or carriage return"),
    (["a=b\x00"], LABEL % 0 + "'a=b\\x00' contains a NUL character"),
    (["a=1", "a=2"], LABEL % 1 + "'a=2' gives label 'a' a second time (first at position 0)"),
    (["a={{service:avr-core}}"], LABEL % 0 + "'a={{service:avr-core}}' holds a {{service:...}} token, which is "
     "resolved in env values only (env defaults, extend_env defaults, overrides env); write the service name"),
])
def test_a_bad_image_label_is_refused(labels: List[str], message: str) -> None:
    assert refused({"images": [image(labels=labels)]}) == message


def test_a_bad_template_label_is_refused_at_its_position() -> None:
    msg = refused({"templates": [template(overrides={"avr-core": {"add_labels": ["a=1", "b=${X}"]}})]})
    assert msg == "catalog.templates[0].overrides.avr-core.add_labels[1]: 'b=${X}' contains '$' (compose would " \
                  "interpolate it)"


def test_a_template_label_may_not_repeat_a_key_of_the_image() -> None:
    msg = refused({"images": [image(labels=["traefik.enable=true"])],
                   "templates": [template(images=dict(SLOTS, asr="asr/x"),
                                          overrides={"x": {"add_labels": ["traefik.enable=false"]}})]})
    assert msg == ("catalog.templates[0].overrides.x.add_labels[0]: 'traefik.enable=false' gives label "
                   "'traefik.enable', which image 'asr/x' already sets; a template adds labels, it does not replace "
                   "the image's (replace the image in the catalog to change it)")


# -- extend_env -----------------------------------------------------------------------------------------

HTTP_PORT = {"name": "HTTP_PORT", "default": "6001"}


def test_extend_env_adds_a_variable_for_the_template_only() -> None:
    data = {"templates": [template(overrides={"avr-core": {"extend_env": [HTTP_PORT]}})]}
    reg = effective_registry(copy.deepcopy(data), GEN)
    core = next(img for img in reg.template("t").images if img.role == "core")
    assert core.var_names[-1] == "HTTP_PORT" and "HTTP_PORT" not in reg.images["core/avr-core"].var_names
    assert "HTTP_PORT" not in next(img for img in reg.template("openai").images if img.role == "core").var_names
    assert rendered(data)["services"]["avr-core"]["environment"]["HTTP_PORT"] == "6001"
    env = rendered(data, env={"avr-core": {"HTTP_PORT": "7001"}})["services"]["avr-core"]["environment"]
    assert env["HTTP_PORT"] == "7001", "the task's env does not reach an extended variable"


def test_an_extended_variable_takes_a_template_value_too() -> None:
    data = {"templates": [template(overrides={"avr-core": {"extend_env": [HTTP_PORT], "env": {"HTTP_PORT": "7"}}})]}
    assert rendered(data)["services"]["avr-core"]["environment"]["HTTP_PORT"] == "7"


def test_an_extended_secret_variable_is_filled_from_its_provider() -> None:
    var = {"name": "CORE_OPENAI_KEY", "secret": True, "required": True, "provider": "openai"}
    data = {"templates": [template(overrides={"avr-core": {"extend_env": [var]}})]}
    env = rendered(data, provider_keys={"openai": "sk-test"})["services"]["avr-core"]["environment"]
    assert env["CORE_OPENAI_KEY"] == "sk-test"


EXT = "catalog.templates[0].overrides.avr-core.extend_env[%d]"


@pytest.mark.parametrize("variables, message", [
    ([HTTP_PORT, {"name": "PORT", "default": "1"}],
     EXT % 1 + ".name: 'PORT': image 'core/avr-core' already has this variable; set its value in "
     "overrides.avr-core.env instead"),
    ([HTTP_PORT, HTTP_PORT], EXT % 1 + ".name: 'HTTP_PORT' is listed twice (first at position 0)"),
    ([{"name": "1PORT"}], EXT % 0 + ".name: String should match pattern '^[A-Za-z_][A-Za-z0-9_]*$' (got '1PORT')"),
    ([{"name": "P", "default": "a\nb"}], EXT % 0 + ".default: 'a\\nb' contains a newline or carriage return"),
    ([{"name": "P", "secret": True}], EXT % 0 + ": a secret variable needs a provider or a secret_name"),
    ([{"name": "P", "secret": True, "provider": "opnai"}],
     EXT % 0 + ".provider: unknown provider 'opnai'; did you mean 'openai'?"),
    ([{"name": "P", "secret": True, "provider": "vosk"}],
     EXT % 0 + ".provider: provider 'vosk' takes no key, so secret variable 'P' could never be set; add a providers "
     "entry {name: vosk, env: P}"),
])
def test_a_bad_extended_variable_is_refused(variables: List[Dict[str, Any]], message: str) -> None:
    assert refused({"templates": [template(overrides={"avr-core": {"extend_env": variables}})]}) == message


def test_an_image_variable_listed_twice_is_refused_at_the_second() -> None:
    msg = refused({"images": [image(env=[{"name": "A"}, {"name": "B"}, {"name": "A"}])]})
    assert msg == "catalog.images[0].env[2].name: 'A' is listed twice (first at position 0)"


# -- role service ---------------------------------------------------------------------------------------

PHONE = {"role": "service", "name": "avr-phone", "image": "agentvoiceresponse/avr-phone", "ports": ["8080:80"]}


def test_a_service_image_goes_in_extras_and_renders_last() -> None:
    data = {"images": [PHONE], "templates": [template(extras=["service/avr-phone"])]}
    services = rendered(data)["services"]
    assert list(services)[-1] == "avr-phone" and services["avr-phone"]["ports"] == ["8080:80"]
    assert "avr-phone" not in str(services["avr-core"]["environment"]), "a service is wired into the core"


@pytest.mark.parametrize("role", ["service", "app", "database", "workflow"])
def test_template_images_take_slots_only(role: str) -> None:
    msg = refused({"templates": [template(images=dict(SLOTS, **{role: "%s/x" % role}))]})
    assert msg == ("catalog.templates[0].images: %r is not a slot: an image of role %r goes in extras (images takes "
                   "core, asterisk, ami, asr, tts, llm, sts)" % (role, role))


def test_an_unknown_template_slot_is_refused() -> None:
    assert refused({"templates": [template(images=dict(SLOTS, proxy="service/x"))]}) == (
        "catalog.templates[0].images: 'proxy' is not a slot (images takes core, asterisk, ami, asr, tts, llm, sts)")


def test_a_service_image_in_a_slot_is_refused_by_role() -> None:
    msg = refused({"images": [PHONE], "templates": [template(images=dict(SLOTS, tts="service/avr-phone"))]})
    assert msg == "catalog.templates[0].images.tts: image 'service/avr-phone' has role 'service', not 'tts'"


def test_a_slot_image_in_extras_is_refused() -> None:
    msg = refused({"templates": [template(extras=["tts/avr-tts-deepgram"])]})
    assert msg == ("catalog.templates[0].extras[0]: image 'tts/avr-tts-deepgram' has role 'tts', which goes in "
                   "images.tts (extras takes app, database, workflow, service)")


def test_a_service_image_serves_no_provider() -> None:
    assert refused({"images": [dict(PHONE, provider="phone")]}) == (
        "catalog.images[0].provider: only asr/tts/llm/sts images serve a provider (this one has role 'service')")


# -- the core's wiring ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, shown", [("http://my-llm:6002/prompt-stream", "'http://my-llm:6002/prompt-stream'"),
                                          (None, "null (dropping it)")])
def test_a_template_value_of_a_wired_variable_is_refused(value: Any, shown: str) -> None:
    msg = refused({"templates": [template(overrides={"avr-core": {"env": {"LLM_URL": value}}})]})
    assert msg == ("catalog.templates[0].overrides.avr-core.env.LLM_URL: %s is refused: the stack sets LLM_URL from "
                   "its llm image (the core's wiring), which would replace a template value; to reach another llm "
                   "service, name its image in images.llm" % shown)


def test_a_variable_the_stack_does_not_wire_keeps_its_template_value() -> None:
    data = {"templates": [template(stack="sts", images={"sts": "sts/avr-sts-openai"},
                                   overrides={"avr-core": {"env": {"LLM_URL": "http://elsewhere:1/p"}}})]}
    env = rendered(data)["services"]["avr-core"]["environment"]
    assert env["LLM_URL"] == "http://elsewhere:1/p" and env["STS_URL"] == "ws://avr-sts-openai:6030"


# -- a provider named only by an image ------------------------------------------------------------------

KEYED = image(name="newco-asr", provider="newco",
              env=[{"name": "PORT", "default": "6000"},
                   {"name": "NEWCO_KEY", "required": True, "secret": True, "provider": "newco"}])


def test_a_provider_named_only_by_images_takes_the_key_its_secret_variable_asks_for() -> None:
    reg = effective_registry(copy.deepcopy({"images": [KEYED], "templates": [template(
        images=dict(SLOTS, asr="asr/newco-asr"))]}), GEN)
    assert reg.providers["newco"].env == "NEWCO_KEY"
    tpl = reg.template("t")
    out = render(reg, tpl, Inputs("t", provider_keys={"newco": "nk-1", "openai": "o", "deepgram": "d"}))
    assert out.document["services"]["newco-asr"]["environment"]["NEWCO_KEY"] == "nk-1"
    with pytest.raises(RenderError) as err:
        render(reg, tpl, Inputs("t", provider_keys={"openai": "o", "deepgram": "d"}))
    assert str(err.value) == "template 't': missing required values: newco-asr.NEWCO_KEY (set provider_keys.newco)"


def test_the_key_variable_of_a_provider_may_sit_in_another_catalog_image() -> None:
    tts = image(role="tts", name="newco-tts", env=[{"name": "NEWCO_TTS_KEY", "secret": True, "provider": "newco"}])
    reg = effective_registry(copy.deepcopy({"images": [image(name="newco-asr", provider="newco"), tts]}), GEN)
    assert reg.providers["newco"].env == "NEWCO_TTS_KEY"


def test_a_provider_named_only_by_an_image_without_a_key_variable_takes_none() -> None:
    reg = effective_registry(copy.deepcopy({"images": [image(name="newco-asr", provider="newco")],
                                            "templates": [template(images=dict(SLOTS, asr="asr/newco-asr"))]}), GEN)
    assert reg.providers["newco"].needs_key is False
    with pytest.raises(RenderError) as err:
        render(reg, reg.template("t"), Inputs("t", allow_missing=True, provider_keys={"newco": "x"}))
    assert str(err.value) == "provider_keys.newco: provider 'newco' takes no key"


def test_a_secret_variable_of_a_keyless_provider_entry_is_refused() -> None:
    msg = refused({"providers": [{"name": "newco"}], "images": [KEYED]})
    assert msg == ("catalog.images[0].env[1].provider: provider 'newco' takes no key, so secret variable 'NEWCO_KEY' "
                   "could never be set; give catalog.providers[0] env: NEWCO_KEY")


def test_a_secret_variable_of_a_file_provider_is_refused() -> None:
    msg = refused({"images": [image(env=[{"name": "G", "secret": True, "provider": "google"}])]})
    assert msg == ("catalog.images[0].env[0].provider: provider 'google' supplies a credential file ('google.json'), "
                   "not a key, so secret variable 'G' could never be set; a variable that points at the file is not "
                   "secret (drop secret: true)")


# -- companions -------------------------------------------------------------------------------------------

WORKFLOW = {"role": "workflow", "name": "flow", "image": "example/flow:1", "tag_policy": "upstream"}


def test_a_companion_may_be_listed_after_the_image_that_names_it() -> None:
    llm = image(role="llm", name="flow-llm", port=6016, companions=["workflow/flow"])
    data = {"images": [llm, WORKFLOW], "templates": [template(images=dict(SLOTS, llm="llm/flow-llm"))]}
    reg = effective_registry(copy.deepcopy(data), GEN)
    assert reg.images["llm/flow-llm"].companions == (reg.images["workflow/flow"],)
    assert "flow" in rendered(data)["services"]


def test_a_companion_replaced_later_in_the_catalog_is_the_one_used() -> None:
    entry = {"role": "workflow", "name": "n8n", "service": builtin(GEN).images["workflow/n8n"].service,
             "image": "example/n8n:2", "tag_policy": "upstream"}
    llm = image(role="llm", name="n8n-llm", port=6016, companions=["workflow/n8n"])
    reg = effective_registry(copy.deepcopy({"images": [llm, entry]}), GEN)
    assert reg.images["llm/n8n-llm"].companions[0].image == "example/n8n:2"
    assert reg.images["llm/avr-llm-n8n"].companions[0].image == "example/n8n:2"


@pytest.mark.parametrize("images, message", [
    ([image(role="llm", name="a", companions=["workflow/flow"]), dict(WORKFLOW, companions=["llm/a"])],
     "catalog.images[0].companions[0]: 'workflow/flow' makes a cycle of companions (llm/a -> workflow/flow -> llm/a); "
     "an image cannot come with itself"),
    ([image(role="llm", name="a", companions=["llm/a"])],
     "catalog.images[0].companions[0]: 'llm/a' makes a cycle of companions (llm/a -> llm/a); an image cannot come "
     "with itself"),
    ([dict(WORKFLOW, name="n8n", companions=["llm/avr-llm-n8n"])],
     "catalog.images[0].companions[0]: 'llm/avr-llm-n8n' makes a cycle of companions (workflow/n8n -> "
     "llm/avr-llm-n8n -> workflow/n8n); an image cannot come with itself"),
    ([image(role="llm", name="a", companions=["workflow/flw"]), WORKFLOW],
     "catalog.images[0].companions[0]: unknown image 'workflow/flw'; did you mean 'workflow/flow'?"),
])
def test_a_bad_companion_is_refused(images: List[Dict[str, Any]], message: str) -> None:
    assert refused({"images": images}) == message


# -- one form of error path ----------------------------------------------------------------------------------

@pytest.mark.parametrize("data, message", [
    ({"images": [image(), image(name="y", port=None)]}, "catalog.images[1].port: a asr image needs port"),
    ({"images": [image(role="sts", ws_port=None)]}, "catalog.images[0].ws_port: an sts image needs ws_port"),
    ({"images": [image(env=[{"name": "A"}, {"name": "K", "secret": True, "provider": "opnai"}])]},
     "catalog.images[0].env[1].provider: unknown provider 'opnai'; did you mean 'openai'?"),
    ({"images": [image(env=[{"name": "K", "secret": True}])]},
     "catalog.images[0].env[0]: a secret variable needs a provider or a secret_name"),
    ({"templates": [template(), template(id="u", stack="sts",
                                         images={"sts": "sts/avr-sts-openai", "asr": "asr/avr-asr-vosk"})]},
     "catalog.templates[1].images.asr: a sts stack has no asr image"),
    ({"templates": [template(overrides={"avr-cor": {"env": {"A": "1"}}})]},
     "catalog.templates[0].overrides.avr-cor: no such service in the stack; did you mean 'avr-core'?"),
    ({"templates": [template(overrides={"avr-llm-openai": {"env": {"OPENAI_MODLE": "x"}}})]},
     "catalog.templates[0].overrides.avr-llm-openai.env.OPENAI_MODLE: image 'llm/avr-llm-openai' has no such "
     "variable; did you mean 'OPENAI_MODEL'?"),
    ({"templates": [template(network={"name": "avr"}, overrides={"avr-core": {"add_volumes": ["/etc:/etc"]}})]},
     "catalog.templates[0].overrides.avr-core.add_volumes[0]: '/etc:/etc' mounts host path '/etc', outside the "
     "project directory; list it in the image's host_paths if the mount is intended"),
    ({"images": [{"role": "core", "name": "avr-core", "image": "example/core", "port": 5001,
                  "env": [{"name": n} for n in ("PORT", "ASR_URL", "LLM_URL", "TTS_URL", "STS_URL")]}]},
     "catalog.images[0]: replacing image 'core/avr-core' breaks built-in template 'openai' (its "
     "overrides.avr-core.env.INTERRUPT_LISTENING: image 'core/avr-core' has no such variable; choose from: ASR_URL, "
     "LLM_URL, PORT, STS_URL, TTS_URL)"),
])
def test_errors_found_after_validation_are_located_like_validation_errors(data: Any, message: str) -> None:
    assert refused(data) == message


def test_no_catalog_error_locates_an_entry_by_id() -> None:
    bad: List[Any] = [
        {"images": [image(port=None)]}, {"images": [image(role="sts")]},
        {"images": [image(env=[{"name": "K", "secret": True, "provider": "nope"}])]},
        {"templates": [template(stack="sts")]}, {"templates": [template(overrides={"zz": {}})]},
        {"templates": [template(overrides={"avr-core": {"env": {"TTS_URL": "x"}}})]},
        {"templates": [template(overrides={"avr-core": {"extend_env": [{"name": "PORT"}]}})]},
        {"templates": [template(overrides={"avr-core": {"extend_env": [{"name": "S", "secret": True}]}})]},
        {"images": [image(labels=["x"])]}, {"images": [image(companions=["a/b"])]},
    ]
    for data in bad:
        msg = refused(data)
        assert re.match(r"^catalog\.(images|templates|providers)\[[0-9]+\]", msg), msg
        assert not re.search(r"(images|templates|providers)\[[^0-9\]]", msg), msg


# -- tag policy -------------------------------------------------------------------------------------------------

def test_a_tag_breaking_the_policy_names_the_catalog_tag_policy() -> None:
    def refs(**fields: Any) -> Any:
        reg = effective_registry(copy.deepcopy({"images": [image(image="example/x:7.1", **fields)], "templates": [
            template(images=dict(SLOTS, asr="asr/x"))]}), GEN)
        return image_references(plan(reg, reg.template("t")).images, environment="dev", policies=reg.tag_policies)

    with pytest.raises(RegistryError) as err:
        refs()
    assert str(err.value) == ("images.x: tag '7.1' breaks tag policy 'avr' for environment 'dev': allowed are dev "
                              "build (e.g. dev-20261122093000), release vX.Y.Z (e.g. v1.4.0), latest (e.g. latest), "
                              "or pin a digest; or give image 'asr/x' another tag_policy in a catalog")
    assert str(refs(tag_policy="upstream")["x"]) == "example/x:7.1", "the hint does not work"


def test_a_builtin_image_breaking_the_policy_names_it_too() -> None:
    reg = builtin(GEN)
    with pytest.raises(RegistryError) as err:
        image_references(plan(reg, reg.template("openai")).images, environment="prod",
                         policies=reg.tag_policies)
    assert str(err.value).endswith("or pin a digest; or give image 'core/avr-core' another tag_policy in a catalog")


# -- {{service:...}} tokens ------------------------------------------------------------------------------------------

def test_tokens_are_resolved_in_every_env_value_of_a_catalog() -> None:
    data = {"images": [image(env=[{"name": "CORE", "default": "http://{{service:avr-core}}:5001"}])],
            "templates": [template(images=dict(SLOTS, asr="asr/x"), overrides={
                "x": {"extend_env": [{"name": "AMI", "default": "{{service:avr-ami}}"}]},
                "avr-core": {"env": {"SYSTEM_MESSAGE": "{{service:avr-asterisk}}"}}})]}
    services = rendered(data, service_prefix="p")["services"]
    assert services["p-x"]["environment"]["CORE"] == "http://p-avr-core:5001"
    assert services["p-x"]["environment"]["AMI"] == "p-avr-ami"
    assert services["p-avr-core"]["environment"]["SYSTEM_MESSAGE"] == "p-avr-asterisk"


TOKEN = ("holds a {{service:...}} token, which is resolved in env values only (env defaults, extend_env defaults, "
         "overrides env); write the service name")


@pytest.mark.parametrize("data, where", [
    ({"images": [image(command=["run", "--core={{service:avr-core}}"])]},
     "catalog.images[0].command[1]: '--core={{service:avr-core}}'"),
    ({"images": [image(healthcheck={"test": ["CMD", "curl", "{{service:x}}"]})]},
     "catalog.images[0].healthcheck.test[2]: '{{service:x}}'"),
    ({"templates": [template(overrides={"avr-core": {"add_labels": ["a={{service:x}}"]}})]},
     "catalog.templates[0].overrides.avr-core.add_labels[0]: 'a={{service:x}}'"),
])
def test_fields_that_do_not_resolve_tokens_refuse_them(data: Any, where: str) -> None:
    assert refused(data) == "%s %s" % (where, TOKEN)


def test_the_catalog_docs_say_where_tokens_need_unsafe() -> None:
    text = ModuleDocFragment.DOCUMENTATION
    assert "!unsafe" in text
    for field in ("env[].default", "extend_env[].default", "overrides.<service>.env"):
        assert field in text, field
