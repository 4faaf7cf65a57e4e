"""module_utils/registry/tags.py: image references, tags, digests and tag policies."""

from __future__ import annotations

from typing import Optional

import pytest

from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import RegistryError
from ansible_collections.voiceops.avr.plugins.module_utils.registry.tags import (
    ANY, AVR, DEFAULT_POLICY, DEV_BUILD, ENVIRONMENTS, LATEST, POLICIES, RELEASE, UPSTREAM, UPSTREAM_VERSION,
    ImageReference, TagPolicy, check_digest, check_tag, parse_reference,
)

DIGEST = "sha256:" + "0123456789abcdef" * 4
OTHER_DIGEST = "sha256:" + "f" * 64


# -- parse_reference -----------------------------------------------------------------------------


@pytest.mark.parametrize("text, repository, tag, digest", [
    ("nginx", "nginx", None, None),
    ("nginx:1.25", "nginx", "1.25", None),
    ("agentvoiceresponse/avr-core", "agentvoiceresponse/avr-core", None, None),
    ("agentvoiceresponse/avr-core:v1.4.0", "agentvoiceresponse/avr-core", "v1.4.0", None),
    ("mysql:8.0.15", "mysql", "8.0.15", None),
    ("n8nio/n8n:latest", "n8nio/n8n", "latest", None),
    ("localhost:5000/x/y:v1", "localhost:5000/x/y", "v1", None),
    ("localhost:5000/x/y", "localhost:5000/x/y", None, None),
    ("registry.example.org/agentvoiceresponse/avr-core:dev-20261122093000",
     "registry.example.org/agentvoiceresponse/avr-core", "dev-20261122093000", None),
    ("registry.example.org:443/a/b:v1.0.0@" + DIGEST, "registry.example.org:443/a/b", "v1.0.0", DIGEST),
    ("nginx@" + DIGEST, "nginx", None, DIGEST),
    ("localhost:5000/x@" + DIGEST, "localhost:5000/x", None, DIGEST),
    ("a/b-c_d.e/f_g:Tag_1.x-y", "a/b-c_d.e/f_g", "Tag_1.x-y", None),
    ("registry.example.org/a/b", "registry.example.org/a/b", None, None),
])
def test_parse_reference_splits_repository_tag_and_digest(text: str, repository: str, tag: Optional[str],
                                                          digest: Optional[str]) -> None:
    ref = parse_reference(text, "images.x")
    assert (ref.repository, ref.tag, ref.digest) == (repository, tag, digest)
    assert str(ref) == text


def test_a_registry_port_is_not_a_tag() -> None:
    ref = parse_reference("localhost:5000/agentvoiceresponse/avr-core", "image")
    assert ref.tag is None and ref.effective_tag == "latest"
    assert ref.repository == "localhost:5000/agentvoiceresponse/avr-core"


def test_effective_tag_and_text_of_a_reference() -> None:
    assert ImageReference("nginx").effective_tag == "latest"
    assert ImageReference("nginx", "1.25").effective_tag == "1.25"
    assert str(ImageReference("nginx", None, DIGEST)) == "nginx@" + DIGEST
    assert str(ImageReference("nginx", "1.25", DIGEST)) == "nginx:1.25@" + DIGEST


@pytest.mark.parametrize("text", [
    "", "Nginx", "nginx/", "/nginx", "a//b", "a/-b", "a/b-", " nginx", "my image", "a/b$c", "a/B",
    "registry.example.org/Upper/x",
])
def test_parse_reference_refuses_what_is_not_a_reference(text: str) -> None:
    with pytest.raises(RegistryError) as err:
        parse_reference(text, "images.avr-core")
    assert str(err.value) == ("images.avr-core: %r is not an image reference (repository[:tag][@sha256:digest])"
                              % text)


@pytest.mark.parametrize("text", ["UPPER/case", "-a/b", "a..b/c"])
def test_parse_reference_refuses_a_first_component_that_is_neither_host_nor_path(text: str) -> None:
    with pytest.raises(RegistryError):
        parse_reference(text, "images.avr-core")


@pytest.mark.parametrize("text, bad", [
    ("nginx:", "''"),
    ("nginx:-x", "'-x'"),
    ("nginx:.x", "'.x'"),
    ("nginx:a+b", "'a+b'"),
    ("nginx:" + "a" * 129, "'" + "a" * 129 + "'"),
])
def test_parse_reference_refuses_a_bad_tag_naming_it(text: str, bad: str) -> None:
    with pytest.raises(RegistryError, match="not a valid image tag") as err:
        parse_reference(text, "images.avr-core")
    assert str(err.value).startswith("images.avr-core: %s is not" % bad)


@pytest.mark.parametrize("digest", [
    "sha256:abc", "sha256:" + "A" * 64, "sha512:" + "0" * 64, "sha256:" + "0" * 63, "sha256:" + "0" * 65,
    "sha256:" + "g" * 64, "0" * 64,
])
def test_parse_reference_refuses_a_bad_digest_naming_it(digest: str) -> None:
    with pytest.raises(RegistryError, match="not an image digest") as err:
        parse_reference("nginx:1.25@" + digest, "digests.avr-core")
    assert str(err.value).startswith("digests.avr-core: %r is not an image digest" % digest)


def test_parse_reference_refuses_an_empty_digest() -> None:
    with pytest.raises(RegistryError):
        parse_reference("nginx@", "image")


@pytest.mark.parametrize("text", ["nginx:1.0\n", "nginx\n", "nginx@%s\n" % DIGEST])
def test_parse_reference_refuses_a_trailing_newline(text: str) -> None:
    with pytest.raises(RegistryError):
        parse_reference(text, "image")


# -- check_tag / check_digest ----------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["latest", "v1.4.0", "8.0.15", "dev-20261122093000", "_x", "1", "a" * 128,
                                 "1.2-alpine", "Release_2"])
def test_check_tag_returns_a_valid_tag(tag: str) -> None:
    assert check_tag(tag, "tag") == tag


@pytest.mark.parametrize("tag", ["", "-v1", ".v1", "v1/2", "v1:2", "v 1", "a" * 129, "v1@x", "ü"])
def test_check_tag_refuses_naming_field_and_value(tag: str) -> None:
    with pytest.raises(RegistryError) as err:
        check_tag(tag, "tags.avr-core")
    msg = str(err.value)
    assert msg.startswith("tags.avr-core: %r is not a valid image tag" % tag)
    assert "at most 128" in msg


@pytest.mark.parametrize("value", [None, 1, 1.0, ["v1"], {"v": 1}])
def test_check_tag_refuses_a_non_string(value: object) -> None:
    with pytest.raises(RegistryError, match=r"^tag: .* is not a valid image tag"):
        check_tag(value, "tag")  # type: ignore[arg-type]


def test_check_tag_refuses_a_trailing_newline() -> None:
    with pytest.raises(RegistryError):
        check_tag("v1.2.3\n", "tag")


def test_check_digest_returns_a_valid_digest() -> None:
    assert check_digest(DIGEST, "digests.x") == DIGEST


@pytest.mark.parametrize("value", ["", "sha256:", "sha256:" + "0" * 63, "SHA256:" + "0" * 64,
                                   "sha256:" + "0" * 64 + " ", None, 7])
def test_check_digest_refuses_naming_field_and_value(value: object) -> None:
    with pytest.raises(RegistryError) as err:
        check_digest(value, "digests.avr-core")  # type: ignore[arg-type]
    msg = str(err.value)
    assert msg.startswith("digests.avr-core: %r is not an image digest" % (value,))
    assert "64 lower-case hex digits" in msg


def test_check_digest_refuses_a_trailing_newline() -> None:
    with pytest.raises(RegistryError):
        check_digest(DIGEST + "\n", "digests.x")


# -- tag patterns ---------------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["dev-20261122093000", "dev-20240229000000", "dev-20261231235959",
                                 "dev-19991231000000"])
def test_dev_build_accepts_a_real_date_and_time(tag: str) -> None:
    assert DEV_BUILD.matches(tag)


@pytest.mark.parametrize("tag", [
    "dev-20261322000000",   # month 13
    "dev-20261100093000",   # day 0
    "dev-20260230120000",   # 30 February
    "dev-20250229120000",   # 29 February of a common year
    "dev-20261122240000",   # hour 24
    "dev-20261122096000",   # minute 60
    "dev-20261122093060",   # second 60
    "dev-2026112209300",    # 13 digits
    "dev-202611220930000",  # 15 digits
    "dev-2026-11-22",
    "dev20261122093000",
    "DEV-20261122093000",
    "dev-20261122093000-1",
    "x-dev-20261122093000",
])
def test_dev_build_refuses_what_is_not_a_build_timestamp(tag: str) -> None:
    assert not DEV_BUILD.matches(tag)


@pytest.mark.parametrize("tag, ok", [
    ("v1.4.0", True), ("v0.0.0", True), ("v10.20.30", True), ("v1.0.10", True),
    ("v01.2.3", False), ("v1.02.3", False), ("v1.2.03", False), ("v1.2", False), ("v1", False),
    ("1.2.3", False), ("V1.2.3", False), ("v1.2.3-rc1", False), ("v1.2.3.4", False), ("v1.2.3+b1", False),
    ("vx.y.z", False), ("latest", False),
])
def test_release_tags_are_semver_with_a_leading_v(tag: str, ok: bool) -> None:
    assert RELEASE.matches(tag) is ok


@pytest.mark.parametrize("tag, ok", [
    ("8.0", True), ("8.0.15", True), ("v8.0.15", True), ("v1.2", True), ("1.80.0", True), ("0.1", True),
    ("8", False), ("8.0.15.1", False), ("08.0", False), ("8.00", False), ("8.0-alpine", False),
    ("latest", False), ("V8.0", False), ("8.0.15-debian", False),
])
def test_upstream_versions_are_two_or_three_numbers(tag: str, ok: bool) -> None:
    assert UPSTREAM_VERSION.matches(tag) is ok


def test_latest_and_any_patterns() -> None:
    assert LATEST.matches("latest") and not LATEST.matches("latest2") and not LATEST.matches("Latest")
    for tag in ("latest", "1.2-alpine", "dev-x", "_"):
        assert ANY.matches(tag)
    assert not ANY.matches("-x") and not ANY.matches("")


def test_every_pattern_example_matches_its_pattern() -> None:
    for pattern in (DEV_BUILD, RELEASE, UPSTREAM_VERSION, LATEST, ANY):
        assert pattern.matches(pattern.example), pattern.name


def test_patterns_refuse_a_trailing_newline() -> None:
    assert not RELEASE.matches("v1.2.3\n")
    assert not DEV_BUILD.matches("dev-20261122093000\n")


# -- policies -------------------------------------------------------------------------------------


def test_policies_cover_every_environment() -> None:
    assert set(POLICIES) == {"avr", "upstream"} and DEFAULT_POLICY == "avr"
    for policy in POLICIES.values():
        assert tuple(pair[0] for pair in policy.environments) == ENVIRONMENTS
        assert policy.description


def test_an_unknown_environment_is_refused() -> None:
    with pytest.raises(RegistryError) as err:
        AVR.check(ImageReference("a/b", "v1.0.0"), "staging", "images.b")
    assert str(err.value) == "tag_environment: 'staging' is not an environment; choose from: dev, prod"


AVR_CASES = [
    # tag, dev, prod
    ("dev-20261122093000", True, False),
    ("v1.4.0", True, True),
    ("latest", True, False),
    (None, True, False),
    ("v01.2.3", False, False),
    ("v1.2", False, False),
    ("1.4.0", False, False),
    ("dev-20261322000000", False, False),
    ("stable", False, False),
]


@pytest.mark.parametrize("tag, dev, prod", AVR_CASES)
def test_avr_policy(tag: Optional[str], dev: bool, prod: bool) -> None:
    ref = ImageReference("agentvoiceresponse/avr-core", tag)
    for environment, allowed in (("dev", dev), ("prod", prod)):
        if allowed:
            AVR.check(ref, environment, "images.avr-core")
        else:
            with pytest.raises(RegistryError, match="breaks tag policy 'avr' for environment %r" % environment):
                AVR.check(ref, environment, "images.avr-core")


UPSTREAM_CASES = [
    ("8.0.15", True, True),
    ("8.0", True, True),
    ("v8.0.15", True, True),
    ("latest", True, False),
    (None, True, False),
    ("8.0-alpine", True, False),
    ("8", True, False),
    ("dev-20261122093000", True, False),
]


@pytest.mark.parametrize("tag, dev, prod", UPSTREAM_CASES)
def test_upstream_policy(tag: Optional[str], dev: bool, prod: bool) -> None:
    ref = ImageReference("mysql", tag)
    for environment, allowed in (("dev", dev), ("prod", prod)):
        if allowed:
            UPSTREAM.check(ref, environment, "images.avr-app-db")
        else:
            with pytest.raises(RegistryError, match="breaks tag policy 'upstream'"):
                UPSTREAM.check(ref, environment, "images.avr-app-db")


def test_latest_in_prod_names_field_value_kinds_and_example() -> None:
    with pytest.raises(RegistryError) as err:
        AVR.check(ImageReference("agentvoiceresponse/avr-core", "latest"), "prod", "tags.avr-core", "core/avr-core")
    assert str(err.value) == ("tags.avr-core: tag 'latest' breaks tag policy 'avr' for environment 'prod': "
                              "allowed are release vX.Y.Z (e.g. v1.4.0), or pin a digest; or give image "
                              "'core/avr-core' another tag_policy in a catalog")


def test_an_untagged_reference_counts_as_latest_and_says_so() -> None:
    with pytest.raises(RegistryError) as err:
        AVR.check(ImageReference("agentvoiceresponse/avr-core"), "prod", "images.avr-core")
    msg = str(err.value)
    assert msg.startswith("images.avr-core: tag 'latest' (no tag means latest) breaks tag policy 'avr'")
    with pytest.raises(RegistryError, match=r"\(no tag means latest\)"):
        UPSTREAM.check(ImageReference("mysql"), "prod", "images.avr-app-db")


def test_a_dev_refusal_lists_every_allowed_kind_with_an_example() -> None:
    with pytest.raises(RegistryError) as err:
        AVR.check(ImageReference("agentvoiceresponse/avr-core", "v1.2"), "dev", "tag (for avr-core)")
    msg = str(err.value)
    assert msg.startswith("tag (for avr-core): tag 'v1.2' breaks tag policy 'avr' for environment 'dev'")
    assert "(no tag means latest)" not in msg
    for kind in ("dev build (e.g. dev-20261122093000)", "release vX.Y.Z (e.g. v1.4.0)", "latest (e.g. latest)"):
        assert kind in msg
    assert msg.endswith("or pin a digest; or give the image another tag_policy in a catalog")


def test_an_upstream_prod_refusal_names_the_version_kind() -> None:
    with pytest.raises(RegistryError) as err:
        UPSTREAM.check(ImageReference("n8nio/n8n", "latest"), "prod", "images.avr-n8n")
    assert "allowed are version X.Y[.Z] (e.g. 8.0.15), or pin a digest" in str(err.value)
    assert str(err.value).startswith("images.avr-n8n: tag 'latest' breaks tag policy 'upstream' for "
                                     "environment 'prod'")


@pytest.mark.parametrize("policy", [AVR, UPSTREAM])
@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_a_digest_only_reference_passes_everywhere(policy: TagPolicy, environment: str) -> None:
    policy.check(ImageReference("agentvoiceresponse/avr-core", None, DIGEST), environment, "digests.avr-core")


@pytest.mark.parametrize("policy, tag", [(AVR, "latest"), (AVR, "dev-20261122093000"), (UPSTREAM, "latest"),
                                         (UPSTREAM, "8.0-alpine")])
def test_a_tag_next_to_a_digest_still_follows_the_policy(policy: TagPolicy, tag: str) -> None:
    ref = ImageReference("some/image", tag, DIGEST)
    policy.check(ref, "dev", "images.x")
    with pytest.raises(RegistryError) as err:
        policy.check(ref, "prod", "images.x")
    assert "tag %r breaks tag policy %r for environment 'prod'" % (tag, policy.name) in str(err.value)


def test_a_release_tag_next_to_a_digest_passes_prod() -> None:
    AVR.check(ImageReference("agentvoiceresponse/avr-core", "v1.4.0", OTHER_DIGEST), "prod", "images.avr-core")
    UPSTREAM.check(ImageReference("mysql", "8.0.15", OTHER_DIGEST), "prod", "images.avr-app-db")


def test_patterns_of_each_environment() -> None:
    assert AVR.patterns("dev") == (DEV_BUILD, RELEASE, LATEST)
    assert AVR.patterns("prod") == (RELEASE,)
    assert UPSTREAM.patterns("dev") == (ANY,)
    assert UPSTREAM.patterns("prod") == (UPSTREAM_VERSION,)
