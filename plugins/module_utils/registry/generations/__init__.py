# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Registry generations: the built-in registry data, one complete, frozen value per AVR release line.

A generation is data only: its images, providers, templates, the base its core-based stacks start
from (``StackBase``: base images, stack defaults, network), the core's wiring and the tag policies
its images follow. Rendering code reads a ``Registry`` built from one generation and never asks
which generation it is.

A released generation is never edited: recorded releases and registry digests depend on its bytes.
A correction becomes a new generation (or a catalog entry).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Tuple

from ..model import Image, Provider, Role, Template, Wiring
from ..stacks import StackBase
from ..tags import TagPolicy


@dataclass(frozen=True)
class Generation:
    """One generation of the built-in registry."""

    id: str
    description: str
    #: folder under ``shared/reference`` holding the AVR compose examples its templates reproduce
    reference: str
    images: Tuple[Image, ...]
    providers: Mapping[str, Provider]
    #: role -> provider name -> image serving it
    role_providers: Mapping[Role, Mapping[str, Image]]
    templates: Tuple[Template, ...]
    base: StackBase
    wiring: Mapping[Role, Wiring]
    tag_policies: Mapping[str, TagPolicy]


def _all() -> Tuple[Generation, ...]:
    from .g2025_09 import GENERATION as G2025_09
    from .g2026_06 import GENERATION as G2026_06
    return (G2025_09, G2026_06)


_GENERATIONS: Tuple[Generation, ...] = ()


def generations() -> Mapping[str, Generation]:
    """Every built-in generation by id, oldest first."""
    global _GENERATIONS
    if not _GENERATIONS:
        _GENERATIONS = _all()
    return {gen.id: gen for gen in _GENERATIONS}


def newest() -> str:
    """The id of the newest generation: what a new deployment gets."""
    return list(generations())[-1]


#: The generation of every deployment rendered before generations existed (collection 0.4.0 and older).
FIRST = "2025.09"
