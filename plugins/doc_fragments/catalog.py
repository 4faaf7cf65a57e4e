# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The catalog option of the filters that read the registry.
    DOCUMENTATION = r"""
options:
  catalog:
    description:
      - Catalog mapping that adds or replaces images, providers and templates of the built-in
        registry (the same format as the C(catalog) option of M(voiceops.avr.voice_compose)).
      - An error names the entry by its place in its list and then the field, in one form for every
        check (C(catalog.images[3].env[1].provider), C(catalog.templates[0].overrides.avr-core.env.LLM_URL)).
      - An image replaces the built-in image of the same role and name everywhere. C(companions) name
        images by key (C(role/name)) in any order within the catalog; a cycle of companions is refused.
      - C(provider) makes an image serve that provider for its role. A provider no C(providers) entry
        defines is created; it takes a key when a catalog image has a secret variable with that provider,
        and none otherwise. A secret variable whose provider takes no key (or gives a credential file) is refused.
      - Role C(service) is a supporting service outside the core's wiring (a reverse proxy, a browser phone,
        a web UI). Like C(app), C(database) and C(workflow) it goes in a template's C(extras); a template's
        C(images) takes the slots C(core), C(asterisk), C(ami), C(asr), C(tts), C(llm) and C(sts) only.
      - C(labels) (an image) and C(add_labels) (a template override) are compose labels C(KEY=VALUE), one line,
        without C($), each key once; a template's labels come after the image's and may not repeat one of its keys.
      - "C(resources) (an image) sets its service's CPU and memory: C(cpus) and C(memory) limits, C(reserve_cpus) and
        C(reserve_memory) reservations, as Docker writes them (C(cpus: \"0.5\"), C(memory: 512M)); a reservation may
        not exceed its limit. The Swarm stack file (O(voiceops.avr.voice_compose#module:engine=swarm)) puts them under
        C(deploy.resources); the compose file does not use them."
      - C(extend_env) (a template override) adds variables to the image's schema for that template only, under
        the rules of an image's C(env); a name the image already has is refused (set its value in C(env)).
      - A template override may not set a variable of the core's wiring (C(ASR_URL), C(LLM_URL), C(TTS_URL),
        C(STS_URL)) for a slot the stack fills; the stack sets it from the slot's image, so such a value is refused.
      - "Values may name another service of the stack as C({{service:NAME}}) in env values only:
        C(env[].default), C(extend_env[].default) and C(overrides.<service>.env). Other fields (C(labels),
        C(add_labels), C(command), C(healthcheck.test)) refuse such a token."
      - "A value may derive from another variable of the same service as C({{var:NAME}}) in the same env values, and
        in C(environment.json) and task C(env) values: at render time it is replaced by the final value of NAME,
        after every layer (registry default, template value, C(environment.json), task C(env)). With default
        C({{var:DEPARTMENT_ID}}_tenant), C(DB_SCHEMA) follows C(DEPARTMENT_ID); a value given for C(DB_SCHEMA)
        itself wins. A derived value may name another derived one and hold C({{service:...}}) tokens too."
      - "NAME must be a variable of the service (C(extend_env) included) and not a secret (that would copy a secret
        into a variable that is printed and stored); values that derive from each other in a cycle are refused,
        naming the cycle. When NAME has no value, the derived variable has none (a required one is reported
        missing). The fields that refuse C({{service:...}}) refuse C({{var:...}})."
      - "C(format: json) on a variable (C(env[]) or C(extend_env[])): each value it gets, after its tokens are
        resolved, must be JSON text (it is emitted as written, not re-serialized); a secret one is checked without
        being quoted."
      - "In an inline catalog mapping in a playbook, write every string that holds C({{) with C(!unsafe)
        (these tokens, or any other text with braces), so that Ansible does not template it (it would read C({{)
        as Jinja); a catalog file that M(voiceops.avr.voice_compose) reads by path is data and needs no tag. The
        same holds for a C({{var:...}}) value in a task's C(env) or in M(voiceops.avr.voice_env)'s C(set)."
    type: dict
"""
