"""The environment of an ansible-playbook run in the tests: this checkout's collection, nothing inherited."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Dict

BIN = Path(sys.executable).parent


def ansible_environ(config: Path, collections_path: Path, base: Path, callback: str) -> Dict[str, str]:
    """os.environ without ANSIBLE_* settings, plus the test's config, collections, callback and tmp folders."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    environ.update({
        "ANSIBLE_CONFIG": str(config),
        "ANSIBLE_COLLECTIONS_PATH": str(collections_path),
        "ANSIBLE_STDOUT_CALLBACK": callback,
        "ANSIBLE_LOCAL_TEMP": str(base / "tmp-local"),
        "ANSIBLE_REMOTE_TMP": str(base / "tmp-remote"),
        "ANSIBLE_NOCOLOR": "1",
        "PATH": "%s:%s" % (BIN, os.environ.get("PATH", "/usr/bin:/bin")),
    })
    return environ
