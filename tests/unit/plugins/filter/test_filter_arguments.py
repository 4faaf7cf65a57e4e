"""plugins/filter/*: an argument of the wrong type or form fails as AnsibleFilterError, one line naming it."""

from __future__ import annotations

from typing import Any, Callable

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.voiceops.avr.plugins.filter.compose_document import compose_document
from ansible_collections.voiceops.avr.plugins.filter.env_by_service import env_by_service
from ansible_collections.voiceops.avr.plugins.filter.env_schema import env_schema
from ansible_collections.voiceops.avr.plugins.filter.images import images
from ansible_collections.voiceops.avr.plugins.filter.mounted_by import mounted_by
from ansible_collections.voiceops.avr.plugins.filter.survey_answers import survey_answers
from ansible_collections.voiceops.avr.plugins.filter.survey_spec import survey_spec
from ansible_collections.voiceops.avr.plugins.filter.template_info import template_info


class TaggedList(list):  # the shape of Ansible's _AnsibleTaggedList
    pass


MODULAR = {"asr": "vosk", "llm": "openai", "tts": "deepgram"}

CASES = {
    "images: role int": (lambda: images(5), "voiceops.avr.images: role: unknown role 5"),
    "images: role list": (lambda: images(["asr"]), "voiceops.avr.images: role: unknown role ['asr']"),
    "images: role with a final newline": (lambda: images("asr\n"), "role: unknown role 'asr\\n'"),
    "images: catalog list": (lambda: images("asr", catalog=TaggedList()), "catalog: expected a mapping with images, "
                                                                          "providers and templates, got list"),
    "images: catalog str": (lambda: images("asr", catalog="catalog.yml"), "got str"),
    "template_info: int": (lambda: template_info(5), "selection: expected a template id or a mapping with stack and "
                                                     "providers, got int"),
    "template_info: None": (lambda: template_info(None), "got null"),
    "template_info: stack int": (lambda: template_info({"stack": 5, "providers": MODULAR}),
                                 "stack: unknown stack kind 5"),
    "template_info: stack list": (lambda: template_info({"stack": ["modular"], "providers": MODULAR}),
                                  "stack: unknown stack kind ['modular']"),
    "template_info: providers list": (lambda: template_info({"stack": "modular", "providers": TaggedList(["a"])}),
                                      "selection.providers: expected a mapping of role to provider name, got list"),
    "template_info: provider int": (lambda: template_info({"stack": "modular", "providers": dict(MODULAR, asr=5)}),
                                    "providers.asr: 5 is not a provider name"),
    "template_info: role int": (lambda: template_info({"stack": "modular", "providers": dict(MODULAR, **{"5": "x"})}),
                                "providers.5: a modular stack takes providers for"),
    "template_info: template int": (lambda: template_info({"template": 5}), "selection.template: 5 is not a template"),
    "env_schema: final newline": (lambda: env_schema("openai\n"), "template: unknown template 'openai\\n'"),
    "compose_document: empty deployment": (lambda: compose_document("openai", deployment=""), "deployment: ''"),
    "compose_document: deployment int": (lambda: compose_document("openai", deployment=5), "deployment: 5 is not"),
    "compose_document: prefix int": (lambda: compose_document("openai", service_prefix=5), "service_prefix: 5 is not"),
    "compose_document: env list": (lambda: compose_document("openai", env=[1]), "env: expected a mapping"),
    "compose_document: subnet int": (lambda: compose_document("openai", subnet=5), "subnet: 5 is not a network"),
    "compose_document: image_prefix int": (lambda: compose_document("openai", image_prefix=5),
                                           "image_prefix: value 5 is an integer, not a string"),
    "compose_document: image_prefix newline": (lambda: compose_document("openai", image_prefix="reg/\n"),
                                               "image_prefix: value 'reg/\\n' contains a newline"),
    "compose_document: image_prefix space": (lambda: compose_document("openai", image_prefix="reg /"),
                                             "image_prefix (for avr-core): 'reg /agentvoiceresponse/avr-core' is not"),
    "compose_document: publish_address int": (lambda: compose_document("openai", publish_address=5),
                                              "publish_address: 5 is not an IP address"),
    "compose_document: long prefix": (lambda: compose_document("openai", service_prefix="p" * 60),
                                      "makes the container name"),
    "survey_spec: int": (lambda: survey_spec(5), "got int"),
    "survey_answers: list": (lambda: survey_answers(TaggedList([1]), "openai"),
                             "answers: expected the mapping of survey answers, got list"),
    "survey_answers: int key": (lambda: survey_answers({5: "x"}, "openai"), "answers: 5 is not a survey variable"),
    "env_by_service: str": (lambda: env_by_service("x", {}), "expected an env schema"),
    "env_by_service: list of int": (lambda: env_by_service([1], {}), "expected an env schema"),
    "env_by_service: values list": (lambda: env_by_service([], TaggedList()), "values: expected a mapping of "
                                                                              "variable to value, got list"),
    "mounted_by: list": (lambda: mounted_by(TaggedList(), ["x"]), "expected a mapping of service to mounted paths, "
                                                                  "got list"),
    "mounted_by: mounts int": (lambda: mounted_by({"a": 5}, ["x"]), "mounts.a: expected a list of paths, got 5"),
    "mounted_by: paths str": (lambda: mounted_by({"a": ["x"]}, "x"), "paths: expected a list of paths, got 'x'"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_argument_fails_in_one_line(case: str) -> None:
    call, fragment = CASES[case]
    with pytest.raises(AnsibleFilterError) as caught:
        call()
    msg = str(caught.value)
    assert "\n" not in msg, msg
    assert fragment in msg, msg
    assert "_Ansible" not in msg and "Tagged" not in msg, msg


@pytest.mark.parametrize("call, expected", [
    (lambda: mounted_by({"a": ["./x"], "b": ["./y"]}, ["x/z"]), ["a"]),
    (lambda: env_by_service([{"name": "A", "service": "s"}], {"A": "1"}), {"s": {"A": "1"}}),
    (lambda: compose_document("openai", image_prefix="reg.example:5000/")["services"]["avr-core"]["image"],
     "reg.example:5000/agentvoiceresponse/avr-core"),
])
def test_good_arguments_still_work(call: Callable[[], Any], expected: Any) -> None:
    assert call() == expected
