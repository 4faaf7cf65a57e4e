"""`ansible-doc` shows every module, filter and lookup of the collection, fully documented.

ansible-test sanity does not check filter documentation, and `ansible-doc` exits 0 even when
a plugin it was asked about cannot be loaded (it only warns), so these tests check the JSON:
every plugin file is listed, nothing is UNDOCUMENTED, and each plugin's doc has a short
description, a description, examples and return values.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import pytest

NAMESPACE = "voiceops.avr"
#: ansible-doc plugin type -> directory of the plugin files.
KINDS = {"module": "modules", "filter": "filter", "lookup": "lookup"}


def plugin_files(root: Path, kind: str) -> List[str]:
    return sorted(p.stem for p in (root / "plugins" / KINDS[kind]).glob("*.py") if p.stem != "__init__")


def ansible_doc_json(run_tool, args: List[str]) -> Dict[str, Any]:
    proc = run_tool(["ansible-doc", "--json"] + args, timeout=300)
    assert proc.returncode == 0, run_tool.report(proc)
    assert "[ERROR]" not in proc.stderr, run_tool.report(proc)
    return json.loads(proc.stdout)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_plugin_listed_and_documented(run_tool, root: Path, kind: str) -> None:
    listed = ansible_doc_json(run_tool, ["-t", kind, "-l", NAMESPACE])
    files = plugin_files(root, kind)
    assert files, "no %s plugins found under plugins/%s" % (kind, KINDS[kind])
    missing = ["%s.%s" % (NAMESPACE, f) for f in files if "%s.%s" % (NAMESPACE, f) not in listed]
    assert not missing, "plugin files not listed by ansible-doc -t %s -l: %s\n%s" % (kind, missing, listed)
    undocumented = sorted(name for name, text in listed.items() if not text or "UNDOCUMENTED" in str(text))
    assert not undocumented, "UNDOCUMENTED %s plugins: %s" % (kind, undocumented)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_plugin_doc_is_complete(run_tool, root: Path, kind: str) -> None:
    names = ["%s.%s" % (NAMESPACE, f) for f in plugin_files(root, kind)]
    docs = ansible_doc_json(run_tool, ["-t", kind] + names)
    problems = []
    for name in names:
        entry = docs.get(name)
        if not entry:
            problems.append("%s: ansible-doc -t %s shows nothing (see its warnings)" % (name, kind))
            continue
        doc = entry.get("doc") or {}
        for key in ("short_description", "description", "author"):
            if not doc.get(key):
                problems.append("%s: DOCUMENTATION has no %s" % (name, key))
        if not str(entry.get("examples") or "").strip():
            problems.append("%s: no EXAMPLES" % name)
        if not entry.get("return"):
            problems.append("%s: no RETURN" % name)
    assert not problems, "\n".join(problems)
