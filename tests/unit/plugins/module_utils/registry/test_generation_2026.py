"""Generation 2026.06 (generations/g2026_06.py): what the parity test cannot see.

Parity (tests/integration/test_parity.py) compares services field by field after
`docker compose config`; it does not see the order of services in the rendered bytes, the tag
policies, provider selections or the stack defaults a provider selection starts from.
"""

from __future__ import annotations

from typing import List

import pytest
import yaml

from ansible_collections.voiceops.avr.plugins.module_utils.registry import tags
from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import RegistryError
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import builtin
from ansible_collections.voiceops.avr.plugins.module_utils.registry.tags import parse_reference
from ansible_collections.voiceops.avr.plugins.plugin_utils.references import image_references
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import Inputs, RenderError, render

OLD, NEW = "2025.09", "2026.06"
GEMINI_150 = "agentvoiceresponse/avr-sts-gemini:1.5.0"
SECRETS = {"JWT_SECRET": "j", "ADMIN_PASSWORD": "a", "WEBHOOK_SECRET": "w"}


def services_in_bytes(generation: str, template: str, **inputs) -> List[str]:
    registry = builtin(generation)
    rendered = render(registry, registry.template(template), Inputs(deployment=template, allow_missing=True,
                                                                    **inputs))
    return list(yaml.safe_load(rendered.content)["services"])


# -- service order -------------------------------------------------------------------------------


@pytest.mark.parametrize("template, services", [
    ("openai", ["avr-core", "avr-asr-deepgram", "avr-tts-deepgram", "avr-llm-openai", "avr-asterisk", "avr-ami",
                "avr-phone"]),
    ("soniox", ["avr-core", "avr-asr-soniox", "avr-tts-soniox", "avr-llm-openai", "avr-asterisk", "avr-ami",
                "avr-phone"]),
    ("gemini-sts", ["avr-core", "avr-sts-gemini", "avr-asterisk", "avr-ami", "avr-phone"]),
    ("deepgram-sts", ["avr-core", "avr-sts-deepgram", "avr-asterisk", "avr-ami"]),
    ("google", ["avr-core", "avr-asr-google-cloud-speech", "avr-tts-google-cloud-tts", "avr-llm-openrouter",
                "avr-asterisk"]),
    ("n8n", ["avr-core", "avr-asr-deepgram", "avr-tts-deepgram", "avr-llm-n8n", "avr-n8n", "avr-asterisk",
             "avr-ami"]),
    ("app", ["avr-app-backend", "avr-app-frontend", "avr-asterisk", "traefik"]),
])
def test_rendered_services_come_in_role_order(template: str, services: List[str]) -> None:
    assert services_in_bytes(NEW, template) == services


def test_the_browser_phone_comes_last_wherever_a_stack_has_it() -> None:
    with_phone = [tid for tid, tpl in builtin(NEW).templates.items()
                  if "avr-phone" in [img.service_name for img in tpl.images]]
    assert sorted(with_phone) == ["cartesia", "deepgram", "elevenlabs-sts", "gemini", "gemini-sts", "humeai",
                                  "openai", "openai-realtime", "soniox", "speechmatics", "ultravox"]
    for tid in with_phone:
        assert services_in_bytes(NEW, tid)[-1] == "avr-phone", tid


def test_the_header_names_the_generation() -> None:
    registry = builtin(NEW)
    rendered = render(registry, registry.template("openai"), Inputs(deployment="x", allow_missing=True))
    assert "# registry: 2026.06 sha256:%s\n" % registry.digest in rendered.content


# -- tag policy ----------------------------------------------------------------------------------


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_gemini_150_follows_the_2026_avr_policy(environment: str) -> None:
    registry = builtin(NEW)
    registry.tag_policies["avr"].check(parse_reference(GEMINI_150, "x"), environment, "x")
    tpl = registry.template("gemini-sts")
    refs = image_references(tpl.images, tag="v1.4.0", environment=environment, policies=registry.tag_policies)
    assert str(refs["avr-sts-gemini"]) == GEMINI_150
    assert str(refs["avr-core"]) == "agentvoiceresponse/avr-core:v1.4.0"


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_gemini_150_breaks_the_2025_avr_policy(environment: str) -> None:
    registry = builtin(OLD)
    with pytest.raises(RegistryError, match=r"^x: tag '1.5.0' breaks tag policy 'avr' for environment '%s'"
                       % environment):
        registry.tag_policies["avr"].check(parse_reference(GEMINI_150, "x"), environment, "x")
    tpl = registry.template("gemini-sts")
    with pytest.raises(RegistryError, match=r"^tags.avr-sts-gemini: tag '1.5.0' breaks tag policy 'avr'"):
        image_references(tpl.images, tag="v1.4.0", tags={"avr-sts-gemini": "1.5.0"}, environment=environment,
                         policies=registry.tag_policies)


def test_the_2025_policies_are_the_module_policies_unchanged() -> None:
    assert builtin(OLD).tag_policies == dict(tags.POLICIES)
    assert tags.POLICIES["avr"] is tags.AVR
    assert tags.AVR.environments == (("dev", (tags.DEV_BUILD, tags.RELEASE, tags.LATEST)), ("prod", (tags.RELEASE,)))
    assert tags.BARE_RELEASE not in [p for policy in tags.POLICIES.values() for _env, ps in policy.environments
                                     for p in ps]


def test_the_2026_avr_policy_adds_bare_releases_only() -> None:
    policy = builtin(NEW).tag_policies["avr"]
    assert policy.patterns("dev") == (tags.DEV_BUILD, tags.RELEASE, tags.BARE_RELEASE, tags.LATEST)
    assert policy.patterns("prod") == (tags.RELEASE, tags.BARE_RELEASE)
    assert builtin(NEW).tag_policies["upstream"] is tags.UPSTREAM
    for tag in ("1.5.0", "0.0.1", "10.20.30"):
        assert tags.BARE_RELEASE.matches(tag), tag
    for tag in ("1.5", "01.5.0", "1.5.0-rc1", "v1.5.0", "latest", "1.5.0\n"):
        assert not tags.BARE_RELEASE.matches(tag), tag


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_traefik_follows_the_upstream_policy(environment: str) -> None:
    registry = builtin(NEW)
    traefik = registry.images["service/traefik"]
    assert traefik.image == "traefik:v3.6" and traefik.tag_policy == "upstream"
    registry.tag_policies["upstream"].check(parse_reference(traefik.image, "x"), environment, "x")


@pytest.mark.parametrize("generation", [OLD, NEW])
def test_every_image_of_a_generation_follows_its_policy_in_dev(generation: str) -> None:
    registry = builtin(generation)
    image_references(list(registry.images.values()), environment="dev", policies=registry.tag_policies)


# -- providers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role, provider, image", [
    ("asr", "soniox", "avr-asr-soniox"),
    ("tts", "soniox", "avr-tts-soniox"),
    ("tts", "cartesia", "avr-tts-cartesia"),
    ("sts", "humeai", "avr-sts-humeai"),
    ("sts", "speechmatics", "avr-sts-speechmatics"),
])
def test_new_providers_serve_their_role_in_2026_only(role: str, provider: str, image: str) -> None:
    assert builtin(NEW).provider_image(role, provider).name == image  # type: ignore[arg-type]
    assert builtin(NEW).providers[provider].env == "%s_API_KEY" % provider.upper()
    assert provider not in builtin(OLD).providers
    with pytest.raises(RegistryError, match=r"^providers\.%s: unknown %s provider '%s'" % (role, role, provider)):
        builtin(OLD).provider_image(role, provider)  # type: ignore[arg-type]


def test_a_2026_sts_provider_is_the_2026_image() -> None:
    new, old = builtin(NEW).provider_image("sts", "gemini"), builtin(OLD).provider_image("sts", "gemini")
    assert new.image == GEMINI_150 and old.image == "agentvoiceresponse/avr-sts-gemini"
    assert new is builtin(NEW).images["sts/avr-sts-gemini"]


def test_a_provider_selection_of_new_providers_renders_with_their_keys() -> None:
    registry = builtin(NEW)
    tpl = registry.select(stack="modular", providers={"asr": "soniox", "llm": "openai", "tts": "cartesia"})
    rendered = render(registry, tpl, Inputs(deployment="support", provider_keys={
        "soniox": "k-soniox", "openai": "k-openai", "cartesia": "k-cartesia"},
        env={"avr-tts-cartesia": {"CARTESIA_VOICE_ID": "voice-1"}}))
    services = rendered.document["services"]
    assert services["avr-asr-soniox"]["environment"]["SONIOX_API_KEY"] == "k-soniox"
    assert services["avr-tts-cartesia"]["environment"]["CARTESIA_API_KEY"] == "k-cartesia"
    assert services["avr-core"]["environment"]["TTS_URL"] == "http://avr-tts-cartesia:6009/text-to-speech-stream"
    assert services["avr-core"]["environment"]["ASR_URL"] == "http://avr-asr-soniox:6018/speech-to-text-stream"


# -- stack defaults ------------------------------------------------------------------------------


def core_env(generation: str, **selection) -> dict:
    registry = builtin(generation)
    tpl = registry.select(**selection)
    rendered = render(registry, tpl, Inputs(deployment="d", allow_missing=True))
    return rendered.document["services"]["avr-core"]["environment"]


def test_an_sts_selection_gets_the_core_http_port_in_2026_only() -> None:
    assert core_env(NEW, stack="sts", providers={"sts": "openai"}) == {
        "PORT": "5001", "HTTP_PORT": "6001", "STS_URL": "ws://avr-sts-openai:6030"}
    assert core_env(OLD, stack="sts", providers={"sts": "openai"}) == {
        "PORT": "5001", "STS_URL": "ws://avr-sts-openai:6030"}
    assert builtin(OLD).images["core/avr-core"].var("HTTP_PORT") is None


def test_a_modular_selection_gets_no_http_port() -> None:
    env = core_env(NEW, stack="modular", providers={"asr": "deepgram", "llm": "openai", "tts": "deepgram"})
    assert "HTTP_PORT" not in env
    assert env["INTERRUPT_LISTENING"] == "true"


# -- the admin app -------------------------------------------------------------------------------


def test_the_admin_app_requires_its_secrets_and_names_them() -> None:
    registry = builtin(NEW)
    with pytest.raises(RenderError) as err:
        render(registry, registry.template("app"), Inputs(deployment="app"))
    message = str(err.value)
    assert "\n" not in message
    for name in SECRETS:
        assert "avr-app-backend.%s (set secrets.%s)" % (name, name) in message
    assert "ARI_PASSWORD" not in message  # it keeps the example's default, as in 2025.09
    rendered = render(registry, registry.template("app"), Inputs(deployment="app", secrets=SECRETS))
    env = rendered.document["services"]["avr-app-backend"]["environment"]
    assert {name: env[name] for name in SECRETS} == SECRETS
    assert env["ARI_PASSWORD"] == "avr"


def test_the_2026_app_has_no_mysql_and_no_ami_bridge() -> None:
    services = services_in_bytes(NEW, "app", secrets=SECRETS)
    assert "avr-app-db" not in services and "avr-ami" not in services
    assert {"app/avr-app", "database/mysql"} & set(builtin(NEW).images) == set()
    assert {"app/avr-app", "database/mysql"} <= set(builtin(OLD).images)
