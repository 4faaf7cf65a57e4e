"""plugins/filter/survey_spec.py and survey_answers.py: the AWX/AAP job form as the env editor."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.voiceops.avr.plugins.filter.env_schema import env_schema
from ansible_collections.voiceops.avr.plugins.filter.survey_answers import survey_answers
from ansible_collections.voiceops.avr.plugins.filter.survey_spec import survey_spec
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import builtin


@pytest.mark.parametrize("template", sorted(builtin().templates))
def test_questions_follow_the_schema(template):
    spec = survey_spec(template)["spec"]
    schema = env_schema(template)
    values = [q for q in spec if q["variable"].startswith("avr__")]
    expected = [e for e in schema if not e["secret"] and not (e["service"].endswith("avr-core")
                and e["name"] in ("ASR_URL", "LLM_URL", "TTS_URL", "STS_URL")) and not e["provider"]]
    assert [(q["variable"], q["default"]) for q in values] == [
        ("avr__%s__%s" % (e["service"].replace("-", "_"), e["name"]), e["default"] or "") for e in expected]
    for question, entry in zip(values, expected):
        assert question["required"] == bool(entry["required"] and entry["default"] is None)
        assert question["type"] == "text"
    secrets = [q for q in spec if not q["variable"].startswith("avr__")]
    assert secrets and all(q["type"] == "password" and q["default"] == "" for q in secrets)


def test_secret_and_key_questions_are_passwords():
    spec = {q["variable"]: q for q in survey_spec("app", registry_version="2025.09")["spec"]}
    assert spec["avr_secret__DATABASE_PASSWORD"]["type"] == "password"
    assert spec["avr_secret__DATABASE_PASSWORD"]["required"] is True
    assert spec["avr_secret__AMI_PASSWORD"]["required"] is False  # it has the examples' default
    keys = {q["variable"] for q in survey_spec("google")["spec"] if q["variable"].startswith("avr_key__")}
    assert keys == {"avr_key__google", "avr_key__openrouter"}


def test_answers_map_back_to_env_keys_and_secrets():
    answers = {"avr__avr_sts_ultravox__ULTRAVOX_AGENT_ID": "agent-1", "avr_key__ultravox": "k",
               "avr_secret__AMI_PASSWORD": "p", "avr__avr_core__SYSTEM_MESSAGE": "", "unrelated": 1}
    assert survey_answers(answers, "ultravox") == {
        "env": {"avr-sts-ultravox": {"ULTRAVOX_AGENT_ID": "agent-1"}},
        "provider_keys": {"ultravox": "k"}, "secrets": {"AMI_PASSWORD": "p"}}


def test_an_answer_for_another_template_is_refused():
    with pytest.raises(AnsibleFilterError, match="avr__avr_llm_openai__OPENAI_MODEL names no variable of ultravox"):
        survey_answers({"avr__avr_llm_openai__OPENAI_MODEL": "x"}, "ultravox")
