# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which image reference each service of a deployment runs.

Precedence per service: ``tags[service]`` (a pinned digest of the image then no
longer applies) -> ``tag`` (for images whose registry entry names no tag of its
own) -> the image's ``pinned_tag``/``pinned_digest`` or the tag in its reference;
``digests[service]`` pins a digest on top. Every result is checked against the
image's tag policy for the deployment's environment.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import RegistryError
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import default_reference, suggest
from ansible_collections.voiceops.avr.plugins.module_utils.registry.tags import (
    ENVIRONMENTS, REPOSITORY_RE, ImageReference, TagPolicy, check_digest, check_tag, parse_reference,
)


def _by_service(value: Any, field: str, services: Mapping[str, Any]) -> Dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise RegistryError("%s: expected a mapping of service name to value, got %s" % (field, type(value).__name__))
    for name in value:
        if name not in services:
            raise RegistryError("%s.%s: the stack has no service %r%s"
                                % (field, name, name, suggest(str(name), services)))
    return {str(k): v for k, v in value.items()}


def image_references(images: Any, image_prefix: str = "", tag: Optional[str] = None, tags: Any = None,
                     digests: Any = None, environment: str = "dev", *,
                     policies: Mapping[str, TagPolicy]) -> Dict[str, ImageReference]:
    """Service name -> the reference it runs, for ``images`` (a plan's); errors name field and value.

    ``policies`` are the tag policies of the registry the images come from (``Registry.tag_policies``:
    each generation has its own)."""
    if environment not in ENVIRONMENTS:
        raise RegistryError("tag_environment: %r is not an environment; choose from: %s"
                            % (environment, ", ".join(ENVIRONMENTS)))
    services = {img.service_name: img for img in images}
    tags = _by_service(tags, "tags", services)
    digests = _by_service(digests, "digests", services)
    if tag:
        check_tag(tag, "tag")
    result: Dict[str, ImageReference] = {}
    for service, img in services.items():
        base = default_reference(img)
        own_tag = parse_reference(img.image, "image").tag
        where = "images.%s" % service
        if service in tags:
            ref = ImageReference(base.repository, check_tag(tags[service], "tags.%s" % service))
            where = "tags.%s" % service
        elif tag and own_tag is None and img.pinned_tag is None:
            ref = ImageReference(base.repository, tag)
            where = "tag (for %s)" % service
        else:
            ref = base
        if service in digests:
            ref = ImageReference(ref.repository, ref.tag, check_digest(digests[service], "digests.%s" % service))
        if image_prefix:
            repository = image_prefix + ref.repository
            if not REPOSITORY_RE.fullmatch(repository):
                raise RegistryError("image_prefix: %r does not make %r a valid repository"
                                    % (image_prefix, ref.repository))
            ref = ImageReference(repository, ref.tag, ref.digest)
        policies[img.tag_policy].check(ref, environment, where, img.key)
        result[service] = ref
    return result
