"""Registry accounts on real Docker: a private registry that wants a password, and one fleet host.

The fixture starts a second docker-registry (the Debian package, as .ci/build-images.sh does) with
htpasswd authentication on a free port of 127.0.0.1, with a password made up for this run (bcrypt
in the htpasswd file, never written anywhere else), and copies the ultravox template's v1.0.0
stand-ins into it. The host reaches it through the role's registry accounts:

1. no account: the pull is refused and the error says access was denied, naming the image;
2. an account whose environment variable is not set, or that is not read-only: one clear error
   naming the account, before anything is pulled;
3. a wrong password: docker login fails, the error names the account, the password is not shown;
4. the password from an Ansible Vault encrypted variable (-vvv): the stack runs the private
   registry's digests, and the password appears nowhere in the output or the host's project
   files, only in the host's Docker credential store; a re-run changes nothing.

After every refused run the host's project directory is still empty.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence

import bcrypt
import pytest

import fleet as harness
from fleet import DEPLOY_VARS, Fleet, recap

fleet = harness.fleet  # the module-scoped fixture
FLEET_SIZE = 1

ROOT = Path(__file__).resolve().parents[2]
ROLLOUT = ROOT / "playbooks" / "rollout.yml"
SOURCE = "localhost:5000"
SERVICES = ("avr-core", "avr-asterisk", "avr-ami", "avr-sts-ultravox")
TAG = "v1.0.0"
USER = "puller"
PASSWORD_ENV = "VOICEOPS_TEST_REGISTRY_PASSWORD"
FLEET_VARS: Dict[str, Any] = dict(DEPLOY_VARS, stack_tag=TAG, stack_tag_environment="prod")


class PrivateRegistry:
    def __init__(self, address: str, password: str) -> None:
        self.address = address
        self.password = password

    @property
    def prefix(self) -> str:
        return self.address + "/"

    def digest(self, repository: str) -> str:
        token = base64.b64encode(("%s:%s" % (USER, self.password)).encode()).decode()
        request = urllib.request.Request(
            "http://%s/v2/%s/manifests/%s" % (self.address, repository, TAG), method="HEAD",
            headers={"Authorization": "Basic " + token,
                     "Accept": "application/vnd.docker.distribution.manifest.v2+json, "
                               "application/vnd.oci.image.manifest.v1+json"})
        with urllib.request.urlopen(request, timeout=5) as resp:
            return resp.headers["Docker-Content-Digest"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _docker(*args: str, config: Optional[Path] = None, stdin: Optional[str] = None) -> subprocess.CompletedProcess:
    cmd = ["docker"] + (["--config", str(config)] if config else []) + list(args)
    proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, "%s: %s" % (" ".join(args[:2]), proc.stderr)
    return proc


def _status(address: str) -> int:
    try:
        with urllib.request.urlopen("http://%s/v2/" % address, timeout=2) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return 0


@pytest.fixture(scope="module")
def private_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRegistry]:
    base = tmp_path_factory.mktemp("private-registry")
    password = "pw-" + secrets.token_hex(12)
    (base / "htpasswd").write_bytes(b"%s:%s\n" % (USER.encode(), bcrypt.hashpw(password.encode(), bcrypt.gensalt())))
    address = "localhost:%d" % _free_port()
    (base / "config.yml").write_text(json.dumps({
        "version": 0.1,
        "log": {"level": "warn", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(base / "data")}},
        "http": {"addr": "127.0.0.1:" + address.split(":")[1]},
        "auth": {"htpasswd": {"realm": "voiceops-test", "path": str(base / "htpasswd")}},
    }))
    with open(base / "registry.log", "wb") as log:
        server = subprocess.Popen(["docker-registry", "serve", str(base / "config.yml")], stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    config = base / "docker-config"  # the pusher's own docker CLI config, not the user's
    pushed = []
    try:
        deadline = time.monotonic() + 30
        while _status(address) != 401:
            assert server.poll() is None, (base / "registry.log").read_text()
            assert time.monotonic() < deadline, "the private registry did not answer on %s" % address
            time.sleep(0.2)
        _docker("login", "--username", USER, "--password-stdin", address, config=config, stdin=password)
        for service in SERVICES:
            source = "%s/agentvoiceresponse/%s:%s" % (SOURCE, service, TAG)
            target = "%s/agentvoiceresponse/%s:%s" % (address, service, TAG)
            _docker("pull", "--quiet", source)
            _docker("tag", source, target)
            pushed.append(target)
            _docker("push", "--quiet", target, config=config)
        yield PrivateRegistry(address, password)
    finally:
        if pushed:
            subprocess.run(["docker", "image", "rm", *pushed], capture_output=True, check=False)
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def assert_not_shown(secret: str, proc: subprocess.CompletedProcess) -> None:
    """The secret is in neither stream; a failure shows where it was, with the secret masked."""
    text = proc.stdout + proc.stderr
    where = [line.replace(secret, "<SECRET>") for line in text.splitlines() if secret in line]
    assert not where, "the secret is shown:\n" + "\n".join(line[:3000] for line in where[:5])


def project_files(fl: Fleet) -> Dict[str, bytes]:
    project = fl.hosts["fleet1"].project_dir
    if not project.exists():
        return {}
    return {str(p.relative_to(project)): p.read_bytes() for p in sorted(project.rglob("*")) if p.is_file()}


def target_docker_config(fl: Fleet) -> str:
    proc = subprocess.run(["docker", "exec", fl.hosts["fleet1"].container, "cat", "/root/.docker/config.json"],
                          capture_output=True, text=True, check=False)
    return proc.stdout


def vault_vars(tmp_path: Path, name: str, value: str) -> List[str]:
    """An extra-vars file holding `name` encrypted with Ansible Vault, and the arguments that read it."""
    password_file = tmp_path / "vault-password"
    password_file.write_text(secrets.token_hex(16))
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-vault"), "encrypt_string",
                           "--vault-password-file", str(password_file), "--stdin-name", name],
                          input=value, capture_output=True, text=True, check=True)
    assert value not in proc.stdout and "$ANSIBLE_VAULT" in proc.stdout
    (tmp_path / "vault.yml").write_text(proc.stdout)
    return ["--vault-password-file", str(password_file), "-e", "@%s" % (tmp_path / "vault.yml")]


def test_the_role_logs_in_with_a_referenced_credential(fleet: Fleet, private_registry: PrivateRegistry,
                                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fl, reg = fleet, private_registry
    account = {"name": "private", "url": reg.address, "provider": "distribution", "namespace": "agentvoiceresponse",
               "username": USER, "read_only": True, "credential_ref": {"env": PASSWORD_ENV}}
    base = {"stack_image_prefix": reg.prefix, "rollout_serial": 1}
    monkeypatch.delenv(PASSWORD_ENV, raising=False)  # only the runs that set it have it

    def run(extra: Dict[str, Any], env: Optional[Dict[str, str]] = None,
            args: Sequence[str] = ()) -> subprocess.CompletedProcess:
        return fl.run_playbook(ROLLOUT, dict(base, **extra), env=env, args=args)

    # 1. no account: the registry refuses the pull, and the error says so for the image
    proc = run({})
    assert proc.returncode != 0, proc.stdout[-4000:]
    assert "access to %s denied" % reg.address in proc.stdout, proc.stdout[-4000:]
    assert project_files(fl) == {}

    # 2. an account whose credential is not there, or that could push: refused before any pull
    proc = run({"stack_registry_accounts": [account]})
    assert proc.returncode != 0, proc.stdout[-4000:]
    assert "credential_ref {env: VOI... (%d characters)}: the controller has no such environment variable" % len(
        PASSWORD_ENV) in proc.stdout, proc.stdout[-4000:]
    proc = run({"stack_registry_accounts": [dict(account, read_only=False)]}, env={PASSWORD_ENV: reg.password})
    assert proc.returncode != 0 and "stack_registry_accounts[0] (private)" in proc.stdout, proc.stdout[-4000:]
    assert "read_only true" in proc.stdout
    assert project_files(fl) == {}

    # 3. a wrong password: login fails, naming the account, and the password is not shown
    wrong = "wrong-" + secrets.token_hex(8)
    proc = run({"stack_registry_accounts": [account]}, env={PASSWORD_ENV: wrong})
    assert proc.returncode != 0, proc.stdout[-4000:]
    assert "registry account private (%s, user %s): docker login failed" % (reg.address, USER) in proc.stdout
    assert_not_shown(wrong, proc)
    assert project_files(fl) == {}

    # 4. the password in Ansible Vault: the stack runs the private registry's digests; the password
    #    is in the host's Docker credential store and nowhere else
    vaulted = dict(account, credential_ref={"vault": "vault_registry_password"})
    vault_args = vault_vars(tmp_path, "vault_registry_password", reg.password)
    proc = run({"stack_registry_accounts": [vaulted]}, args=vault_args + ["-vvv"])
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert_not_shown(reg.password, proc)
    prefix = fl.hosts["fleet1"].vars["stack_service_prefix"] + "-"
    running = {name[len(prefix):]: info for name, info in fl.running_images("fleet1").items()}
    assert sorted(running) == sorted(SERVICES), running
    for service, info in running.items():
        repository = "agentvoiceresponse/" + service
        assert info["image"] == "%s%s:%s@%s" % (reg.prefix, repository, TAG, reg.digest(repository)), info
        assert info["state"] == "running", info
    files = project_files(fl)
    assert "docker-compose.yml" in files and "releases/history.jsonl" in files, sorted(files)
    token = base64.b64encode(("%s:%s" % (USER, reg.password)).encode())
    leaks = [name for name, data in files.items() if reg.password.encode() in data or token in data]
    assert leaks == [], "the registry password leaked into %s" % leaks
    assert json.loads(target_docker_config(fl))["auths"][reg.address]["auth"] == token.decode()

    # a re-run logs in again and changes nothing
    proc = run({"stack_registry_accounts": [vaulted]}, args=vault_args)
    assert proc.returncode == 0 and recap(proc.stdout)["fleet1"]["changed"] == 0, proc.stdout[-6000:]
    assert_not_shown(reg.password, proc)
