"""lookup/credential.py: a credential reference resolved on the controller, without ever showing its value.

The env and file kinds and every refusal run the lookup in-process; the vault kind also runs through a
real ``ansible-playbook`` with an Ansible Vault encrypted variable, the way the stack role uses it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from ansible.errors import AnsibleLookupError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.voiceops.avr.plugins.lookup.credential import LookupModule, describe, masked

SECRET = "s3cret-token-not-real-4f2a9c"
BIN = Path(sys.executable).parent


def lookup() -> LookupModule:
    loader = DataLoader()
    return LookupModule(loader=loader, templar=Templar(loader=loader))


def resolve(terms: List[Any], variables: Optional[Dict[str, Any]] = None) -> List[str]:
    return lookup().run(terms, variables=variables if variables is not None else {})


def refused(terms: List[Any], variables: Optional[Dict[str, Any]] = None) -> str:
    with pytest.raises(AnsibleLookupError) as err:
        resolve(terms, variables)
    msg = str(err.value)
    assert SECRET not in msg
    return msg


# -- env ------------------------------------------------------------------------------------------


def test_env_resolves_the_controller_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICEOPS_TEST_TOKEN", SECRET)
    assert resolve([{"env": "VOICEOPS_TEST_TOKEN"}]) == [SECRET]


def test_env_keeps_the_value_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICEOPS_TEST_TOKEN", " spaced value\n")
    assert resolve([{"env": "VOICEOPS_TEST_TOKEN"}]) == [" spaced value\n"]


def test_env_unset_is_refused_with_the_name_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOICEOPS_TEST_TOKEN", raising=False)
    assert refused([{"env": "VOICEOPS_TEST_TOKEN"}]) == (
        "credential_ref {env: VOI... (19 characters)}: the controller has no such environment variable"
        " (vault and env take a name, not the value)")


@pytest.mark.parametrize("ref", [{"env": SECRET}, {"vault": SECRET}, {"file": SECRET}, {"env": "s3cr3t"}])
def test_a_secret_put_where_its_name_goes_is_not_shown(ref: Dict[str, str]) -> None:
    """The commonest mistake: {vault: "{{ vault_token }}"} instead of {vault: vault_token}."""
    msg = refused([ref], {})
    value = next(iter(ref.values()))
    assert value not in msg and value[3:] not in msg, msg
    assert "characters)" in msg


def test_env_empty_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICEOPS_TEST_TOKEN", "")
    msg = refused([{"env": "VOICEOPS_TEST_TOKEN"}])
    assert msg == "credential_ref {env: VOICEOPS_TEST_TOKEN}: resolves to an empty value"


# -- file -----------------------------------------------------------------------------------------


def test_file_resolves_its_content_without_the_trailing_newline(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text(SECRET + "\n", encoding="utf-8")
    assert resolve([{"file": str(path)}]) == [SECRET]


def test_file_keeps_inner_newlines_and_drops_every_trailing_one(tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    path.write_text('{\n  "key": "x"\n}\n\n', encoding="utf-8")
    assert resolve([{"file": str(path)}]) == ['{\n  "key": "x"\n}']
    path.write_text("no newline", encoding="utf-8")
    assert resolve([{"file": str(path)}]) == ["no newline"]


def test_a_relative_file_is_found_in_the_search_path(tmp_path: Path) -> None:
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "registry-token").write_text(SECRET + "\n", encoding="utf-8")
    variables = {"ansible_search_path": [str(tmp_path)]}
    assert resolve([{"file": "registry-token"}], variables) == [SECRET]


def test_a_missing_file_is_refused_naming_the_reference(tmp_path: Path) -> None:
    path = tmp_path / "absent"
    assert refused([{"file": str(path)}]) == "credential_ref {file: %s}: cannot read it (No such file or directory)" % (
        path)


def test_a_missing_relative_file_is_refused_naming_the_reference(tmp_path: Path) -> None:
    msg = refused([{"file": "no-such-token"}], {"ansible_search_path": [str(tmp_path)]})
    assert msg == "credential_ref {file: no-... (13 characters)}: cannot read it (No such file or directory)"


def test_a_directory_is_refused(tmp_path: Path) -> None:
    assert refused([{"file": str(tmp_path)}]) == "credential_ref {file: %s}: cannot read it (Is a directory)" % (
        tmp_path)


@pytest.mark.parametrize("content", ["", "\n", "\n\n"])
def test_an_empty_file_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "token"
    path.write_text(content, encoding="utf-8")
    assert refused([{"file": str(path)}]) == "credential_ref {file: %s}: resolves to an empty value" % path


# -- vault (in-process) ------------------------------------------------------------------------------


def test_vault_resolves_the_variable() -> None:
    assert resolve([{"vault": "vault_registry_token"}], {"vault_registry_token": SECRET}) == [SECRET]


def test_vault_turns_a_number_into_text() -> None:
    assert resolve([{"vault": "pin"}], {"pin": 1234}) == ["1234"]


@pytest.mark.parametrize("variables", [None, {}, {"vault_other": SECRET}])
def test_vault_without_the_variable_is_refused(variables: Optional[Dict[str, Any]]) -> None:
    with pytest.raises(AnsibleLookupError) as err:
        lookup().run([{"vault": "vault_registry_token"}], variables=variables)
    msg = str(err.value)
    assert msg == ("credential_ref {vault: vau... (20 characters)}: no such variable is defined"
                   " (vault and env take a name, not the value)")
    assert SECRET not in msg


def test_vault_with_an_empty_value_is_refused() -> None:
    assert refused([{"vault": "vault_registry_token"}], {"vault_registry_token": ""}) == (
        "credential_ref {vault: vault_registry_token}: resolves to an empty value")


# -- several references and bad shapes ------------------------------------------------------------------


def test_several_references_resolve_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICEOPS_TEST_TOKEN", "from-env")
    path = tmp_path / "token"
    path.write_text("from-file\n", encoding="utf-8")
    terms = [{"file": str(path)}, {"vault": "v"}, {"env": "VOICEOPS_TEST_TOKEN"}]
    assert resolve(terms, {"v": "from-vault"}) == ["from-file", "from-vault", "from-env"]


def test_one_unresolved_reference_fails_the_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOICEOPS_TEST_TOKEN", raising=False)
    msg = refused([{"vault": "v"}, {"env": "VOICEOPS_TEST_TOKEN"}], {"v": SECRET})
    assert msg.startswith("credential_ref {env: VOI... (19 characters)}: ")


@pytest.mark.parametrize("ref, shown", [
    ({"vault": "a", "env": "b"}, "env, vault"),
    ({"vault": "a", "env": "b", "file": "c"}, "env, file, vault"),
    ({"other": "x"}, "other"),
    ({"Vault": "a"}, "Vault"),
    ({}, ""),
    ("vault_registry_token", "a str, not a mapping"),
    (["vault", "a"], "a list, not a mapping"),
    (None, "a NoneType, not a mapping"),
])
def test_a_bad_shape_is_refused(ref: Any, shown: str) -> None:
    msg = refused([ref])
    assert msg == "credential_ref {%s}: expected exactly one of vault, env or file" % shown


def test_describe() -> None:
    assert describe({"file": "/x", "env": "Y"}) == "env, file"
    assert describe("x") == "a str, not a mapping"
    assert describe({"vault": "v", "token": "s3cr3t"}) == "token, vault", "keys are named, never their values"
    assert masked("vault_registry_token") == "vau... (20 characters)" and masked("short") == "(5 characters)"


def test_a_secret_given_instead_of_a_reference_is_not_shown() -> None:
    with pytest.raises(AnsibleLookupError) as err:
        resolve([SECRET])
    assert "expected exactly one of vault, env or file" in str(err.value)
    assert SECRET not in str(err.value)


# -- vault through ansible-playbook ----------------------------------------------------------------------


PLAYBOOK = """\
- name: Resolve credential references
  hosts: localhost
  connection: local
  gather_facts: false
  vars_files:
    - secrets.yml
  tasks:
    - name: The vault kind gives the decrypted value
      ansible.builtin.assert:
        that:
          - lookup('voiceops.avr.credential', dict(vault='vault_registry_token')) == expected_token
          - lookup('voiceops.avr.credential', dict(vault='indirect_token')) == expected_token
        quiet: true
      no_log: true

    - name: A missing variable is refused
      ansible.builtin.debug:
        msg: "{{ lookup('voiceops.avr.credential', dict(vault='vault_missing_token')) }}"
      register: missing
      ignore_errors: true

    - name: Report how the missing variable failed
      ansible.builtin.debug:
        msg: "MISSING: {{ missing.msg }}"
"""


@pytest.fixture(scope="module")
def vault_run(tmp_path_factory: pytest.TempPathFactory, collections_path: Path) -> subprocess.CompletedProcess:
    work = tmp_path_factory.mktemp("credential")
    password = work / "vault-pass"
    password.write_text("not-a-real-vault-password\n", encoding="utf-8")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections_path), ANSIBLE_HOME=str(work / "home"),
               ANSIBLE_VAULT_PASSWORD_FILE=str(password), ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_LOCALHOST_WARNING="0")
    env.pop("ANSIBLE_CONFIG", None)
    encrypted = subprocess.run([str(BIN / "ansible-vault"), "encrypt_string", "--name", "vault_registry_token",
                                SECRET], cwd=work, env=env, capture_output=True, text=True, check=False)
    assert encrypted.returncode == 0, encrypted.stderr
    assert SECRET not in encrypted.stdout
    (work / "secrets.yml").write_text(
        encrypted.stdout + "indirect_token: \"{{ vault_registry_token }}\"\nexpected_token: %s\n" % SECRET,
        encoding="utf-8")
    (work / "site.yml").write_text(PLAYBOOK, encoding="utf-8")
    return subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-e",
                           "ansible_python_interpreter=%s" % sys.executable, "site.yml"],
                          cwd=work, env=env, capture_output=True, text=True, check=False, timeout=300)


def test_vault_resolves_an_encrypted_variable_in_a_playbook(vault_run: subprocess.CompletedProcess) -> None:
    output = vault_run.stdout + vault_run.stderr
    assert vault_run.returncode == 0, output
    assert "ok: [localhost]" in vault_run.stdout
    assert "failed=0" in vault_run.stdout and "ignored=1" in vault_run.stdout


def test_vault_output_never_shows_the_value(vault_run: subprocess.CompletedProcess) -> None:
    assert vault_run.returncode == 0 and "MISSING: " in vault_run.stdout
    assert SECRET not in vault_run.stdout + vault_run.stderr


def test_vault_missing_variable_in_a_playbook_names_the_reference(vault_run: subprocess.CompletedProcess) -> None:
    assert ("credential_ref {vault: vau... (19 characters)}: no such variable is defined"
            in vault_run.stdout), vault_run.stdout
