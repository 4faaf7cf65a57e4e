"""modules/image_resolve.py: pull image references and report their digests, against a fake docker CLI.

The fake ``docker`` is a shell script written into ``tmp_path``: it answers ``image inspect`` and
``pull`` per reference the way the Docker CLI does (output, error text, exit code), remembers what
it pulled, and logs every call so that a test can tell what the module ran.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.voiceops.avr.plugins.modules import image_resolve
from ansible_collections.voiceops.avr.plugins.modules.image_resolve import recorded_digest, registry_of, resolve, split

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
D3 = "sha256:" + "abcdef0123456789" * 4
CORE = "registry.example.org/agentvoiceresponse/avr-core"
REFUSED = ('Error response from daemon: Get "https://127.0.0.1:5999/v2/": dial tcp 127.0.0.1:5999: '
           'connect: connection refused')


# -- split / registry_of ------------------------------------------------------------------------------


@pytest.mark.parametrize("reference, parts", [
    ("nginx", ("nginx", None, None)),
    ("nginx:1.25", ("nginx", "1.25", None)),
    ("agentvoiceresponse/avr-core:v1.4.0", ("agentvoiceresponse/avr-core", "v1.4.0", None)),
    ("localhost:5000/x/y:v1", ("localhost:5000/x/y", "v1", None)),
    ("localhost:5000/x/y", ("localhost:5000/x/y", None, None)),
    ("nginx@" + D1, ("nginx", None, D1)),
    (CORE + ":v1.4.0@" + D1, (CORE, "v1.4.0", D1)),
    ("localhost:5000/x@" + D2, ("localhost:5000/x", None, D2)),
    ("127.0.0.1:5999/avr/core:dev-20261122093000", ("127.0.0.1:5999/avr/core", "dev-20261122093000", None)),
])
def test_split(reference: str, parts: Tuple[str, Optional[str], Optional[str]]) -> None:
    assert split(reference) == parts


@pytest.mark.parametrize("repository, registry", [
    ("nginx", "docker.io"),
    ("library/nginx", "docker.io"),
    ("agentvoiceresponse/avr-core", "docker.io"),
    ("n8nio/n8n", "docker.io"),
    ("registry.example.org/agentvoiceresponse/avr-core", "registry.example.org"),
    ("localhost:5000/x/y", "localhost:5000"),
    ("localhost/x", "localhost"),
    ("127.0.0.1:5999/avr/core", "127.0.0.1:5999"),
    ("docker.io/library/nginx", "docker.io"),
    ("ghcr.io/org/image", "ghcr.io"),
    ("localhost", "docker.io"),
    ("registry.example.org", "docker.io"),
])
def test_registry_of(repository: str, registry: str) -> None:
    assert registry_of(repository) == registry


# -- a fake docker CLI ----------------------------------------------------------------------------------


@dataclass
class Image:
    """What the fake docker knows about one pull reference."""

    before: Optional[str] = None          # `image inspect` output before any pull (None: not on the host)
    after: Optional[str] = None           # `image inspect` output once pulled (None: as before)
    pull_rc: int = 0
    pull_out: str = ""
    pull_err: str = ""
    pull_sleep: int = 0


def fake_docker(tmp_path: Path, images: Dict[str, Image]) -> Path:
    """An executable docker stand-in for ``images`` (keyed by the reference the module pulls)."""
    state = tmp_path / "docker-state"
    state.mkdir()
    inspect_cases: List[str] = []
    pull_cases: List[str] = []
    for number, (ref, img) in enumerate(sorted(images.items())):
        marker = shlex.quote(str(state / ("pulled.%d" % number)))
        after = img.after if img.after is not None else img.before
        lines = ["    %s)" % shlex.quote(ref)]
        if after is not None:
            lines.append("      if [ -f %s ]; then printf '%%s\\n' %s; exit 0; fi" % (marker, shlex.quote(after)))
        if img.before is not None:
            lines.append("      printf '%%s\\n' %s; exit 0" % shlex.quote(img.before))
        else:
            lines.append("      echo \"Error response from daemon: No such image: $ref\" >&2; exit 1")
        lines.append("      ;;")
        inspect_cases.extend(lines)
        pull = ["    %s)" % shlex.quote(ref)]
        if img.pull_sleep:
            pull.append("      exec sleep %d" % img.pull_sleep)
        if img.pull_out:
            pull.append("      printf '%%s\\n' %s" % shlex.quote(img.pull_out))
        if img.pull_err:
            pull.append("      printf '%%s\\n' %s >&2" % shlex.quote(img.pull_err))
        if img.pull_rc == 0:
            pull.append("      touch %s" % marker)
        pull.append("      exit %d" % img.pull_rc)
        pull.append("      ;;")
        pull_cases.extend(pull)
    script = "\n".join([
        "#!/bin/sh",
        "printf '%%s\\n' \"$*\" >> %s" % shlex.quote(str(state / "calls.log")),
        'case "$1 $2" in',
        '  "image inspect")',
        '    [ "$3" = "-f" ] || { echo "expected -f" >&2; exit 2; }',
        '    ref="$5"',
        '    case "$ref" in',
        *inspect_cases,
        '    *) echo "Error response from daemon: No such image: $ref" >&2; exit 1;;',
        "    esac;;",
        '  pull\\ *)',
        '    ref="$2"',
        '    case "$ref" in',
        *pull_cases,
        '    *) echo "fake docker: unexpected pull of $ref" >&2; exit 99;;',
        "    esac;;",
        '  *) echo "fake docker: unexpected call: $*" >&2; exit 98;;',
        "esac",
        "",
    ])
    path = tmp_path / "docker"
    path.write_text(script, encoding="utf-8")
    path.chmod(0o755)
    return path


def calls(docker: Path) -> List[str]:
    log = docker.parent / "docker-state" / "calls.log"
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def pulls(docker: Path) -> List[str]:
    return sorted(line.split(" ", 1)[1] for line in calls(docker) if line.startswith("pull "))


def pulled_output(ref: str, digest: str) -> str:
    repository, tag = split(ref)[:2]
    return ("%s: Pulling from %s\nDigest: %s\nStatus: Downloaded newer image for %s"
            % (tag or "latest", repository, digest, ref))


def run_module(capsys: pytest.CaptureFixture[str], check_mode: bool = False,
               **args: Any) -> Tuple[int, Dict[str, Any]]:
    module_args = dict(args)
    if check_mode:
        module_args["_ansible_check_mode"] = True
    capsys.readouterr()
    with patch_module_args(module_args):
        with pytest.raises(SystemExit) as exc:
            image_resolve.main()
    return int(exc.value.code or 0), json.loads(capsys.readouterr().out)


# -- resolve() ------------------------------------------------------------------------------------------


def test_resolve_a_good_pull_reports_the_digest_of_the_pull(tmp_path: Path) -> None:
    ref = CORE + ":v1.4.0"
    docker = fake_docker(tmp_path, {ref: Image(after="sha256:%s %s@%s" % ("9" * 64, CORE, D1),
                                               pull_out=pulled_output(ref, D1))})
    assert resolve(str(docker), "avr-core", ref, 30, False) == {"digest": D1, "changed": True}
    assert pulls(docker) == [ref]


def test_resolve_an_untagged_reference_pulls_latest(tmp_path: Path) -> None:
    docker = fake_docker(tmp_path, {"nginx:latest": Image(pull_out=pulled_output("nginx:latest", D2))})
    assert resolve(str(docker), "web", "nginx", 30, False)["digest"] == D2
    assert pulls(docker) == ["nginx:latest"]


def test_resolve_an_image_already_up_to_date_is_unchanged(tmp_path: Path) -> None:
    ref = CORE + ":v1.4.0"
    local = "sha256:%s %s@%s" % ("9" * 64, CORE, D1)
    docker = fake_docker(tmp_path, {ref: Image(before=local, pull_out=pulled_output(ref, D1))})
    assert resolve(str(docker), "avr-core", ref, 30, False) == {"digest": D1, "changed": False}


def test_resolve_takes_the_digest_from_repo_digests_without_a_digest_line(tmp_path: Path) -> None:
    ref = "agentvoiceresponse/avr-core:v1.4.0"
    after = "sha256:%s other/repo@%s agentvoiceresponse/avr-core@%s" % ("8" * 64, D1, D3)
    docker = fake_docker(tmp_path, {ref: Image(after=after, pull_out="Status: Image is up to date for " + ref)})
    assert resolve(str(docker), "avr-core", ref, 30, False) == {"digest": D3, "changed": True}


def test_resolve_a_pull_without_any_digest_is_an_error(tmp_path: Path) -> None:
    ref = "localhost:5000/x/y:v1"
    docker = fake_docker(tmp_path, {ref: Image(after="sha256:%s" % ("7" * 64), pull_out="v1: Pulling from x/y")})
    assert resolve(str(docker), "y", ref, 30, False) == {
        "error": "images.y: pulled localhost:5000/x/y:v1 but Docker reports no registry digest for it"}


def test_resolve_a_reference_with_a_digest_pulls_by_digest(tmp_path: Path) -> None:
    pull_ref = CORE + "@" + D2
    docker = fake_docker(tmp_path, {pull_ref: Image(pull_out="Digest: " + D2)})
    assert resolve(str(docker), "avr-core", CORE + ":v1.4.0@" + D2, 30, False)["digest"] == D2
    assert pulls(docker) == [pull_ref]


def test_resolve_in_check_mode_pulls_nothing(tmp_path: Path) -> None:
    ref = CORE + ":v1.4.0"
    docker = fake_docker(tmp_path, {ref: Image(before="sha256:%s %s@%s" % ("9" * 64, CORE, D1))})
    assert resolve(str(docker), "avr-core", ref, 30, True) == {"digest": D1, "changed": False}
    assert resolve(str(docker), "avr-ami", "agentvoiceresponse/avr-ami:v1.4.0", 30, True) == {
        "digest": None, "changed": False}
    assert pulls(docker) == [] and len(calls(docker)) == 2


@pytest.mark.parametrize("reference, err, reason", [
    ("127.0.0.1:5999/avr/core:v1", REFUSED, "registry 127.0.0.1:5999 is unreachable"),
    ("registry.invalid/a/b:v1",
     "Error response from daemon: Get \"https://registry.invalid/v2/\": dial tcp: lookup registry.invalid "
     "on 127.0.0.11:53: no such host", "registry registry.invalid is unreachable"),
    ("registry.example.org/a/b:v1",
     "Error response from daemon: Get \"https://registry.example.org/v2/\": net/http: TLS handshake timeout",
     "registry registry.example.org is unreachable"),
    ("nginx:v9", "Error response from daemon: manifest for nginx:v9 not found: manifest unknown: manifest unknown",
     "docker.io has no tag v9 of nginx"),
    ("localhost:5000/x", "Error response from daemon: manifest for localhost:5000/x:latest not found: "
     "manifest unknown: manifest unknown", "localhost:5000 has no tag latest of localhost:5000/x"),
    ("registry.example.org/a/b@" + D1, "Error response from daemon: manifest unknown: manifest unknown",
     "registry.example.org has no digest %s for registry.example.org/a/b" % D1),
    ("private/image:v1", "Error response from daemon: pull access denied for private/image, repository does "
     "not exist or may require 'docker login': denied: requested access to the resource is denied",
     "access to docker.io denied (no such repository, or log in with an account that can read it)"),
    ("registry.example.org/a/b:v1", "Error response from daemon: Head \"https://registry.example.org/v2/a/b/"
     "manifests/v1\": unauthorized: authentication required",
     "access to registry.example.org denied (no such repository, or log in with an account that can read it)"),
    ("localhost:5001/a/b:v1", "Error response from daemon: Head \"http://localhost:5001/v2/a/b/manifests/v1\": "
     "no basic auth credentials",
     "access to localhost:5001 denied (no such repository, or log in with an account that can read it)"),
    ("nginx:1.25", "Error response from daemon: no space left on device", "pull failed"),
])
def test_resolve_classifies_a_failed_pull(tmp_path: Path, reference: str, err: str, reason: str) -> None:
    repository, tag, digest = split(reference)
    pull_ref = "%s@%s" % (repository, digest) if digest else "%s:%s" % (repository, tag or "latest")
    docker = fake_docker(tmp_path, {pull_ref: Image(pull_rc=1, pull_err="some progress\n" + err)})
    result = resolve(str(docker), "svc", reference, 30, False)
    assert result == {"error": "images.svc: cannot pull %s: %s (%s)" % (pull_ref, reason, err)}


def test_resolve_a_failed_pull_without_output_names_the_exit_code(tmp_path: Path) -> None:
    docker = fake_docker(tmp_path, {"nginx:1.25": Image(pull_rc=3)})
    assert resolve(str(docker), "web", "nginx:1.25", 30, False) == {
        "error": "images.web: cannot pull nginx:1.25: pull failed (exit 3)"}


def test_resolve_a_pull_that_takes_too_long(tmp_path: Path) -> None:
    docker = fake_docker(tmp_path, {"nginx:1.25": Image(pull_sleep=30)})
    assert resolve(str(docker), "web", "nginx:1.25", 1, False) == {
        "error": "images.web: cannot pull nginx:1.25: pull failed (timed out after 1 s)"}


def test_resolve_without_a_docker_cli_does_not_blame_the_registry(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-docker")
    error = resolve(missing, "web", "nginx:1.25", 30, False)["error"]
    assert "command not found" in error
    assert "has no tag" not in error


# -- main() ----------------------------------------------------------------------------------------------


def test_main_reports_digests_pinned_references_and_pulls(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    core = CORE + ":v1.4.0"
    mysql = "mysql:8.0.15"
    ami = "agentvoiceresponse/avr-ami@" + D3
    docker = fake_docker(tmp_path, {
        core: Image(after="sha256:%s %s@%s" % ("9" * 64, CORE, D1), pull_out=pulled_output(core, D1)),
        mysql: Image(before="sha256:%s mysql@%s" % ("8" * 64, D2), pull_out=pulled_output(mysql, D2)),
        ami: Image(after="sha256:%s agentvoiceresponse/avr-ami@%s" % ("7" * 64, D3), pull_out="Digest: " + D3),
    })
    code, result = run_module(capsys, images={"avr-core": core, "avr-app-db": mysql, "avr-ami": ami},
                              docker=str(docker))
    assert code == 0 and not result.get("failed"), result
    assert result["digests"] == {"avr-core": D1, "avr-app-db": D2, "avr-ami": D3}
    assert result["references"] == {"avr-core": "%s:v1.4.0@%s" % (CORE, D1), "avr-app-db": "mysql:8.0.15@" + D2,
                                    "avr-ami": "agentvoiceresponse/avr-ami@" + D3}
    assert result["pulled"] == ["avr-ami", "avr-core"]
    assert result["changed"] is True
    assert pulls(docker) == sorted([core, mysql, ami])


def test_main_with_nothing_new_is_unchanged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref = "n8nio/n8n:1.80.0"
    docker = fake_docker(tmp_path, {ref: Image(before="sha256:%s n8nio/n8n@%s" % ("6" * 64, D1),
                                               pull_out=pulled_output(ref, D1))})
    code, result = run_module(capsys, images={"avr-n8n": ref}, docker=str(docker))
    assert code == 0 and result["changed"] is False and result["pulled"] == []
    assert result["references"] == {"avr-n8n": "n8nio/n8n:1.80.0@" + D1}


NGINX_V9_MISSING = "Error response from daemon: manifest for nginx:v9 not found: manifest unknown: manifest unknown"


def test_main_reports_every_failure_together(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = CORE + ":v1.4.0"
    docker = fake_docker(tmp_path, {
        "127.0.0.1:5999/avr/core:v1": Image(pull_rc=1, pull_err=REFUSED),
        "registry.example.org/a/b@" + D1: Image(pull_rc=1, pull_err="Error response from daemon: manifest unknown"),
        "nginx:v9": Image(pull_rc=1, pull_err=NGINX_V9_MISSING),
        good: Image(pull_out=pulled_output(good, D2)),
    })
    images = {"a-unreachable": "127.0.0.1:5999/avr/core:v1", "b-digest": "registry.example.org/a/b@" + D1,
              "c-tag": "nginx:v9", "d-good": good}
    code, result = run_module(capsys, images=images, docker=str(docker))
    assert code == 1 and result["failed"] is True
    errors = result["errors"]
    assert len(errors) == 3
    assert errors[0].startswith("images.a-unreachable: cannot pull 127.0.0.1:5999/avr/core:v1: "
                                "registry 127.0.0.1:5999 is unreachable (")
    assert errors[1].startswith("images.b-digest: cannot pull registry.example.org/a/b@%s: registry.example.org "
                                "has no digest %s for registry.example.org/a/b (" % (D1, D1))
    assert errors[2].startswith("images.c-tag: cannot pull nginx:v9: docker.io has no tag v9 of nginx (")
    assert result["msg"] == "; ".join(errors)
    assert "digests" not in result
    # every reference was tried, the good one too
    assert pulls(docker) == sorted(["127.0.0.1:5999/avr/core:v1", "registry.example.org/a/b@" + D1, "nginx:v9", good])


def test_main_in_check_mode_uses_local_digests_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    core = CORE + ":v1.4.0"
    docker = fake_docker(tmp_path, {core: Image(before="sha256:%s %s@%s" % ("9" * 64, CORE, D1))})
    code, result = run_module(capsys, check_mode=True, docker=str(docker),
                              images={"avr-core": core, "avr-ami": "agentvoiceresponse/avr-ami:v1.4.0",
                                      "avr-asterisk": "agentvoiceresponse/avr-asterisk@" + D2})
    assert code == 0 and result["changed"] is False and result["pulled"] == []
    assert result["digests"] == {"avr-core": D1, "avr-ami": None, "avr-asterisk": D2}
    assert result["references"] == {"avr-core": "%s:v1.4.0@%s" % (CORE, D1), "avr-ami": None,
                                    "avr-asterisk": "agentvoiceresponse/avr-asterisk@" + D2}
    assert pulls(docker) == []


def test_main_with_no_images(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    docker = fake_docker(tmp_path, {})
    code, result = run_module(capsys, images={}, docker=str(docker))
    assert code == 0 and (result["changed"], result["digests"], result["references"], result["pulled"]) == (
        False, {}, {}, [])
    assert calls(docker) == []


@pytest.mark.parametrize("reference, msg", [
    ("nginx latest", "images.web: 'nginx latest' is not an image reference"),
    ("", "images.web: '' is not an image reference"),
    (" nginx", "images.web: ' nginx' is not an image reference"),
    (5, "images.web: 5 is not an image reference"),
    (None, "images.web: None is not an image reference"),
    ("nginx@sha256:abc", "images.web: 'sha256:abc' is not an image digest (sha256: and 64 hex digits)"),
    ("nginx:1.25@" + D1.upper(), "images.web: %r is not an image digest (sha256: and 64 hex digits)" % D1.upper()),
])
def test_main_refuses_a_bad_reference_before_running_docker(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                            reference: Any, msg: str) -> None:
    docker = fake_docker(tmp_path, {})
    code, result = run_module(capsys, images={"web": reference}, docker=str(docker))
    assert code == 1 and result["msg"] == msg
    assert calls(docker) == []


@pytest.mark.parametrize("repository, repo_digests, digest", [
    ("docker.io/library/mysql", ["mysql@" + D1], D1),
    ("mysql", ["docker.io/library/mysql@" + D1], D1),
    ("docker.io/n8nio/n8n", ["n8nio/n8n@" + D1, "localhost:5000/n8nio/n8n@" + D2], D1),
    ("localhost:5000/n8nio/n8n", ["n8nio/n8n@" + D1, "localhost:5000/n8nio/n8n@" + D2], D2),
    ("localhost:5000/a/b", ["localhost:5000/a/bc@" + D1], None),
    ("a/b", [], None),
])
def test_recorded_digest_matches_docker_hub_names_as_docker_keeps_them(
        repository: str, repo_digests: List[str], digest: Optional[str]) -> None:
    assert recorded_digest(repository, repo_digests) == digest
