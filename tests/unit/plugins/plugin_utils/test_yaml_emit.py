"""plugin_utils/yaml_emit.py: every emitted scalar loads back as the value that was emitted."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.voiceops.avr.plugins.plugin_utils.yaml_emit import dump, scalar

TRICKY = [
    # YAML 1.1 / 1.2 booleans and nulls
    "yes", "Yes", "YES", "No", "no", "on", "Off", "y", "n", "true", "False", "null", "Null", "NULL", "~", "",
    # numbers, dates and sexagesimals
    "0123", "1e3", "12:30", "1:20:30", "0x1F", "0o17", "0b101", "+1", "-1", "1_000", ".5", ".0", "1.", "2001-12-14",
    ".inf", "-.inf", ".NaN", "nan",
    # syntax characters
    "- x", "-", "--- x", "---", "...", "#c", "a #b", "a: b", "a:", "a:b", "? x", "?x", ": x", "[a]", "{a: b}", "a,b",
    "${X}", "$$", "|", ">", "<<", "=", "'q'", '"q"', "\\", "@x", "*x", "&x", "!x", "!!str", "%x", "`x",
    # whitespace
    "trailing ", " leading", "  ", "\t", "a\tb", "a\rb", "x  y",
    # a final newline (a pattern ending in '$' alone matches before it)
    "abc\n", "/x\n", "avr-core\n", "\n", "a\n\n",
    # unicode
    "é", "日本語", "emoji \U0001F600", "\u00a0", "nbsp\u00a0", "\x85", "\u2028", "\u2029", "\ufeffbom", "\x7f",
    "\x1b[0m", "\ufffe", "\uffff", "\ue000",
    # ordinary values that stay plain
    "agentvoiceresponse/avr-core", "linux/x86_64", "http://avr-ami:6006", "./tools:/usr/src/app/tools",
    "You are a helpful assistant.", "gpt-3.5-turbo", "a=b", "_x", "/",
]


def roundtrip(document: Any) -> Any:
    return yaml.safe_load(dump(document))


@pytest.mark.parametrize("value", TRICKY)
def test_tricky_string_loads_back_as_the_same_string(value: str) -> None:
    assert roundtrip({"k": value}) == {"k": value}, "emitted as %s" % scalar(value)
    assert roundtrip({"k": [value]}) == {"k": [value]}, "emitted as %s" % scalar(value)


@pytest.mark.parametrize("value", [v for v in TRICKY if v not in ("...", "---")])
def test_tricky_string_as_a_key_loads_back(value: str) -> None:
    assert roundtrip({"services": {value: "v"}}) == {"services": {value: "v"}}, "emitted as %s" % scalar(value)


@pytest.mark.parametrize("value", ["agentvoiceresponse/avr-core", "linux/x86_64", "avr", "http://avr-ami:6006",
                                   "You are a helpful assistant.", "./db:/var/lib/mysql"])
def test_ordinary_strings_stay_plain(value: str) -> None:
    assert scalar(value) == value


@pytest.mark.parametrize("value", ["yes", "No", "null", "~", "0123", "1e3", "12:30", "- x", "#c", "a: b", "${X}",
                                   "trailing ", "@x", "*x", "&x", "!x", "%x", "`x", ""])
def test_ambiguous_strings_are_quoted(value: str) -> None:
    assert scalar(value).startswith('"') and scalar(value).endswith('"')


@pytest.mark.parametrize("value, text", [(True, "true"), (False, "false"), (None, "null"), (0, "0"), (5001, "5001"),
                                         (-1, "-1")])
def test_non_string_scalars(value: Any, text: str) -> None:
    assert scalar(value) == text
    assert roundtrip({"k": value}) == {"k": value}


@pytest.mark.parametrize("value", [1.5, b"x", object(), {1, 2}])
def test_unsupported_scalar_types_are_refused(value: Any) -> None:
    with pytest.raises(TypeError, match="cannot emit"):
        scalar(value)


NESTED = {
    "name": "demo",
    "services": {
        "avr-core": {
            "image": "agentvoiceresponse/avr-core",
            "environment": {"PORT": "5001", "SYSTEM_MESSAGE": "Hello: world", "EMPTY": ""},
            "ports": ["5001:5001"],
            "command": ["mysqld", "--flag=x"],
            "depends_on": {"db": {"condition": "service_healthy"}},
            "healthcheck": {"test": ["CMD", "ping"], "retries": 10},
            "empty_map": {},
            "empty_list": [],
        },
    },
    "lists": [[1, 2], [], {}, [{"a": "b", "c": ["d", {"e": None}]}], {"x": [True, False]}],
    "networks": {"avr": {"ipam": {"config": [{"subnet": "172.20.0.0/24", "gateway": "172.20.0.1"}]}}},
}


def test_nested_document_round_trip() -> None:
    assert roundtrip(NESTED) == NESTED


def test_output_is_block_style_with_header_comments_and_one_final_newline() -> None:
    text = dump({"a": {"b": ["c"]}}, "first\n\nthird")
    assert text == "# first\n#\n# third\na:\n  b:\n    - c\n"
    assert yaml.safe_load(text) == {"a": {"b": ["c"]}}


def test_insertion_order_is_kept() -> None:
    keys = ["zeta", "alpha", "mid", "beta"]
    text = dump({k: k for k in keys})
    assert [line.split(":")[0] for line in text.splitlines()] == keys


PROPERTY = settings(deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
SAFE_TEXT = st.text(st.characters(exclude_characters="\x00\n", exclude_categories=("Cs",)), max_size=40)


@settings(PROPERTY, max_examples=400)
@given(SAFE_TEXT)
def test_any_text_without_nul_or_newline_loads_back(value: str) -> None:
    assert roundtrip({"k": value, "l": [value]}) == {"k": value, "l": [value]}, "emitted as %s" % scalar(value)


SCALARS = st.one_of(SAFE_TEXT, st.integers(min_value=-(2 ** 63), max_value=2 ** 63), st.booleans(), st.none())
DOCUMENTS = st.recursive(
    SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text("abcdefgh_-./:", min_size=1, max_size=8), children,
                                               max_size=4)),
    max_leaves=12,
)


@settings(PROPERTY, max_examples=100)
@given(st.dictionaries(st.text("abcdefghijklmnopqrstuvwxyz_-", min_size=1, max_size=8), DOCUMENTS,
                       min_size=1, max_size=5))
def test_any_nested_document_round_trips(document: Any) -> None:
    assert roundtrip(document) == document


@pytest.mark.parametrize("value", ["\ud800", "a\udcffb"])
def test_text_with_an_unpaired_surrogate_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="unpaired surrogate"):
        scalar(value)
