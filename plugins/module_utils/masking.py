# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Masking of secret values in compose files before they are shown (diffs, results).

Used on the target (to mask the current file before it leaves the host, without
PyYAML) and on the controller (to mask the new file). A value is masked where it is
the value of a secret variable, found by the file's own structure, never by
searching for the secret as a substring (a secret may be a common word). A file
whose structure this module cannot read with certainty is hidden instead.
Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

MASK = "********"
HIDDEN = ("(content hidden: this file is not in the block-style YAML that voiceops.avr can mask "
          "with certainty, and may hold secrets)\n")

# One single-line scalar: plain (no YAML indicator first, no ' #' comment, no ': ' inside), or a
# complete double- or single-quoted scalar.
_PLAIN = r"(?:[^\s\-?:,\[\]{}#&*!|>'\"%@`]|[-?:](?=\S))(?:(?!: |\s#)[^\t\r\n])*(?<! )"
_DOUBLE = r'"(?:[^"\\\n]|\\.)*"'
_SINGLE = r"'(?:[^'\n]|'')*'"
_SCALAR = r"(?:%s|%s|%s|\{\}|\[\])" % (_DOUBLE, _SINGLE, _PLAIN)
_KEY = r"(?:%s|%s|[A-Za-z0-9_.\-/$](?:[A-Za-z0-9_.\-/$ ]*[A-Za-z0-9_.\-/$])?)" % (_DOUBLE, _SINGLE)
# indent, list markers ("- ", possibly several), then "key:" with an optional value, or (after a
# list marker) a bare item
_LINE = re.compile(r"\A(?P<indent> *)(?P<dashes>(?:- +)*)(?:(?P<key>%s) *:(?: +(?P<value>%s))?"
                   r"|(?P<item>%s)) *\Z" % (_KEY, _SCALAR, _SCALAR))
_HEADER = (
    re.compile(r"\A# Rendered by voiceops\.avr\.voice_compose; local edits are overwritten\.\Z"),
    re.compile(r"\A# deployment: [a-z0-9_-]+  template: [a-z0-9_.-]+\Z"),
    re.compile(r"\A# registry: (?:[0-9A-Za-z][0-9A-Za-z._+-]* )?sha256:[0-9a-f]+\Z"),
)


def _unquote(text):
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        body = text[1:-1]
        return body.replace("''", "'") if text[0] == "'" else re.sub(r"\\(.)", r"\1", body)
    return text


def mask_compose(text, names):
    """``text`` (block-style YAML) with the value of every secret variable in ``names`` masked.

    Masks ``NAME: value`` mapping entries, ``- NAME=value`` list entries and everything nested
    below a ``NAME:`` key, wherever they are. Returns None when a line is not of a shape this
    function reads with certainty (flow style, JSON, block scalars, anchors, tags, multi-line
    scalars, tabs, comments other than voice_compose's header): the caller must then hide the text.
    """
    if not text:
        return text
    names = set(names or ())
    out = []
    nested = None  # indentation of a secret key whose nested block is being masked
    for line in text.split("\n"):
        if not line.strip():
            out.append(line)
            continue
        if line.startswith("#"):
            if not any(header.match(line) for header in _HEADER):
                return None
            out.append(line)
            continue
        if line == "---" and not out:
            out.append(line)
            continue
        match = _LINE.match(line)
        if match is None or (match.group("item") is not None and not match.group("dashes")):
            return None
        indent = len(match.group("indent"))
        depth = indent + len(match.group("dashes"))
        if nested is not None:
            if indent > nested or (indent == nested and match.group("dashes")):
                out.append(line[:depth] + MASK)
                continue
            nested = None
        key, value, item = match.group("key"), match.group("value"), match.group("item")
        head = line[:depth]
        if key is not None:
            if _unquote(key) in names:
                if value is None:
                    nested = depth
                    out.append(line)
                else:
                    out.append("%s%s: %s" % (head, key, MASK))
                continue
            out.append(line)
            continue
        plain = _unquote(item)
        name, sep, _rest = plain.partition("=")
        if sep and name in names:
            out.append("%s%s=%s" % (head, name, MASK))
        else:
            out.append(line)
    return "\n".join(out)


def mask_equal_values(text, values, shortest=8):
    """``text`` with every whole scalar value equal to one of ``values`` masked (values of ``shortest`` or more
    characters only, so that a secret that is a common word never masks a line that merely has that value).

    For a value given as a secret that also appears as the value of a variable not known to be secret.
    Lines that are not ``key: value``, ``- value`` or ``- NAME=value`` are left as they are.
    """
    wanted = set(v for v in values if v and len(v) >= shortest)
    if not text or not wanted:
        return text
    out = []
    for line in text.split("\n"):
        match = _LINE.match(line)
        if match is not None:
            head = line[:len(match.group("indent")) + len(match.group("dashes"))]
            if match.group("value") is not None and _unquote(match.group("value")) in wanted:
                line = "%s%s: %s" % (head, match.group("key"), MASK)
            elif match.group("item") is not None:
                item = _unquote(match.group("item"))
                name, sep, rest = item.partition("=")
                if item in wanted:
                    line = head + MASK
                elif sep and rest in wanted:
                    line = "%s%s=%s" % (head, name, MASK)
        out.append(line)
    return "\n".join(out)


def masked_or_hidden(text, names):
    """``mask_compose(text, names)``, or :data:`HIDDEN` when the text cannot be masked with certainty."""
    result = mask_compose(text, names)
    return HIDDEN if result is None else result
