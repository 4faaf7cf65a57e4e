# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Image references and tag policies.

An image reference is ``[registry/]repository[:tag][@sha256:digest]``. A tag policy
says, per environment (``dev``, ``prod``), which tags an image may run with: AVR
images use ``dev-YYYYMMDDHHmmss`` build tags in dev and SemVer ``vX.Y.Z`` release
tags in prod; third-party images (MySQL, n8n) use their upstream version numbers.
A digest pin is immutable, so any environment accepts an image pinned by digest
alone; a tag written next to a digest must still follow the policy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Mapping, Optional, Tuple

from .model import RegistryError

#: The environments a deployment can declare; each tag policy lists its tags for every one.
ENVIRONMENTS: Tuple[str, ...] = ("dev", "prod")

DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
#: Docker's tag grammar.
TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
#: A repository path (optionally with a registry host[:port]), without tag or digest.
_PATH_PART = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
#: A registry host: a dotted name, localhost, or anything with a port (Docker's rule for the first part).
_HOST = r"(?:%s(?:\.%s)+(?::[0-9]+)?|localhost(?::[0-9]+)?|%s:[0-9]+)" % (_LABEL, _LABEL, _LABEL)
REPOSITORY_RE = re.compile(r"^(?:%s/)?%s(?:/%s)*$" % (_HOST, _PATH_PART, _PATH_PART))


@dataclass(frozen=True)
class ImageReference:
    """A parsed image reference; ``tag`` None means the registry's ``latest``."""

    repository: str
    tag: Optional[str] = None
    digest: Optional[str] = None

    def __str__(self) -> str:
        text = self.repository
        if self.tag:
            text += ":" + self.tag
        if self.digest:
            text += "@" + self.digest
        return text

    @property
    def effective_tag(self) -> str:
        return self.tag or "latest"


def parse_reference(text: str, where: str) -> ImageReference:
    """Split ``text`` into repository, tag and digest; RegistryError names ``where``."""
    rest, at, digest = text.partition("@")
    if at and not digest:
        raise RegistryError("%s: %r ends with '@' but names no digest" % (where, text))
    tag: Optional[str] = None
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1:]
    if not REPOSITORY_RE.fullmatch(rest):
        raise RegistryError("%s: %r is not an image reference (repository[:tag][@sha256:digest])" % (where, text))
    if tag is not None:
        check_tag(tag, where)
    if digest:
        check_digest(digest, where)
    return ImageReference(rest, tag, digest or None)


def check_tag(tag: str, where: str) -> str:
    if not isinstance(tag, str) or not TAG_RE.fullmatch(tag):
        raise RegistryError("%s: %r is not a valid image tag (letters, digits, '_', '.', '-'; at most 128)"
                            % (where, tag))
    return tag


def check_digest(digest: str, where: str) -> str:
    if not isinstance(digest, str) or not DIGEST_RE.fullmatch(digest):
        raise RegistryError("%s: %r is not an image digest (sha256: and 64 lower-case hex digits)"
                            % (where, digest))
    return digest


@dataclass(frozen=True)
class TagPattern:
    """One kind of tag, e.g. SemVer release tags; ``timestamp`` is a strptime format to check."""

    name: str
    regex: str
    example: str
    timestamp: Optional[str] = None

    def matches(self, tag: str) -> bool:
        match = re.fullmatch(self.regex, tag)
        if match is None:
            return False
        if self.timestamp:
            try:
                datetime.strptime(match.group(1), self.timestamp)
            except ValueError:
                return False
        return True


DEV_BUILD = TagPattern("dev build", r"^dev-([0-9]{14})$", "dev-20261122093000", timestamp="%Y%m%d%H%M%S")
RELEASE = TagPattern("release vX.Y.Z", r"^v(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)$", "v1.4.0")
#: A release tag without the leading v (AVR images since 2026, e.g. avr-sts-gemini:1.5.0); used by the
#: tag policies of generation 2026.06 on, never by 2025.09's ``POLICIES``.
BARE_RELEASE = TagPattern("release X.Y.Z", r"^(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)$", "1.5.0")
UPSTREAM_VERSION = TagPattern("version X.Y[.Z]", r"^v?(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*)){1,2}$", "8.0.15")
LATEST = TagPattern("latest", r"^latest$", "latest")
ANY = TagPattern("any tag", TAG_RE.pattern, "1.2-alpine")


@dataclass(frozen=True)
class TagPolicy:
    """Which tags an image may run with in each environment."""

    name: str
    description: str
    environments: Tuple[Tuple[str, Tuple[TagPattern, ...]], ...]

    def patterns(self, environment: str) -> Tuple[TagPattern, ...]:
        for name, patterns in self.environments:
            if name == environment:
                return patterns
        raise RegistryError("tag_environment: %r is not an environment; choose from: %s"
                            % (environment, ", ".join(ENVIRONMENTS)))

    def check(self, ref: ImageReference, environment: str, where: str, image: Optional[str] = None) -> None:
        """Refuse ``ref`` when its tag breaks the policy in ``environment`` (a bare digest passes).

        ``image`` (the image's key) is named in the message: any image, built-in or not, follows the
        tag policy its catalog entry sets (a catalog entry with its role and name replaces a built-in one).
        """
        patterns = self.patterns(environment)
        if ref.digest and ref.tag is None:
            return
        tag = ref.effective_tag
        if any(pattern.matches(tag) for pattern in patterns):
            return
        allowed = ", ".join("%s (e.g. %s)" % (p.name, p.example) for p in patterns)
        implicit = " (no tag means latest)" if ref.tag is None else ""
        other = ("; or give image %r another tag_policy in a catalog" % image if image
                 else "; or give the image another tag_policy in a catalog")
        raise RegistryError("%s: tag %r%s breaks tag policy %r for environment %r: allowed are %s, "
                            "or pin a digest%s" % (where, tag, implicit, self.name, environment, allowed, other))


AVR = TagPolicy(
    name="avr",
    description="AVR images: dev-YYYYMMDDHHmmss builds, vX.Y.Z releases and latest in dev; "
                "only vX.Y.Z releases in prod.",
    environments=(("dev", (DEV_BUILD, RELEASE, LATEST)), ("prod", (RELEASE,))),
)
UPSTREAM = TagPolicy(
    name="upstream",
    description="Third-party images: any tag in dev; an upstream version number (X.Y or X.Y.Z, "
                "optionally with a leading v) in prod.",
    environments=(("dev", (ANY,)), ("prod", (UPSTREAM_VERSION,))),
)

POLICIES: Mapping[str, TagPolicy] = {policy.name: policy for policy in (AVR, UPSTREAM)}
DEFAULT_POLICY = AVR.name
