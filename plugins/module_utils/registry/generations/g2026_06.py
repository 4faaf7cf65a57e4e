# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Generation 2026.06 (placeholder while its data is written)."""

from __future__ import annotations

from dataclasses import replace

from .g2025_09 import GENERATION as G2025_09

GENERATION = replace(G2025_09, id="2026.06", reference="avr-infra-2026.06",
                     description="AVR compose examples of 2026-06 (upstream avr-infra 93f608e).")
