# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a generation composes its templates: the base every core-based stack starts from.

A ``StackBase`` holds a generation's core, Asterisk and AMI images, what every stack of a kind
starts from (``defaults``) and the network; its ``modular``, ``sts`` and ``plain`` build templates
on it. Stack defaults are merged under a template's own overrides once, here, so a template holds
its complete overrides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Mapping, Optional, Tuple, Union

from .model import (
    AmiImage, AsrImage, AsteriskImage, CoreImage, Image, LlmImage, Network, ServiceOverride, StackKind, StsImage,
    Template, TtsImage,
)

Overrides = Tuple[Tuple[str, ServiceOverride], ...]


class _Base:
    """Marks an argument left to the stack base (the base's AMI image)."""


BASE = _Base()


def merge_overrides(base: Overrides, top: Overrides) -> Overrides:
    """Overrides of ``top`` on top of ``base``: env merged by name, other fields replaced or appended."""
    merged: Dict[str, ServiceOverride] = dict(base)
    for service, ovr in top:
        old = merged.get(service)
        if old is None:
            merged[service] = ovr
            continue
        env = dict(old.env)
        env.update(ovr.env)
        merged[service] = ServiceOverride(
            env=tuple(env.items()),
            ports=ovr.ports if ovr.ports is not None else old.ports,
            add_volumes=old.add_volumes + ovr.add_volumes,
            unset=tuple(dict.fromkeys(old.unset + ovr.unset)),
            extend_env=old.extend_env + ovr.extend_env,
            add_labels=old.add_labels + ovr.add_labels,
        )
    return tuple(merged.items())


@dataclass(frozen=True)
class StackBase:
    """The images and defaults a generation's core-based templates start from."""

    core: CoreImage
    asterisk: AsteriskImage
    ami: AmiImage
    #: what every stack of a kind starts from; a template's own overrides come on top
    defaults: Mapping[StackKind, Overrides]
    network: Network = field(default_factory=Network)

    @property
    def images(self) -> Mapping[str, str]:
        """Image keys per base role, as a registry records them."""
        return {"core": self.core.key, "asterisk": self.asterisk.key, "ami": self.ami.key}

    def _ami(self, ami: Union[AmiImage, None, _Base]) -> Optional[AmiImage]:
        return self.ami if isinstance(ami, _Base) else ami

    def modular(self, id: str, description: str, asr: AsrImage, llm: LlmImage, tts: TtsImage,
                overrides: Overrides = (), example: Optional[str] = None,
                ami: Union[AmiImage, None, _Base] = BASE, extras: Tuple[Image, ...] = ()) -> Template:
        return Template(id=id, description=description, stack="modular", core=self.core, asterisk=self.asterisk,
                        ami=self._ami(ami), asr=asr, llm=llm, tts=tts, extras=extras, network=self.network,
                        overrides=merge_overrides(self.defaults["modular"], overrides), example=example)

    def sts(self, id: str, description: str, sts: StsImage, overrides: Overrides = (),
            example: Optional[str] = None, ami: Union[AmiImage, None, _Base] = BASE,
            extras: Tuple[Image, ...] = ()) -> Template:
        return Template(id=id, description=description, stack="sts", core=self.core, asterisk=self.asterisk,
                        ami=self._ami(ami), sts=sts, extras=extras, network=self.network,
                        overrides=merge_overrides(self.defaults["sts"], overrides), example=example)

    def plain(self, id: str, description: str, extras: Tuple[Image, ...], overrides: Overrides = (),
              example: Optional[str] = None, ami: Union[AmiImage, None, _Base] = BASE,
              asterisk: Optional[AsteriskImage] = None) -> Template:
        return Template(id=id, description=description, stack="plain", asterisk=asterisk or self.asterisk,
                        ami=self._ami(ami), extras=extras, network=self.network,
                        overrides=merge_overrides(self.defaults["plain"], overrides), example=example)
