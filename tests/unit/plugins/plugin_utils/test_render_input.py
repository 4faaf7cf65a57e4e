"""plugin_utils/render.py: every input check refuses each class of bad input in one line naming the field.

Classes tried for every check: leading/trailing whitespace, a final newline, NUL, text that was not
UTF-8 (an unpaired surrogate), empty, too long, Unicode look-alikes, and the odd types Ansible passes
(int, bool, list, dict, None).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml

from ansible_collections.voiceops.avr.plugins.module_utils.registry.catalog import effective_registry
from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import RegistryError
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import builtin
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import (
    Inputs, RenderError, check_name, check_text, render,
)

REG = builtin("2025.09")  # these tests read generation 2025.09 facts
OPENAI = REG.template("openai")
LLM = "avr-llm-openai"

BAD_NAMES: List[Any] = [
    "openai\n", "\nopenai", " openai", "openai ", "open ai", "open\x00ai", "open\udcffai", "",
    "a" * 64, "Openai", "оpenai",  # Cyrillic 'о'
    "ｏpenai", "openai\u200b", "-openai", "_openai", "open.ai", "../x", "x/y",
    5, 0, True, False, None, ["openai"], {"name": "openai"}, 1.5,
]


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and "\r" not in text, "not one line: %r" % text
    return text


@pytest.mark.parametrize("value", BAD_NAMES, ids=repr)
def test_check_name_refuses_each_class(value: Any) -> None:
    with pytest.raises(RenderError) as caught:
        check_name(value, "deployment")
    msg = one_line(caught.value)
    assert msg.startswith("deployment: "), msg
    assert repr(value) in msg, msg


@pytest.mark.parametrize("value", ["a", "avr", "a" * 63, "x-1_y", "0day"])
def test_check_name_takes_safe_names(value: str) -> None:
    assert check_name(value, "deployment") == value


@pytest.mark.parametrize("value, problem", [
    ("a\nb", "newline"), ("a\n", "newline"), ("\r", "newline"), ("a\x00b", "NUL"), ("\x00", "NUL"),
    ("caf\udce9", "not valid UTF-8"), ("\ud800", "not valid UTF-8"),
    (5, "not a string"), (True, "not a string"), (None, "not a string"), (["x"], "not a string"),
    ({"a": "b"}, "not a string"), (1.5, "not a string"),
])
def test_check_text_refuses_each_class(value: Any, problem: str) -> None:
    with pytest.raises(RenderError) as caught:
        check_text(value, "env.avr-core.SYSTEM_MESSAGE")
    msg = one_line(caught.value)
    assert msg.startswith("env.avr-core.SYSTEM_MESSAGE: value %r " % (value,)) and problem in msg, msg


@pytest.mark.parametrize("value", ["", " padded ", "é 日本語", "$HOME", "{{ x }}", "a" * 10000, "\u2028"])
def test_check_text_takes_any_other_text(value: str) -> None:
    assert check_text(value, "env.x.Y") == value


def test_a_secret_is_never_quoted() -> None:
    with pytest.raises(RenderError) as caught:
        check_text("sk-secret\nvalue", "provider_keys.openai", secret=True)
    assert "sk-secret" not in str(caught.value) and "newline" in str(caught.value)


@pytest.mark.parametrize("field, value", [("deployment", "openai\n"), ("deployment", ""), ("deployment", "a" * 64),
                                          ("service_prefix", "x\n"), ("service_prefix", "Ab")])
def test_render_refuses_bad_names(field: str, value: str) -> None:
    kwargs: Dict[str, Any] = {"deployment": "demo", "allow_missing": True}
    kwargs[field] = value
    with pytest.raises(RenderError) as caught:
        render(REG, OPENAI, Inputs(**kwargs))
    msg = one_line(caught.value)
    assert msg.startswith(field + ": ") and repr(value) in msg, msg


def test_names_longer_than_a_dns_label_after_prefixing_are_refused() -> None:
    longest = max(len(img.service_name) for img in OPENAI.images)
    ok_prefix = "p" * (63 - longest - 1)
    out = render(REG, OPENAI, Inputs("demo", service_prefix=ok_prefix, allow_missing=True))
    assert max(len(name) for name in out.document["services"]) == 63
    too_long = ok_prefix + "q"
    with pytest.raises(RenderError) as caught:
        render(REG, OPENAI, Inputs("demo", service_prefix=too_long, allow_missing=True))
    msg = one_line(caught.value)
    assert msg.startswith("service_prefix: %r makes the container name '%s-" % (too_long, too_long)) \
        and "64 characters" in msg, msg


def test_a_long_network_name_after_prefixing_is_refused() -> None:
    reg = effective_registry({"templates": [{"id": "net", "stack": "sts", "images": {"sts": "sts/avr-sts-ultravox"},
                                             "network": {"name": "n" * 60}}]})
    with pytest.raises(RenderError) as caught:
        render(reg, reg.template("net"), Inputs("demo", service_prefix="pre", allow_missing=True))
    msg = one_line(caught.value)
    assert msg.startswith("service_prefix: 'pre' makes the network name 'pre-%s'" % ("n" * 60)), msg


@pytest.mark.parametrize("spec", ["15001:5001\n", " 15001:5001", "15001:5001 ", "١٥٠٠١:5001", "15001:٥٠٠١",
                                  "15001", ":5001", "15001:5001/icmp", "a:1:2"])
def test_port_specs_are_matched_whole_and_in_ascii_digits(spec: str) -> None:
    with pytest.raises(RenderError) as caught:
        render(REG, OPENAI, Inputs("demo", allow_missing=True, ports={"avr-core": [spec]}))
    msg = one_line(caught.value)
    assert msg.startswith("ports.avr-core[0]: %r is not a port mapping" % spec), msg


@pytest.mark.parametrize("field, value", [("env", {LLM: {"SYSTEM_PROMPT": "x\udcff"}}),
                                          ("stored_env", {LLM: {"SYSTEM_PROMPT": "x\udcff"}})])
def test_text_that_was_not_utf8_is_refused_in_every_layer(field: str, value: Any) -> None:
    with pytest.raises(RenderError) as caught:
        render(REG, OPENAI, Inputs("demo", allow_missing=True, **{field: value}))
    msg = one_line(caught.value)
    assert "SYSTEM_PROMPT: value 'x\\udcff' is not valid UTF-8" in msg, msg


# -- Compose interpolation: every text that comes from data is escaped ------------------------------

HEALTHY = {"images": [{
    "role": "app", "name": "probe", "image": "example/probe:1", "port": 8080,
    "command": ["serve", "--port=$PORT"],
    "healthcheck": {"test": ["CMD-SHELL", "curl -f localhost:$PORT/health || exit 1"], "interval": "10s"},
    "env": [{"name": "PORT", "default": "8080"}, {"name": "GREETING", "default": "costs $5"}],
}], "templates": [{"id": "probe", "stack": "plain", "extras": ["app/probe"]}]}


def test_healthcheck_command_and_env_reach_compose_literally(
        tmp_path: Path, docker_compose: List[str]) -> None:
    reg = effective_registry(json.loads(json.dumps(HEALTHY)))
    out = render(reg, reg.template("probe"), Inputs("probe", allow_missing=True))
    svc = out.document["services"]["probe"]
    assert svc["healthcheck"]["test"] == ["CMD-SHELL", "curl -f localhost:$$PORT/health || exit 1"]
    (tmp_path / "docker-compose.yml").write_text(out.content)
    proc = subprocess.run(docker_compose + ["--project-directory", str(tmp_path), "-f", "docker-compose.yml",
                                            "config", "--format", "json"],
                          cwd=tmp_path, capture_output=True, text=True, check=False,
                          env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path), "PORT": "",
                               "ARCH": ""})
    assert proc.returncode == 0, proc.stderr
    assert "not set" not in proc.stderr, proc.stderr  # nothing was interpolated from the environment
    config = json.loads(proc.stdout)["services"]["probe"]
    # `config` prints a literal '$' the way it reads one back ('$$' in Compose v2.2x): judge every field by
    # how it shows the env value, which has always been escaped.
    assert config["environment"]["GREETING"] in ("costs $5", "costs $$5")
    shown = (lambda text: text.replace("$", "$$")) if config["environment"]["GREETING"] == "costs $$5" \
        else (lambda text: text)
    assert config["healthcheck"]["test"] == ["CMD-SHELL", shown("curl -f localhost:$PORT/health || exit 1")]
    assert config["command"] == ["serve", shown("--port=$PORT")]
    assert yaml.safe_load(out.content) == out.document


@pytest.mark.parametrize("kwargs, start", [
    ({"env": {"avr-core\n": {}}}, "env.avr-core\\n: unknown service 'avr-core\\n'"),
    ({"env": {"avr-core": {"PORT\n": "1"}}}, "env.avr-core.PORT\\n: service 'avr-core'"),
    ({"env": {"avr-core\x00": {}}}, "env.avr-core\\x00: unknown service"),
    ({"ports": {"avr-core\r": []}}, "ports.avr-core\\r: unknown service"),
])
def test_a_key_with_control_characters_still_gives_one_line(kwargs: Dict[str, Any], start: str) -> None:
    with pytest.raises(RenderError) as caught:
        render(REG, OPENAI, Inputs("demo", allow_missing=True, **kwargs))
    assert one_line(caught.value).startswith(start), str(caught.value)


def test_a_provider_role_with_a_newline_gives_one_line() -> None:
    with pytest.raises(RegistryError) as caught:
        REG.select(stack="modular", providers={"asr\n": "vosk", "llm": "openai", "tts": "deepgram"})
    assert one_line(caught.value).startswith("providers.asr\\n: a modular stack takes providers for")


@pytest.mark.parametrize("field", ["publish_address", "management_address"])
@pytest.mark.parametrize("value", ["127.0.0.1\n", " 127.0.0.1", "127.0.0.1 ", "١٢٧.0.0.1", "localhost", "::1\n",
                                   "fe80::1%eth0", 5, ["127.0.0.1"]])
def test_a_bind_address_is_one_ip_address(field: str, value: Any) -> None:
    with pytest.raises(RenderError) as caught:
        render(REG, OPENAI, Inputs("demo", allow_missing=True, **{field: value}))
    assert one_line(caught.value).startswith("%s: %r " % (field, value)), str(caught.value)


@pytest.mark.parametrize("value", ["172.20.0.0/24\n", " 172.20.0.0/24", "١٧٢.20.0.0/24", "172.20.0.1/24", 5, ["x"]])
def test_a_subnet_is_one_network_address(value: Any) -> None:
    with pytest.raises(RenderError) as caught:
        render(REG, OPENAI, Inputs("demo", allow_missing=True, subnet=value))
    assert one_line(caught.value).startswith("subnet: %r is not a network address" % (value,)), str(caught.value)


def test_an_ipv6_bind_address_reaches_compose_in_brackets(tmp_path: Path, docker_compose: List[str]) -> None:
    out = render(REG, OPENAI, Inputs("demo", allow_missing=True, publish_address="::1", management_address="127.0.0.1"))
    assert out.document["services"]["avr-core"]["ports"] == ["[::1]:5001:5001"]
    assert "127.0.0.1:5038:5038" in out.document["services"]["avr-asterisk"]["ports"]
    (tmp_path / "docker-compose.yml").write_text(out.content)
    proc = subprocess.run(docker_compose + ["--project-directory", str(tmp_path), "-f", "docker-compose.yml",
                                            "config", "--format", "json"],
                          cwd=tmp_path, capture_output=True, text=True, check=False,
                          env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    ports = json.loads(proc.stdout)["services"]["avr-core"]["ports"]
    assert [(p["host_ip"], p["published"], p["target"]) for p in ports] == [("::1", "5001", 5001)], ports
