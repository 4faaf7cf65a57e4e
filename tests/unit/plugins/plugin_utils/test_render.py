"""plugin_utils/render.py: a deployment of a registry template rendered to a compose document."""

from __future__ import annotations

import hashlib
from typing import Any, Dict

import pytest
import yaml

from ansible_collections.voiceops.avr.plugins.module_utils.registry.catalog import effective_registry
from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import SLOT_ROLES, WIRING
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import builtin
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import Inputs, RenderError, Rendered, render

REG = builtin("2025.09")  # these tests read generation 2025.09 facts
TEMPLATE_IDS = sorted(REG.templates)
GOOGLE_JSON = '{\n  "type": "service_account",\n  "private_key": "-----BEGIN KEY-----\\nabc\\n"\n}\n'


def full_inputs(template_id: str) -> Dict[str, Any]:
    """Every value the template needs: provider keys, named secrets, required plain variables."""
    tpl = REG.template(template_id)
    keys: Dict[str, str] = {}
    secrets: Dict[str, str] = {}
    env: Dict[str, Dict[str, str]] = {}
    for img in tpl.images:
        for var in img.env:
            provider = REG.providers.get(var.provider or "")
            if provider is not None and provider.needs_key:
                keys[provider.name] = GOOGLE_JSON if provider.file else "key-of-%s" % provider.name
            elif var.secret_name:
                secrets[var.secret_name] = "secret-%s" % var.secret_name.lower()
            elif var.required and var.default is None:
                env.setdefault(img.service_name, {})[var.name] = "value-of-%s" % var.name.lower()
    return {"provider_keys": keys, "secrets": secrets, "env": env}


def run(template_id: str, **kwargs: Any) -> Rendered:
    return render(REG, REG.template(template_id), Inputs(kwargs.pop("deployment", "demo"), **kwargs))


def environment(out: Rendered, service: str) -> Dict[str, str]:
    return dict(out.document["services"][service].get("environment", {}))


# -- every template ------------------------------------------------------------------------------


@pytest.mark.parametrize("template_id", TEMPLATE_IDS)
def test_every_template_renders_and_the_text_is_the_document(template_id: str) -> None:
    for out in (run(template_id, allow_missing=True), run(template_id, **full_inputs(template_id))):
        assert yaml.safe_load(out.content) == out.document
        assert out.content.startswith("# Rendered by voiceops.avr.voice_compose")
        assert "registry: %s sha256:%s\n" % (REG.generation, REG.digest) in out.content
        assert out.checksum == hashlib.sha1(out.content.encode("utf-8")).hexdigest()
        assert list(out.document) == ["name", "services", "networks"]
        assert out.document["name"] == "demo"


@pytest.mark.parametrize("template_id", TEMPLATE_IDS)
def test_full_inputs_leave_nothing_missing_and_no_interpolation(template_id: str) -> None:
    out = run(template_id, **full_inputs(template_id))
    assert out.missing == []
    for service in out.document["services"].values():
        for value in service.get("environment", {}).values():
            assert "${" not in value.replace("$$", ""), value
            assert "{{" not in value, "unresolved token %s" % value


@pytest.mark.parametrize("template_id", [tid for tid in TEMPLATE_IDS if REG.template(tid).stack == "sts"])
def test_sts_core_gets_sts_url_only(template_id: str) -> None:
    tpl = REG.template(template_id)
    core = environment(run(template_id, allow_missing=True), "avr-core")
    assert core["STS_URL"] == "ws://%s:%d" % (tpl.sts.service_name, tpl.sts.ws_port)
    assert not {"ASR_URL", "LLM_URL", "TTS_URL"} & set(core)


@pytest.mark.parametrize("template_id", [tid for tid in TEMPLATE_IDS if REG.template(tid).stack == "modular"])
def test_modular_core_gets_asr_llm_tts_urls_and_no_sts_url(template_id: str) -> None:
    tpl = REG.template(template_id)
    core = environment(run(template_id, allow_missing=True), "avr-core")
    assert "STS_URL" not in core
    for role in ("asr", "llm", "tts"):
        img = tpl.slot(role)
        assert img is not None
        assert core[WIRING[role].var] == "http://%s:%d%s" % (img.service_name, img.port, WIRING[role].path)


def test_plain_stack_has_no_core_wiring() -> None:
    out = run("app", allow_missing=True)
    assert "avr-core" not in out.document["services"]
    for service in out.document["services"].values():
        assert not {WIRING[role].var for role in SLOT_ROLES} & set(service.get("environment", {}))


def test_template_overrides_and_stack_defaults() -> None:
    assert environment(run("openai", allow_missing=True), "avr-core")["INTERRUPT_LISTENING"] == "true"
    assert environment(run("google", allow_missing=True), "avr-core")["INTERRUPT_LISTENING"] == "false"
    assert "INTERRUPT_LISTENING" not in environment(run("n8n", allow_missing=True), "avr-core")
    assert "platform" not in run("openai", allow_missing=True).document["services"]["avr-asterisk"]
    assert "ports" not in run("anthropic", allow_missing=True).document["services"]["avr-ami"]
    assert "./tools:/usr/src/app/tools" in run("openai", allow_missing=True).document["services"]["avr-llm-openai"][
        "volumes"]


# -- environment precedence ------------------------------------------------------------------------


def test_env_precedence_defaults_then_stored_then_task() -> None:
    stored = {"avr-llm-openai": {"OPENAI_MODEL": "stored-model", "OPENAI_MAX_TOKENS": "50"}}
    task = {"avr-llm-openai": {"OPENAI_MODEL": "task-model"}}
    llm = environment(run("openai", stored_env=stored, env=task, allow_missing=True), "avr-llm-openai")
    assert llm["OPENAI_MODEL"] == "task-model"
    assert llm["OPENAI_MAX_TOKENS"] == "50"
    assert llm["OPENAI_TEMPERATURE"] == "0.0"
    assert list(llm) == [name for name in REG.images["llm/avr-llm-openai"].var_names if name in llm]


def test_stored_and_task_env_override_template_values() -> None:
    core = environment(run("google", stored_env={"avr-core": {"INTERRUPT_LISTENING": "true"}},
                           env={"avr-core": {"SYSTEM_MESSAGE": "Hi"}}, allow_missing=True), "avr-core")
    assert (core["INTERRUPT_LISTENING"], core["SYSTEM_MESSAGE"]) == ("true", "Hi")


def test_optional_variable_without_value_is_left_out() -> None:
    assert "ASR_URL" not in environment(run("openai-realtime", allow_missing=True), "avr-core")


# -- provider keys and secrets ---------------------------------------------------------------------


def test_provider_keys_are_injected_only_where_the_schema_asks() -> None:
    keys = {"deepgram": "dg-key", "openai": "oa-key"}
    out = run("openai", provider_keys=keys)
    expected = {"avr-asr-deepgram": {"DEEPGRAM_API_KEY": "dg-key"}, "avr-tts-deepgram": {"DEEPGRAM_API_KEY": "dg-key"},
                "avr-llm-openai": {"OPENAI_API_KEY": "oa-key"}}
    for service, spec in out.document["services"].items():
        found = {name: value for name, value in spec.get("environment", {}).items() if value in keys.values()}
        assert found == expected.get(service, {}), service
    assert sorted(out.secret_values) == ["dg-key", "dg-key", "oa-key"]
    assert out.secret_vars >= {"DEEPGRAM_API_KEY", "OPENAI_API_KEY"}
    assert out.providers == {"deepgram": {"required": True, "present": True},
                             "openai": {"required": True, "present": True}}


def test_unused_known_provider_key_is_ignored() -> None:
    out = run("openai", provider_keys={"deepgram": "dg", "openai": "oa", "elevenlabs": "el-key"})
    assert "el-key" not in out.content and "el-key" not in out.secret_values
    assert "elevenlabs" not in out.providers


@pytest.mark.parametrize("keys, message", [
    ({"deepgrm": "x"}, r"^provider_keys\.deepgrm: unknown provider 'deepgrm'; did you mean 'deepgram'\?$"),
    ({"vosk": "x"}, r"^provider_keys\.vosk: provider 'vosk' takes no key$"),
    ({"openai": "a\nb"}, r"^provider_keys\.openai: value contains a newline"),
    ({"openai": 42}, r"^provider_keys\.openai: value is an integer, not a string"),
    (["openai"], r"^provider_keys: expected a mapping"),
])
def test_bad_provider_keys_are_refused(keys: Any, message: str) -> None:
    with pytest.raises(RenderError, match=message):
        run("openai", provider_keys=keys, allow_missing=True)


def test_credential_file_provider_writes_a_file_not_an_env_value() -> None:
    out = run("google", **full_inputs("google"))
    assert out.files == {"google.json": GOOGLE_JSON}
    assert GOOGLE_JSON not in out.content and "private_key" not in out.content
    asr = environment(out, "avr-asr-google-cloud-speech")
    assert asr["GOOGLE_APPLICATION_CREDENTIALS"] == "/usr/src/app/google.json"
    assert out.providers["google"] == {"required": True, "present": True}


@pytest.mark.parametrize("where, message", [
    ({"env": {"avr-llm-openai": {"OPENAI_API_KEY": "sk-x"}}},
     r"^env\.avr-llm-openai\.OPENAI_API_KEY: OPENAI_API_KEY is a secret; pass it in provider_keys\.openai, "
     r"never in env"),
    ({"env": {"avr-ami": {"AMI_PASSWORD": "pw"}}}, r"AMI_PASSWORD is a secret; pass it in secrets\.AMI_PASSWORD"),
    ({"stored_env": {"avr-asr-deepgram": {"DEEPGRAM_API_KEY": "dg"}}},
     r"^environment\.json services\.avr-asr-deepgram\.DEEPGRAM_API_KEY: DEEPGRAM_API_KEY is a secret"),
])
def test_secrets_in_env_are_refused(where: Dict[str, Any], message: str) -> None:
    with pytest.raises(RenderError, match=message):
        run("openai", allow_missing=True, **where)


def test_named_secret_fills_every_variable_reading_it() -> None:
    out = run("app", **full_inputs("app"))
    assert environment(out, "avr-app")["DATABASE_PASSWORD"] == "secret-database_password"
    assert environment(out, "avr-app-db")["MYSQL_PASSWORD"] == "secret-database_password"


def test_unknown_secret_name_is_refused_with_a_suggestion() -> None:
    with pytest.raises(RenderError, match=r"^secrets\.ADMIN_PASSWROD: .*did you mean 'ADMIN_PASSWORD'\?$"):
        run("app", secrets={"ADMIN_PASSWROD": "x"}, allow_missing=True)


# -- missing values ----------------------------------------------------------------------------------


def test_missing_required_values_are_all_listed() -> None:
    with pytest.raises(RenderError) as info:
        run("openai")
    message = str(info.value)
    assert message.startswith("template 'openai': missing required values: ")
    for item in ("avr-asr-deepgram.DEEPGRAM_API_KEY (set provider_keys.deepgram)",
                 "avr-tts-deepgram.DEEPGRAM_API_KEY (set provider_keys.deepgram)",
                 "avr-llm-openai.OPENAI_API_KEY (set provider_keys.openai)"):
        assert item in message


def test_missing_plain_secret_and_file_values_say_where_to_set_them() -> None:
    with pytest.raises(RenderError) as info:
        run("app")
    for item in ("avr-app.ADMIN_EMAIL (set env.avr-app.ADMIN_EMAIL)",
                 "avr-app.ADMIN_PASSWORD (set secrets.ADMIN_PASSWORD)",
                 "avr-app-db.MYSQL_ROOT_PASSWORD (set secrets.DATABASE_ROOT_PASSWORD)"):
        assert item in str(info.value)
    with pytest.raises(RenderError, match=r"\(credential file google\.json from provider_keys\.google\)"):
        run("google", provider_keys={"openrouter": "x"})


def test_allow_missing_emits_interpolation_placeholders() -> None:
    out = run("app", allow_missing=True)
    app, db = environment(out, "avr-app"), environment(out, "avr-app-db")
    assert app["ADMIN_EMAIL"] == "${ADMIN_EMAIL}"
    assert app["ADMIN_PASSWORD"] == "${ADMIN_PASSWORD}"
    assert db["MYSQL_PASSWORD"] == "${DATABASE_PASSWORD}"
    assert environment(run("openai", allow_missing=True), "avr-llm-openai")["OPENAI_API_KEY"] == "${OPENAI_API_KEY}"
    assert 'ADMIN_EMAIL: "${ADMIN_EMAIL}"' in out.content
    assert out.missing == []


# -- escaping and service tokens ---------------------------------------------------------------------


@pytest.mark.parametrize("value, emitted", [
    ("costs $5", "costs $$5"),
    ("${HOME}", "$${HOME}"),
    ("$$", "$$$$"),
    ("no dollars", "no dollars"),
])
def test_dollar_in_values_is_escaped(value: str, emitted: str) -> None:
    out = run("openai", env={"avr-llm-openai": {"SYSTEM_PROMPT": value}}, provider_keys={"openai": "k$1"},
              allow_missing=True)
    llm = environment(out, "avr-llm-openai")
    assert llm["SYSTEM_PROMPT"] == emitted
    assert llm["OPENAI_API_KEY"] == "k$$1"
    assert yaml.safe_load(out.content)["services"]["avr-llm-openai"]["environment"]["SYSTEM_PROMPT"] == emitted


def test_service_tokens_resolve_with_the_prefix() -> None:
    out = run("openai", service_prefix="blue", allow_missing=True,
              env={"avr-llm-openai": {"SYSTEM_PROMPT": "ask {{service:avr-ami}} or {{service:avr-core}}"}})
    services = out.document["services"]
    assert sorted(services) == sorted("blue-" + img.service_name for img in REG.template("openai").images)
    assert services["blue-avr-core"]["container_name"] == "blue-avr-core"
    assert services["blue-avr-ami"]["environment"]["AMI_HOST"] == "blue-avr-asterisk"
    assert services["blue-avr-llm-openai"]["environment"]["AMI_URL"] == "http://blue-avr-ami:6006"
    assert services["blue-avr-llm-openai"]["environment"]["SYSTEM_PROMPT"] == "ask blue-avr-ami or blue-avr-core"
    assert services["blue-avr-core"]["environment"]["ASR_URL"].startswith("http://blue-avr-asr-deepgram:")
    assert out.document["networks"]["avr"]["name"] == "blue-avr"


def test_prefix_ending_in_a_separator_is_kept_and_depends_on_follows_it() -> None:
    out = run("app", service_prefix="green_", allow_missing=True)
    assert set(out.document["services"]["green_avr-app"]["depends_on"]) == {"green_avr-app-db", "green_avr-asterisk"}


@pytest.mark.parametrize("value", ["{{service:avr-amx}}", "http://{{service:}}:1", "{{service:avr-app-db}}"])
def test_unknown_service_tokens_are_refused(value: str) -> None:
    with pytest.raises(RenderError, match=r"^env\.avr-llm-openai\.SYSTEM_PROMPT: \{\{service:[^}]*\}\} names no "
                                          r"service of this stack"):
        run("openai", env={"avr-llm-openai": {"SYSTEM_PROMPT": value}}, allow_missing=True)


def test_token_to_a_service_the_template_dropped_is_refused() -> None:
    reg = effective_registry({"templates": [{"id": "no-ami", "stack": "modular", "images": {
        "asr": "asr/avr-asr-deepgram", "llm": "llm/avr-llm-openai", "tts": "tts/avr-tts-deepgram", "ami": None}}]})
    with pytest.raises(RenderError, match=r"AMI_URL: \{\{service:avr-ami\}\} names no service of this stack"):
        render(reg, reg.template("no-ami"), Inputs("x", allow_missing=True))


# -- input checks -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, message", [
    ({"deployment": "Bad Name"}, r"^deployment: 'Bad Name' is not a safe name"),
    ({"deployment": "x" * 64}, r"^deployment: .* at most 63 characters"),
    ({"service_prefix": "-x"}, r"^service_prefix: '-x' is not a safe name"),
    ({"env": {"avr-llm-opnai": {}}}, r"^env\.avr-llm-opnai: unknown service 'avr-llm-opnai' in template 'openai'; "
                                     r"did you mean 'avr-llm-openai'\?$"),
    ({"env": {"avr-llm-openai": {"OPENAI_MODLE": "x"}}}, r"^env\.avr-llm-openai\.OPENAI_MODLE: service "
                                                         r"'avr-llm-openai' \(image 'llm/avr-llm-openai'\) has no "
                                                         r"variable 'OPENAI_MODLE'; did you mean 'OPENAI_MODEL'\?$"),
    ({"env": {"avr-llm-openai": {"OPENAI_MAX_TOKENS": 100}}},
     r"OPENAI_MAX_TOKENS: value 100 is an integer, not a string \(quote it\)"),
    ({"env": {"avr-llm-openai": {"SYSTEM_PROMPT": "a\nb"}}}, r"SYSTEM_PROMPT: value .* contains a newline"),
    ({"env": {"avr-llm-openai": {"SYSTEM_PROMPT": "a\x00b"}}}, r"SYSTEM_PROMPT: value .* contains a NUL"),
    ({"env": ["x"]}, r"^env: expected a mapping of service name to variables, got list"),
    ({"env": {"avr-core": "PORT=1"}}, r"^env\.avr-core: expected a mapping of variable to value"),
    ({"subnet": "10.0.0.0/33"}, r"^subnet: '10\.0\.0\.0/33' is not a network address"),
])
def test_bad_inputs_name_the_field(kwargs: Dict[str, Any], message: str) -> None:
    with pytest.raises(RenderError, match=message):
        run("openai", allow_missing=True, **kwargs)


def test_subnet_and_image_prefix() -> None:
    out = run("openai", allow_missing=True, subnet="10.9.0.0/24", image_prefix="mirror.example/")
    assert out.document["networks"]["avr"]["ipam"] == {"config": [{"subnet": "10.9.0.0/24"}]}
    assert out.document["services"]["avr-core"]["image"] == "mirror.example/agentvoiceresponse/avr-core"
    assert "ipam" not in run("openai", allow_missing=True, subnet="").document["networks"]["avr"]


def test_render_does_not_change_the_registry() -> None:
    before = REG.digest, REG.data()
    run("openai", **full_inputs("openai"))
    run("app", service_prefix="p", allow_missing=True)
    assert (REG.digest, REG.data()) == before
