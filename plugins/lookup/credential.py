# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lookup voiceops.avr.credential: the value a credential reference points at."""

from __future__ import annotations

DOCUMENTATION = r"""
---
name: credential
short_description: Resolve a credential reference (vault variable, environment variable or file)
version_added: 0.2.0
description:
  - A registry account of the C(voiceops.avr.stack) role holds a C(credential_ref), never a value. This
    lookup resolves one on the controller.
  - "C(vault) - the value of the variable it names (typically Ansible Vault encrypted);
    C(env) - the controller's environment variable it names; C(file) - the content of the controller
    file it names (trailing newline removed)."
  - A reference that resolves to nothing fails, naming the reference but never a value; a name that names
    nothing is shown masked (its first characters and length), since it may be the secret itself, put where
    its name goes. Use it only in tasks with C(no_log).
author:
  - voiceops.avr contributors (!UNKNOWN)
options:
  _terms:
    description: Credential references, each a mapping with exactly one of C(vault), C(env) or C(file).
    required: true
    type: list
    elements: dict
"""

EXAMPLES = r"""
---
- name: Log in with a token kept in Ansible Vault
  ansible.builtin.command:
    cmd: docker login --username ci --password-stdin registry.example.org
    stdin: "{{ lookup('voiceops.avr.credential', {'vault': 'vault_registry_token'}) }}"
  no_log: true
  changed_when: false
"""

RETURN = r"""
---
_raw:
  description: The credential of each reference.
  type: list
  elements: str
"""

import os

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.lookup import LookupBase

KINDS = ("vault", "env", "file")


def masked(name):
    """A name that names nothing, as errors show it: it may be the secret itself, put where its name goes."""
    name = to_text(name)
    if len(name) >= 12:
        return "%s... (%d characters)" % (name[:3], len(name))
    return "(%d characters)" % len(name)


def describe(ref):
    """A malformed reference as errors show it: its keys only (a value may be a secret)."""
    if isinstance(ref, dict):
        return ", ".join(str(k) for k in sorted(ref, key=str))
    return "a %s, not a mapping" % type(ref).__name__


HINT = " (vault and env take a name, not the value)"


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        values = []
        for ref in terms:
            if not isinstance(ref, dict) or len(ref) != 1 or next(iter(ref)) not in KINDS:
                raise AnsibleLookupError("credential_ref {%s}: expected exactly one of vault, env or file"
                                         % describe(ref))
            kind, name = next(iter(ref.items()))
            name = to_text(name)
            if kind == "vault":
                if not variables or name not in variables:
                    raise AnsibleLookupError("credential_ref {vault: %s}: no such variable is defined%s"
                                             % (masked(name), HINT))
                value = to_text(self._templar.template(variables[name]))
            elif kind == "env":
                if name not in os.environ:
                    raise AnsibleLookupError("credential_ref {env: %s}: the controller has no such environment "
                                             "variable%s" % (masked(name), HINT))
                value = os.environ[name]
            else:
                path = name if os.path.isabs(name) else self.find_file_in_search_path(variables, "files", name)
                try:
                    with open(path or name, "r", encoding="utf-8") as handle:
                        value = handle.read().rstrip("\n")
                except OSError as exc:
                    # an absolute path or an existing file is a path; anything else may be the secret itself
                    shown = name if os.path.isabs(name) or os.path.lexists(path or name) else masked(name)
                    raise AnsibleLookupError("credential_ref {file: %s}: cannot read it (%s)"
                                             % (shown, exc.strerror)) from None
            if not value:
                raise AnsibleLookupError("credential_ref {%s: %s}: resolves to an empty value" % (kind, name))
            values.append(value)
        return values
