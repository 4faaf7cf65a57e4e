# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  project_dir:
    description:
      - Directory of the deployment on the target. Holds the compose file, C(environment.json)
        and any credential file. Created when missing.
    type: path
    required: true
  template:
    description:
      - Id of a registry template, for example V(openai), V(anthropic), V(google), V(vosk),
        V(openai-realtime), V(ultravox), V(gemini-sts), V(deepgram-sts), V(elevenlabs-sts), V(n8n), V(app).
      - Use the P(voiceops.avr.template_info#filter) filter to list them.
      - Mutually exclusive with O(stack) and O(providers).
    type: str
  stack:
    description:
      - Build the stack from providers instead of a template. V(modular) takes O(providers)
        for C(asr), C(llm) and C(tts); V(sts) takes a provider for C(sts).
    type: str
    choices: [modular, sts]
  providers:
    description:
      - "Provider per role for O(stack), for example C({asr: deepgram, llm: openai, tts: deepgram})
        or C({sts: ultravox})."
    type: dict
  catalog:
    description:
      - Images, providers and templates added to or replacing the built-in registry, as a mapping
        or the path of a YAML/JSON file on the controller (relative paths from the playbook directory).
      - Validated with pydantic; an invalid catalog fails the task with the field path and the reason.
      - The keys are C(images) (role, name, image, env, port, ws_port, ports, volumes, provider...),
        C(providers) (name, env or file) and C(templates) (id, stack, images by role, extras, overrides).
      - An image, template or provider defined twice in one catalog is refused, and so is a key given twice in
        one mapping of a catalog file.
      - A volume of an image (or an override's C(add_volumes)) mounts a path of the project directory
        (C(./...)) or a named volume; a host path outside the project (C(/etc), C(~/x), C(../..), the docker
        socket) is refused unless the image lists it in C(host_paths), which marks the mount as intended.
      - "An image's C(resources) set its service's CPU and memory (C(cpus), C(memory) limits, C(reserve_cpus),
        C(reserve_memory) reservations, as Docker writes them: C(cpus: \"0.5\"), C(memory: 512M)); a reservation may
        not exceed its limit. The Swarm stack file puts them under C(deploy.resources); the compose file does not
        use them."
      - "A secret variable's C(file_env) names the variable through which its image reads the secret from a file
        (C(MYSQL_ROOT_PASSWORD_FILE)); an engine that mounts secrets as files (Swarm) sets it to the file's path."
    type: raw
"""
