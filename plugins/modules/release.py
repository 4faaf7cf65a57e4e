#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Changes to the releases of a deployment on its host: stage, activate, record failed or rolled back, restore."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: release
short_description: Change the releases of a deployment on the target (stage, activate, record, restore)
version_added: 0.2.0
description:
  - A release is a snapshot of what a deployment runs, kept in the project directory under
    C(releases/<id>/) - the compose file, C(environment.json), further files of the project and
    C(release.json) (template, registry digest, image references, tags and digests, and the non-secret
    inputs that rendered it).
  - C(current) (a symlink to C(releases/<id>)) points at the current release. C(releases/history.jsonl) gets
    one JSON record per status change (C(staged), C(active), C(failed), C(rolled_back)) with the release id,
    tags, digests, registry digest, trace id, start and finish times and who ran it. Lines are only ever
    appended.
  - Release ids sort by time - C(<UTC YYYYmmddTHHMMSSZ>-<first 8 hex digits of the compose file's SHA-1>).
  - This module only makes changes. M(voiceops.avr.release_info) reads the releases, the history, the
    release matching a compose checksum, the previous release and whether the project's files differ from
    a release, and changes nothing.
  - Used by the C(voiceops.avr.stack) role, which stages a release when the rendered compose file,
    C(environment.json) or the release's files differ from the current release, marks it active once the
    health gate passes, and otherwise records it failed and restores the last active release.
  - Target side, Python standard library only. Writes are atomic (temporary file or directory, then
    rename); an exclusive lock on C(releases/.lock) keeps two runs from interleaving, and one on the project
    directory keeps M(voiceops.avr.project_files) from writing meanwhile. A run first removes what an
    interrupted run left (half-staged or half-pruned release directories, a half-made C(current) link).
  - Every path it reads or writes is confined to the project directory - a C(release.json) naming a file
    outside it (C(../victim.txt)), or a symlink leading outside, is refused.
  - Before anything is written, the history and every C(release.json) are read; a line of the history or a
    C(release.json) that is not a JSON object fails the task naming the file (and line), and nothing changes.
    An unfinished last line of the history (an append cut short) is ignored with a warning and cut off by
    the next record.
author:
  - voiceops.avr contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - voiceops.avr.action_group
options:
  project_dir:
    description: The deployment's project directory.
    type: path
    required: true
  state:
    description:
      - V(staged) snapshots the project's compose file, C(environment.json) and O(files) as a new release and
        records it C(staged), unless they equal the current release (then nothing changes and RV(release) is
        the current release). With O(checksum), the compose file must have that checksum (another run may have
        written it meanwhile); in check mode O(checksum) stands for the file the run would have written, and
        RV(release) is the id the new release would get.
      - V(active) points C(current) at O(release), records it C(active) and prunes old releases (O(keep)).
        Nothing changes when it is the current release and the history's last record already says it is
        active.
      - V(failed) and V(rolled_back) record that status for O(release), with O(reason).
      - V(restored) copies O(release)'s compose file, C(environment.json) and the files it recorded back into
        the project directory (atomically, keeping their modes) so that C(docker compose) runs it again;
        RV(restored_files) lists the files that changed and RV(mounts) the services' mounts the release
        recorded, to restart what mounts them. It records nothing in the history.
      - In check mode every state reports what it would do and writes nothing.
    type: str
    choices: [staged, active, failed, rolled_back, restored]
    required: true
  release:
    description:
      - The release to act on (required unless O(state=staged)) - a release id, V(current) for the current
        release, or V(previous) for the newest release older than the current one that was ever active
        (releases are ordered by their ids, which start with their creation time). Fails naming the value
        when no such release exists.
    type: str
  checksum:
    description:
      - SHA-1 of the compose file O(state=staged) must find in the project directory.
    type: str
  files:
    description:
      - Further files of the project, relative to O(project_dir), that belong to a release (O(state=staged)),
        for example the configuration files the services mount. They are part of what makes a release
        differ from the current one and are put back by O(state=restored). In check mode a missing one is
        left out. Each must be a plain relative path (no V(..), no leading V(/), no control characters such
        as a newline), outside C(releases/).
    type: list
    elements: str
    default: []
  record:
    description:
      - What O(state=staged) writes into C(release.json) and every history record of the release, for
        example C(template), C(deployment), C(registry_digest), C(images), C(tags), C(digests), C(inputs),
        C(gate), C(mounts). Never put secrets here.
    type: dict
    default: {}
  trace_id:
    description: Identifier of the run (a pipeline id); the same on every host of one rollout.
    type: str
    default: ''
  actor:
    description:
      - Who ran it (user, pipeline), recorded in every history record; defaults to the user the module runs as.
    type: str
    default: ''
  started:
    description: When the run started on this host (ISO 8601, UTC); defaults to now.
    type: str
  reason:
    description: Why a release failed or was rolled back, for the history.
    type: str
    default: ''
  keep:
    description:
      - Release directories to keep (O(state=active) prunes older ones). The current release and the
        previous one are always kept. The history keeps every record.
    type: int
    default: 5
  compose_file:
    description:
      - File name of the compose file in O(project_dir), the file the deployment is run from (a stack file
        for Docker Swarm), or C(kubernetes/manifests.yml) for a deployment on Kubernetes.
    type: str
    default: docker-compose.yml
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
seealso:
  - module: voiceops.avr.release_info
  - module: voiceops.avr.voice_compose
  - module: voiceops.avr.health_gate
"""

EXAMPLES = r"""
---
- name: Stage the rendered files as a release (nothing new when they equal the current release)
  voiceops.avr.release:
    project_dir: /srv/avr/openai
    state: staged
    checksum: "{{ compose.checksum }}"
    files:
      - asterisk/conf/manager.conf
    record:
      template: openai
      deployment: openai
    trace_id: "{{ lookup('ansible.builtin.env', 'CI_PIPELINE_ID') }}"
  register: staged

- name: Make it the current release once it passed the health gate
  voiceops.avr.release:
    project_dir: /srv/avr/openai
    state: active
    release: "{{ staged.release }}"
    keep: 5

- name: Record that it failed the health gate
  voiceops.avr.release:
    project_dir: /srv/avr/openai
    state: failed
    release: "{{ staged.release }}"
    reason: "avr-core: exited (code 1)"

- name: Put the previous release's files back in place
  voiceops.avr.release:
    project_dir: /srv/avr/openai
    state: restored
    release: previous
  register: restored
"""

RETURN = r"""
---
release:
  description:
    - The release the task acted on, as an id (O(release) resolved). For O(state=staged), the new release,
      or the current one when nothing differs from it.
  returned: always
  type: str
  sample: 20261122T101500Z-3f1c2a9b
created:
  description: Whether O(state=staged) created (in check mode, would create) a new release.
  returned: always
  type: bool
current:
  description: The current release after the task, or null.
  returned: always
  type: str
previous:
  description:
    - The previous release after the task (the newest release older than the current one that was ever active),
      or null.
  returned: always
  type: str
releases:
  description: Every kept release after the task, oldest first, with its checksum, last status, tags and digests.
  returned: always
  type: list
  elements: dict
history:
  description: The last 50 history records after the task, oldest first.
  returned: always
  type: list
  elements: dict
restored_files:
  description: Files O(state=restored) put back (would put back, in check mode), relative to O(project_dir).
  returned: when O(state=restored)
  type: list
  elements: str
mounts:
  description: The mounts of each service that O(release) recorded (C(record.mounts)), for O(state=restored).
  returned: when O(state=restored)
  type: dict
pruned:
  description: Release directories removed (would be removed, in check mode) by O(state=active).
  returned: always
  type: list
  elements: str
history_file:
  description: Path of the history file.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.voiceops.avr.plugins.module_utils import layout
from ansible_collections.voiceops.avr.plugins.module_utils.releases import STATES, ReleaseError, ReleaseStore


def main():
    module = AnsibleModule(
        argument_spec={
            "project_dir": {"type": "path", "required": True},
            "state": {"type": "str", "required": True, "choices": list(STATES)},
            "release": {"type": "str"},
            "checksum": {"type": "str"},
            "record": {"type": "dict", "default": {}},
            "trace_id": {"type": "str", "default": ""},
            "actor": {"type": "str", "default": ""},
            "started": {"type": "str"},
            "reason": {"type": "str", "default": ""},
            "keep": {"type": "int", "default": 5},
            "compose_file": {"type": "str", "default": layout.COMPOSE_FILE},
            "files": {"type": "list", "elements": "str", "default": []},
        },
        required_if=[("state", "active", ["release"]), ("state", "failed", ["release"]),
                     ("state", "rolled_back", ["release"]), ("state", "restored", ["release"])],
        supports_check_mode=True,
    )
    params = module.params
    store = ReleaseStore(params["project_dir"], params["compose_file"], check_mode=module.check_mode,
                         warn=module.warn)
    try:
        result = store.change(params["state"], release=params["release"], checksum=params["checksum"],
                              files=params["files"], record=params["record"], trace_id=params["trace_id"],
                              actor=params["actor"], started=params["started"], reason=params["reason"],
                              keep=params["keep"])
    except ReleaseError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
