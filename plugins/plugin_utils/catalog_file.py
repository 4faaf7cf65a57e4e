# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading a catalog file on the controller: UTF-8 YAML, one mapping, no key given twice.

Every problem is one RegistryError line naming ``catalog``, the file and what is wrong, so the
action fails with it before anything is touched on the target.
"""

from __future__ import annotations

from typing import Any, Dict

import yaml

from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import RegistryError


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a mapping that names one key twice (YAML keeps the last)."""


def _mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> Dict[Any, Any]:
    seen: Dict[Any, int] = {}
    for key_node, _value in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            first = seen.setdefault(key, key_node.start_mark.line)
        except TypeError:  # an unhashable key: the constructor below refuses it
            continue
        if first != key_node.start_mark.line:
            raise yaml.constructor.ConstructorError(
                None, None, "key %r is given twice (first on line %d); each key may appear once" % (key, first + 1),
                key_node.start_mark)
    return loader.construct_mapping(node, deep=True)


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:map", _mapping)


def load(path: str, shown: str) -> Any:
    """The data of the catalog file at ``path`` (``shown`` is the path as the task gave it)."""
    if not shown:
        raise RegistryError("catalog: '' is not a file path; give the path of a YAML file, or a mapping")
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise RegistryError("catalog: cannot read %r: %s" % (shown, exc.strerror or exc)) from None
    if b"\x00" in raw:
        raise RegistryError("catalog: %r is a binary file (it holds NUL bytes), not a YAML catalog" % shown)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RegistryError("catalog: %r is not UTF-8 text (byte 0x%02x at offset %d), not a YAML catalog"
                            % (shown, raw[exc.start], exc.start)) from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # nosec B506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = " at line %d, column %d" % (mark.line + 1, mark.column + 1) if mark is not None else ""
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        raise RegistryError("catalog: %r is not valid YAML%s: %s" % (shown, where, " ".join(what.split()))) from None
    except yaml.YAMLError as exc:
        raise RegistryError("catalog: %r is not valid YAML: %s" % (shown, " ".join(str(exc).split()))) from None
