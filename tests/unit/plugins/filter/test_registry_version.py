"""plugins/filter/*: ``registry_version`` picks the generation whose data a filter returns.

Built-in generations may share much of their data (2026.06 is a delta on 2025.09), so a filter that
ignored ``registry_version`` could pass a comparison between them. The tests therefore add a fixture
generation, newer than every built-in one, that differs from 2025.09 in data every filter shows (an
extra image, a template default, a variable a template adds), and compare each filter's result for
``2025.09`` and for the default (the newest) with what ``builtin(version)`` holds.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Dict, List

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.voiceops.avr.plugins.filter.compose_document import compose_document
from ansible_collections.voiceops.avr.plugins.filter.env_schema import env_schema
from ansible_collections.voiceops.avr.plugins.filter.images import images
from ansible_collections.voiceops.avr.plugins.filter.survey_answers import survey_answers
from ansible_collections.voiceops.avr.plugins.filter.survey_spec import survey_spec
from ansible_collections.voiceops.avr.plugins.filter.template_info import template_info
from ansible_collections.voiceops.avr.plugins.module_utils.registry import generations as generations_module
from ansible_collections.voiceops.avr.plugins.module_utils.registry import registry as registry_module
from ansible_collections.voiceops.avr.plugins.module_utils.registry.generations import FIRST, generations, newest
from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import EnvVar, ServiceImage, ServiceOverride
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import (
    Registry, builtin, image_data, images_by_role, template_data,
)
from ansible_collections.voiceops.avr.plugins.module_utils.registry.stacks import merge_overrides
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import Inputs, plan, render

FIXTURE = "2099.01"
FIXTURE_MODEL = "gpt-fixture"
FIXTURE_VAR = "FIXTURE_MODE"


@pytest.fixture
def newer(monkeypatch: pytest.MonkeyPatch) -> Registry:
    """A built-in generation 2099.01 (the newest while the test runs): 2025.09 plus a service image, with
    the openai template's OPENAI_MODEL changed and a variable FIXTURE_MODE added to its LLM service."""
    base = generations()[FIRST]
    phone = ServiceImage(name="avr-fixture-phone", image="agentvoiceresponse/avr-fixture-phone",
                         description="Fixture service image.")
    change = ServiceOverride(env=(("OPENAI_MODEL", FIXTURE_MODEL),),
                             extend_env=(EnvVar(FIXTURE_VAR, default="on", description="Fixture variable."),))
    templates = tuple(replace(tpl, overrides=merge_overrides(tpl.overrides, (("avr-llm-openai", change),)))
                      if tpl.id == "openai" else tpl for tpl in base.templates)
    fixture = replace(base, id=FIXTURE, images=base.images + (phone,), templates=templates)
    monkeypatch.setattr(generations_module, "_GENERATIONS", tuple(generations().values()) + (fixture,))
    monkeypatch.setattr(registry_module, "_BUILTIN", dict(registry_module._BUILTIN))
    assert newest() == FIXTURE
    return builtin(FIXTURE)


def _schema(reg: Registry, template: str) -> List[Any]:
    stack = plan(reg, reg.template(template))
    return [(img.service_name, var.name, stack.defaults[img.service_name].get(var.name))
            for img in stack.images for var in img.env]


def test_images_of_a_generation(newer: Registry) -> None:
    old = builtin(FIRST)
    assert images("all", registry_version=FIRST) == [image_data(img) for img in images_by_role(old)]
    assert images("all") == [image_data(img) for img in images_by_role(newer)]
    assert "service/avr-fixture-phone" in [e["key"] for e in images("service")]
    assert images("service", registry_version=FIRST) == []


def test_template_info_of_a_generation(newer: Registry) -> None:
    assert template_info("openai", registry_version=FIRST) == template_data(builtin(FIRST).template("openai"))
    assert template_info("openai") == template_data(newer.template("openai"))
    assert template_info("openai") != template_info("openai", registry_version=FIRST)


def test_env_schema_of_a_generation(newer: Registry) -> None:
    def rows(entries: List[Dict[str, Any]]) -> List[Any]:
        return [(e["service"], e["name"], e["default"]) for e in entries]
    assert rows(env_schema("openai", registry_version=FIRST)) == _schema(builtin(FIRST), "openai")
    assert rows(env_schema("openai")) == _schema(newer, "openai")
    assert ("avr-llm-openai", FIXTURE_VAR, "on") in rows(env_schema("openai"))
    assert ("avr-llm-openai", "OPENAI_MODEL", FIXTURE_MODEL) in rows(env_schema("openai"))


def test_compose_document_of_a_generation(newer: Registry) -> None:
    def expected(reg: Registry) -> Dict[str, Any]:
        return render(reg, reg.template("openai"), Inputs(deployment="openai", allow_missing=True)).document
    assert compose_document("openai", registry_version=FIRST) == expected(builtin(FIRST))
    assert compose_document("openai") == expected(newer)
    env = compose_document("openai")["services"]["avr-llm-openai"]["environment"]
    assert env["OPENAI_MODEL"] == FIXTURE_MODEL and env[FIXTURE_VAR] == "on"


def test_survey_spec_of_a_generation(newer: Registry) -> None:
    def defaults(spec: Dict[str, Any]) -> Dict[str, Any]:
        return {q["variable"]: q["default"] for q in spec["spec"] if q["variable"].startswith("avr__")}
    old_defaults = defaults(survey_spec("openai", registry_version=FIRST))
    new_defaults = defaults(survey_spec("openai"))
    model = "avr__avr_llm_openai__OPENAI_MODEL"
    assert old_defaults[model] == dict((n, d) for s, n, d in _schema(builtin(FIRST), "openai")
                                       if s == "avr-llm-openai")["OPENAI_MODEL"]
    assert new_defaults[model] == FIXTURE_MODEL
    assert "avr__avr_llm_openai__%s" % FIXTURE_VAR in new_defaults
    assert "avr__avr_llm_openai__%s" % FIXTURE_VAR not in old_defaults


def test_survey_answers_of_a_generation(newer: Registry) -> None:
    answer = {"avr__avr_llm_openai__%s" % FIXTURE_VAR: "off"}
    assert survey_answers(answer, "openai")["env"] == {"avr-llm-openai": {FIXTURE_VAR: "off"}}
    with pytest.raises(AnsibleFilterError, match="names no variable of openai"):
        survey_answers(answer, "openai", registry_version=FIRST)


@pytest.mark.parametrize("version", list(generations()))
def test_every_built_in_generation_is_reachable(version: str) -> None:
    reg = builtin(version)
    assert images("all", registry_version=version) == [image_data(img) for img in images_by_role(reg)]
    assert template_info("all", registry_version=version) == [template_data(tpl) for _tid, tpl
                                                              in sorted(reg.templates.items())]


CALLS = {
    "compose_document": lambda v: compose_document("openai", registry_version=v),
    "env_schema": lambda v: env_schema("openai", registry_version=v),
    "images": lambda v: images("all", registry_version=v),
    "survey_answers": lambda v: survey_answers({}, "openai", registry_version=v),
    "survey_spec": lambda v: survey_spec("openai", registry_version=v),
    "template_info": lambda v: template_info("openai", registry_version=v),
}


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("value, shown", [("1999.01", "'1999.01'"), ("2025.09\n", "'2025.09\\n'"), (2025, "2025")])
def test_an_unknown_generation_fails_in_one_line(name: str, value: Any, shown: str) -> None:
    with pytest.raises(AnsibleFilterError) as caught:
        CALLS[name](value)
    msg = str(caught.value)
    assert "\n" not in msg, msg
    assert msg.startswith("voiceops.avr.%s: registry_version: %s is not a registry generation" % (name, shown)), msg
