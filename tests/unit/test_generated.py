"""Files derived from the registry must be current: the catalog page and the role's argument specs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_generated_files_are_current(collections_path):
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "generate.py"), "--check"],
                          capture_output=True, text=True, check=False,
                          env={"VOICEOPS_COLLECTIONS": str(collections_path), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_catalog_page_lists_every_template_and_functional_status():
    text = (ROOT / "docs" / "catalog.md").read_text()
    for template in ("openai", "anthropic", "gemini", "google", "deepgram", "vosk", "openai-realtime", "ultravox",
                     "gemini-sts", "deepgram-sts", "elevenlabs-sts", "n8n", "app"):
        assert "| `%s` |" % template in text
    assert "| yes |" in text
