"""The pure parts of the file layer: mode computing, the project layout, masking by structure."""

from __future__ import annotations

import json

import pytest

from ansible_collections.voiceops.avr.plugins.module_utils import layout
from ansible_collections.voiceops.avr.plugins.module_utils.filemode import open_to_others, resulting_mode
from ansible_collections.voiceops.avr.plugins.module_utils.masking import (
    HIDDEN, MASK, mask_compose, mask_equal_values, masked_or_hidden,
)
from ansible_collections.voiceops.avr.plugins.module_utils.registry.catalog import effective_registry
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import (
    Inputs, RenderError, check_credential_file, render,
)

KEY = "sk-marker-0123456789"


# -- mode ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode, bits", [
    ("0o644", 0o644), (" 0644", 0o644), ("0644 ", 0o644), ("u=rw,g=u", 0o660), ("u=rw,go=u", 0o666),
    ("a=u", 0o666), ("u=rw,o=u", 0o606), ("0600", 0o600), (0o640, 0o640), ("u=rw,go=", 0o600), (None, 0o600),
    ("0600\n", 0o600),  # int('0600\n', 8) == 0o600: Ansible applies 0600
])
def test_the_resulting_mode_is_computed_as_ansible_applies_it(mode: object, bits: int) -> None:
    assert resulting_mode(mode, 0o600) == bits
    assert open_to_others(bits) == (bits != 0o600)


def test_a_symbolic_mode_is_relative_to_the_existing_file() -> None:
    assert resulting_mode("u+r", 0o644) == 0o644 and resulting_mode("u+r", 0o600) == 0o600
    assert resulting_mode("go-rwx", 0o666) == 0o600


@pytest.mark.parametrize("mode", ["preserve", "rw", "0999", "u=rw,bogus", True, 0o17777])
def test_an_invalid_mode_is_one_line_naming_it(mode: object) -> None:
    with pytest.raises(ValueError) as exc:
        resulting_mode(mode)
    msg = str(exc.value)
    assert msg.startswith("mode: %r" % (mode,)) and "\n" not in msg, msg


# Ansible's own parser reads an empty clause as "no change" (so '' and 'u=rw,' would pass silently):
# we refuse them, as the slip they are.
@pytest.mark.parametrize("mode", ["", "u=rw,", ",", "u=rw,,go=", ",go="])
def test_an_empty_symbolic_clause_is_refused_naming_the_mode(mode: str) -> None:
    with pytest.raises(ValueError) as exc:
        resulting_mode(mode)
    msg = str(exc.value)
    assert msg.startswith("mode: %r has an empty symbolic clause" % (mode,)) and "\n" not in msg, msg


# -- layout ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["environment.json", "docker-compose.yml", ".credentials.json", "current",
                                  "releases", "releases/x.json", "asterisk/conf/manager.conf",
                                  ".docker-compose.yml.abcd1234"])
def test_names_the_layout_uses_are_reserved(name: str) -> None:
    assert layout.reserved(name)
    with pytest.raises(RenderError) as exc:
        check_credential_file("acme", name)
    assert str(exc.value).startswith("providers.acme.file: %r" % name)


@pytest.mark.parametrize("name", ["google.json", "keys/acme.json", "credentials.json"])
def test_other_names_are_free(name: str) -> None:
    assert not layout.reserved(name) and check_credential_file("acme", name) == name


def test_temp_files_of_a_name_match_only_mkstemp_s_pattern() -> None:
    assert layout.is_temp_of("docker-compose.yml", ".docker-compose.yml.k2_9xq0z")
    for other in (".docker-compose.yml.tmp", ".docker-compose.yml.abcd12345", "docker-compose.yml.abcd1234",
                  ".docker-compose.yml.ABCD1234", ".environment.json.abcd1234"):
        assert not layout.is_temp_of("docker-compose.yml", other), other


def test_confine_follows_links_inside_and_refuses_links_outside(tmp_path: object) -> None:
    project = tmp_path / "p"  # type: ignore[operator]
    (project / "settings").mkdir(parents=True)
    (project / "environment.json").symlink_to("settings/env.json")
    (project / "out").symlink_to(tmp_path)
    assert layout.confine(str(project), "environment.json") == str(project / "settings" / "env.json")
    for name in ("out/x", "../x", "/etc/passwd", "a/./b"):
        with pytest.raises(ValueError):
            layout.confine(str(project), name)


# -- masking ---------------------------------------------------------------------------------------

NAMES = ["OPENAI_API_KEY", "ANTHROPIC_API_KEY"]


@pytest.mark.parametrize("text", [
    "services:\n  a:\n    environment: {OPENAI_API_KEY: %s}\n" % KEY,
    json.dumps({"services": {"a": {"environment": {"OPENAI_API_KEY": KEY}}}}, indent=2),
    "services:\n  a:\n    environment:\n      OPENAI_API_KEY: |\n        %s\n" % KEY,
    "services:\n  a:\n    environment:\n      OPENAI_API_KEY: >-\n        %s\n" % KEY,
    "services:\n  a:\n    environment:\n      OPENAI_API_KEY: \"%s\n        more\"\n" % KEY,
    "services:\n  a:\n    environment:\n      OPENAI_API_KEY: %s\n        continued\n" % KEY,
    "x-env: &env\n  OPENAI_API_KEY: %s\nservices:\n  a:\n    environment: *env\n" % KEY,
    "# my key: %s\nservices: {}\n" % KEY,
    "services:\n\ta:\n\t\tcommand: %s\n" % KEY,
    "services:\n  a:\n    command: [\"--key\", \"%s\"]\n" % KEY,
])
def test_a_file_not_in_a_shape_masked_with_certainty_is_hidden(text: str) -> None:
    assert mask_compose(text, NAMES) is None
    assert masked_or_hidden(text, NAMES) == HIDDEN


@pytest.mark.parametrize("text", [
    "services:\n  a:\n    environment:\n      OPENAI_API_KEY: %s\n" % KEY,
    "services:\n  a:\n    environment:\n      - OPENAI_API_KEY=%s\n" % KEY,
    "services:\n  a:\n    environment:\n      - \"ANTHROPIC_API_KEY=%s\"\n" % KEY,
    "services:\n  a:\n    environment:\n      'OPENAI_API_KEY': '%s'\n" % KEY,
    "services:\n  a:\n    environment:\n      OPENAI_API_KEY:\n      - %s\n" % KEY,
    "services:\n  a:\n    environment:\n      OPENAI_API_KEY:\n        - %s\n" % KEY,
])
def test_values_of_secret_variables_are_masked_by_structure(text: str) -> None:
    out = mask_compose(text, NAMES)
    assert out is not None and KEY not in out and MASK in out, out


def test_a_secret_that_is_a_common_word_changes_no_other_line() -> None:
    reg = effective_registry(None)
    rendered = render(reg, reg.select("openai", None, None), Inputs("openai",
                      provider_keys={"openai": "always", "deepgram": "agentvoiceresponse"}))
    names = sorted({v.name for img in reg.images.values() for v in img.env if v.secret})
    out = mask_compose(rendered.content, names)
    assert out is not None
    changed = [(a, b) for a, b in zip(rendered.content.splitlines(), out.splitlines()) if a != b]
    assert changed and all(b.endswith(": " + MASK) and b.split(":")[0].strip() in names for _a, b in changed), changed
    assert "restart: always" in out and "image: agentvoiceresponse/avr-core" in out


def test_every_template_renders_to_a_file_the_target_can_mask() -> None:
    reg = effective_registry(None)
    names = sorted({v.name for img in reg.images.values() for v in img.env if v.secret})
    for template in reg.templates.values():
        if not template.functional:
            continue
        rendered = render(reg, template, Inputs("d", allow_missing=True))
        assert mask_compose(rendered.content, names) is not None, template.id


def test_a_secret_naming_a_service_is_never_templated() -> None:
    reg = effective_registry(None)
    key = "sk-{{service:avr-ami}}-{{service:nope}}"
    rendered = render(reg, reg.select("openai", None, None), Inputs("openai", service_prefix="x",
                      provider_keys={"openai": key, "deepgram": "dg"}))
    env = rendered.document["services"]["x-avr-llm-openai"]["environment"]
    assert env["OPENAI_API_KEY"] == key


def test_a_whole_value_equal_to_a_given_secret_is_masked_but_never_a_part_or_a_short_word() -> None:
    text = "a:\n  restart: always\n  image: %s/x\n  MINE: %s\n  list:\n    - X=%s\n    - \"%s\"\n" % (
        KEY, KEY, KEY, KEY)
    out = mask_equal_values(text, [KEY, "always"])
    assert "restart: always" in out and "image: %s/x" % KEY in out
    assert "MINE: %s" % MASK in out and "- X=%s" % MASK in out and "- %s" % MASK in out
