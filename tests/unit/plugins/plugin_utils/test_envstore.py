"""plugin_utils/envstore.py: the per-deployment environment.json store."""

from __future__ import annotations

import json
from typing import Any, Dict

import pytest

from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import builtin
from ansible_collections.voiceops.avr.plugins.plugin_utils import envstore
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import Inputs, Plan, RenderError, plan, render

REG = builtin("2025.09")  # these tests read generation 2025.09 facts


def stack(template_id: str) -> Plan:
    return plan(REG, REG.template(template_id))


def update(template_id: str, current: Any = None, set_: Any = None, unset: Any = None,
           reset: bool = False) -> Dict[str, Any]:
    return envstore.update(REG, stack(template_id), current, set_, unset, reset)


@pytest.mark.parametrize("template_id", sorted(REG.templates))
def test_seed_holds_every_non_secret_default_and_no_secret(template_id: str) -> None:
    st = stack(template_id)
    seeded = envstore.seed(st)
    assert list(seeded) == [img.service_name for img in st.images]
    for img in st.images:
        secret = {var.name for var in img.env if var.secret}
        assert not secret & set(seeded[img.service_name]), img.key
        wanted = [var.name for var in img.env if not var.secret and var.name in st.defaults[img.service_name]]
        assert list(seeded[img.service_name]) == wanted


def test_seed_keeps_tokens_and_template_values() -> None:
    seeded = envstore.seed(stack("openai"))
    assert seeded["avr-ami"]["AMI_HOST"] == "{{service:avr-asterisk}}"
    assert "AMI_PASSWORD" not in seeded["avr-ami"], "a secret with a default reached the store"
    assert seeded["avr-core"]["LLM_URL"] == "http://{{service:avr-llm-openai}}:6002/prompt-stream"
    assert seeded["avr-core"]["INTERRUPT_LISTENING"] == "true"


def test_update_of_nothing_seeds_the_store() -> None:
    data = update("openai")
    assert data == {"format": envstore.FORMAT, "template": "openai", "services": envstore.seed(stack("openai"))}


def test_set_and_unset() -> None:
    data = update("openai", set_={"avr-llm-openai": {"OPENAI_MODEL": "gpt-4o", "SYSTEM_PROMPT": "Be brief."}},
                  unset={"avr-llm-openai": ["OPENAI_TEMPERATURE"]})
    llm = data["services"]["avr-llm-openai"]
    assert llm["OPENAI_MODEL"] == "gpt-4o" and llm["SYSTEM_PROMPT"] == "Be brief."
    assert "OPENAI_TEMPERATURE" not in llm
    assert list(llm) == [n for n in REG.images["llm/avr-llm-openai"].var_names if n in llm], "not in schema order"
    again = update("openai", current=json.loads(envstore.dump(data)))
    assert again == data, "a second update without changes changed the store"


def test_unset_then_set_in_one_call_sets() -> None:
    data = update("openai", set_={"avr-core": {"SYSTEM_MESSAGE": "Hi"}}, unset={"avr-core": ["SYSTEM_MESSAGE"]})
    assert data["services"]["avr-core"]["SYSTEM_MESSAGE"] == "Hi"


def test_current_values_are_kept_and_new_services_seeded() -> None:
    current = {"format": 1, "template": "openai", "services": {"avr-llm-openai": {"OPENAI_MODEL": "kept"}}}
    data = update("openai", current=current)
    assert data["services"]["avr-llm-openai"] == {"OPENAI_MODEL": "kept"}
    assert data["services"]["avr-ami"] == envstore.seed(stack("openai"))["avr-ami"]


def test_store_values_feed_render() -> None:
    data = update("openai", set_={"avr-llm-openai": {"OPENAI_MODEL": "from-store"}})
    out = render(REG, REG.template("openai"), Inputs("d", stored_env=data["services"], allow_missing=True))
    assert out.document["services"]["avr-llm-openai"]["environment"]["OPENAI_MODEL"] == "from-store"


def test_template_mismatch_is_an_error_and_reset_seeds_again() -> None:
    current = update("anthropic", set_={"avr-core": {"SYSTEM_MESSAGE": "old"}})
    with pytest.raises(RenderError, match=r"^environment\.json: seeded for template 'anthropic', not 'openai'; "
                                          r"use reset=true to seed it again$"):
        update("openai", current=current)
    data = update("openai", current=current, reset=True)
    assert data["template"] == "openai" and data["services"] == envstore.seed(stack("openai"))


def test_reset_drops_current_values() -> None:
    current = update("openai", set_={"avr-core": {"SYSTEM_MESSAGE": "old"}})
    assert update("openai", current=current, reset=True) == update("openai")


@pytest.mark.parametrize("kwargs, message", [
    ({"set_": {"avr-llm-openai": {"OPENAI_API_KEY": "sk"}}}, r"^set\.avr-llm-openai\.OPENAI_API_KEY: OPENAI_API_KEY "
                                                             r"is a secret; pass it in provider_keys\.openai"),
    ({"set_": {"avr-ami": {"AMI_PASSWORD": "pw"}}}, r"AMI_PASSWORD is a secret; pass it in secrets\.AMI_PASSWORD"),
    ({"set_": {"avr-llm-opnai": {"X": "y"}}}, r"^set\.avr-llm-opnai: unknown service .*did you mean 'avr-llm-openai'"),
    ({"set_": {"avr-llm-openai": {"SYSTEM_PROMPT": "{{service:nope}}"}}}, r"names no service of this stack"),
    ({"set_": {"avr-llm-openai": {"SYSTEM_PROMPT": "a\nb"}}}, r"value .* contains a newline"),
    ({"unset": {"avr-llm-openai": ["OPENAI_MODLE"]}}, r"^unset\.avr-llm-openai: .* has no variable 'OPENAI_MODLE'; "
                                                      r"did you mean 'OPENAI_MODEL'\?$"),
    ({"unset": {"avr-llm-openai": "OPENAI_MODEL"}}, r"^unset\.avr-llm-openai: expected a list of variable names$"),
    ({"unset": {"avr-llm-opnai": []}}, r"^unset\.avr-llm-opnai: unknown service"),
    ({"unset": ["avr-core"]}, r"^unset: expected a mapping"),
    ({"current": {"template": "openai", "services": {"avr-ami": {"AMI_PASSWORD": "pw"}}}},
     r"^environment\.json services\.avr-ami\.AMI_PASSWORD: AMI_PASSWORD is a secret"),
])
def test_bad_updates_are_refused(kwargs: Dict[str, Any], message: str) -> None:
    with pytest.raises(RenderError, match=message):
        update("openai", **kwargs)


def test_load_and_dump() -> None:
    data = update("openai")
    text = envstore.dump(data)
    assert text.endswith("}\n") and envstore.load(text, "x") == data
    assert envstore.load(None, "x") is None
    with pytest.raises(RenderError, match=r"^/p/environment\.json: not valid JSON"):
        envstore.load("{", "/p/environment.json")
    with pytest.raises(RenderError, match=r"expected an object with a 'services' mapping"):
        envstore.load('{"services": []}', "x")


def test_missing_lists_required_plain_variables_only() -> None:
    st = stack("app")
    data = update("app")
    assert envstore.missing(st, data) == ["avr-app.ADMIN_EMAIL"]
    data = update("app", set_={"avr-app": {"ADMIN_EMAIL": "admin@example.test"}})
    assert envstore.missing(st, data) == []
    assert envstore.missing(stack("ultravox"), update("ultravox")) == ["avr-sts-ultravox.ULTRAVOX_AGENT_ID"]


def test_secrets_report_names_sources_never_values() -> None:
    report = envstore.secrets_report(REG, stack("app"), {}, {"ADMIN_PASSWORD": "pw"})
    assert report["provider_keys"] == {}
    assert report["secrets"]["ADMIN_PASSWORD"] == {"required": True, "present": True}
    assert report["secrets"]["DATABASE_PASSWORD"] == {"required": True, "present": False}
    assert report["secrets"]["AMI_PASSWORD"] == {"required": False, "present": False}
    assert "pw" not in json.dumps(report)
    keys = envstore.secrets_report(REG, stack("google"), {"openrouter": "k"}, {})["provider_keys"]
    assert keys == {"google": {"required": True, "present": False}, "openrouter": {"required": True, "present": True}}
