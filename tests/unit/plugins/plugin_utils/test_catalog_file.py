"""plugin_utils/catalog_file.py: a catalog file that cannot be a catalog fails in one line naming catalog and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import RegistryError
from ansible_collections.voiceops.avr.plugins.plugin_utils.catalog_file import load


def refused(path: Path, shown: str) -> str:
    with pytest.raises(RegistryError) as caught:
        load(str(path), shown)
    text = str(caught.value)
    assert "\n" not in text and "\r" not in text, "not one line: %r" % text
    assert text.startswith("catalog: "), text
    return text


def test_a_valid_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yml"
    path.write_text("base: &b {role: asr}\nimages:\n  - <<: *b\n    role: tts\n    name: x\n")
    assert load(str(path), "catalog.yml") == {"base": {"role": "asr"}, "images": [{"role": "tts", "name": "x"}]}


@pytest.mark.parametrize("text, where", [
    ("images: [\n", "line 2, column 1"),
    ("images:\n  - name: x\n bad: indent\n", "line 3, column 2"),
    ("images: {a: 1\n", "line 2"),
    ("\tbad: tab\n", "line 1"),
    ("images: *nope\n", "line 1"),
])
def test_malformed_yaml_gives_one_line_with_the_place(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "catalog.yml"
    path.write_text(text)
    msg = refused(path, "catalog.yml")
    assert msg.startswith("catalog: 'catalog.yml' is not valid YAML") and where in msg, msg
    assert "\\n" not in msg and "<unicode string>" not in msg, "PyYAML's multi-line text, escaped: %r" % msg


def test_a_binary_file_is_named_binary(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yml"
    path.write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00\x00")
    assert refused(path, "catalog.yml") == \
        "catalog: 'catalog.yml' is a binary file (it holds NUL bytes), not a YAML catalog"


@pytest.mark.parametrize("data, offset", [(b"images: []\nname: caf\xe9\n", 20), (b"\xff\xfe", 0)])
def test_text_that_is_not_utf8_is_refused(tmp_path: Path, data: bytes, offset: int) -> None:
    path = tmp_path / "catalog.yml"
    path.write_bytes(data)
    msg = refused(path, "catalog.yml")
    assert msg == "catalog: 'catalog.yml' is not UTF-8 text (byte 0x%02x at offset %d), not a YAML catalog" \
        % (data[offset], offset)


def test_a_key_given_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yml"
    path.write_text("images:\n  - role: asr\n    name: x\n    name: y\n")
    msg = refused(path, "catalog.yml")
    assert "key 'name' is given twice (first on line 3)" in msg and "line 4" in msg, msg
    path.write_text("images: []\nproviders: []\nimages: []\n")
    assert "key 'images' is given twice (first on line 1)" in refused(path, "catalog.yml")


@pytest.mark.parametrize("make, reason", [
    (lambda p: None, "No such file or directory"),
    (lambda p: p.mkdir(), "Is a directory"),
])
def test_an_unreadable_path_says_why(tmp_path: Path, make, reason: str) -> None:
    path = tmp_path / "catalog.yml"
    make(path)
    assert refused(path, "catalog.yml") == "catalog: cannot read 'catalog.yml': %s" % reason


def test_an_empty_path_is_refused(tmp_path: Path) -> None:
    assert "'' is not a file path" in refused(tmp_path, "")


def test_a_path_with_a_newline_is_quoted_on_one_line(tmp_path: Path) -> None:
    assert refused(tmp_path / "catalog.yml\n", "catalog.yml\n") == \
        "catalog: cannot read 'catalog.yml\\n': No such file or directory"
