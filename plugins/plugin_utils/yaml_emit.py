# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small, deterministic block-style YAML emitter for compose documents.

Compose files are nested mappings and sequences of strings and integers. This
emitter writes them in one pass, with a plain scalar only where every YAML 1.1
and 1.2 reader gives back the same string, and a double-quoted scalar
otherwise. Output depends only on the input (insertion order kept), never on
the Python version, hash seed or libyaml.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping

# A plain scalar must start with a letter, '/', '.' or '_' (so never a number, date, bool
# indicator or YAML syntax character), and contain only characters that are not YAML syntax.
_PLAIN = re.compile(r"^(?:[A-Za-z_/]|\.(?![0-9]))[A-Za-z0-9_./@+=:-]*(?: [A-Za-z0-9_./@+=:-]+)*(?<!:)$")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_RESERVED = frozenset(
    word
    for base in ("y", "n", "yes", "no", "true", "false", "on", "off", "null", "nan", "inf")
    for word in (base, base.capitalize(), base.upper())
) | {".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF"}

_ESCAPES: Dict[int, str] = {ord('"'): '\\"', ord("\\"): "\\\\", 0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}
for _code in list(range(0x00, 0x20)) + [0x7F] + list(range(0x80, 0xA0)):
    _ESCAPES.setdefault(_code, "\\x%02x" % _code)
for _code in (0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF):
    _ESCAPES[_code] = "\\u%04x" % _code


def scalar(value: Any) -> str:
    """One scalar, plain when unambiguous, double-quoted otherwise."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if value is None:
        return "null"
    if not isinstance(value, str):
        raise TypeError("cannot emit %s as YAML" % type(value).__name__)
    if _SURROGATE.search(value):
        raise ValueError("cannot emit %r as YAML: it holds an unpaired surrogate (not UTF-8 text)" % value)
    if _PLAIN.fullmatch(value) and value not in _RESERVED and ": " not in value and value[-1] != ":":
        return value
    return '"' + value.translate(_ESCAPES) + '"'


def _emit(value: Any, indent: str, out: List[str]) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            head = indent + scalar(key) + ":"
            if isinstance(item, Mapping):
                if item:
                    out.append(head)
                    _emit(item, indent + "  ", out)
                else:
                    out.append(head + " {}")
            elif isinstance(item, (list, tuple)):
                if item:
                    out.append(head)
                    _emit(item, indent + "  ", out)
                else:
                    out.append(head + " []")
            else:
                out.append(head + " " + scalar(item))
        return
    for item in value:
        if isinstance(item, Mapping) and item:
            lines: List[str] = []
            _emit(item, indent + "  ", lines)
            first = lines[0]
            out.append(indent + "- " + first[len(indent) + 2:])
            out.extend(lines[1:])
        elif isinstance(item, (list, tuple)) and item:
            lines = []
            _emit(item, indent + "  ", lines)
            out.append(indent + "- " + lines[0][len(indent) + 2:])
            out.extend(lines[1:])
        elif isinstance(item, Mapping):
            out.append(indent + "- {}")
        elif isinstance(item, (list, tuple)):
            out.append(indent + "- []")
        else:
            out.append(indent + "- " + scalar(item))


def dump(document: Mapping[str, Any], header: str = "") -> str:
    """The document as YAML text, ending with one newline; ``header`` lines become comments."""
    out: List[str] = ["# " + line if line else "#" for line in header.splitlines()]
    _emit(document, "", out)
    out.append("")
    return "\n".join(out)
