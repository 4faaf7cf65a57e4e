#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The releases of a deployment on its host, read only: releases, current, previous, history, a match."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: release_info
short_description: Read the releases of a deployment and their history on the target
version_added: 0.4.0
description:
  - Reports the releases of a deployment kept in its project directory (C(releases/<id>/)), the current
    release (the one the symlink C(current) points at), the previous release and the history
    (C(releases/history.jsonl)); see M(voiceops.avr.release) for what they hold and how they change.
  - With O(release), resolves it to an id, returns its C(release.json) as RV(record) and reports in
    RV(differs) whether the project's files differ from that release's.
  - With O(checksum), reports in RV(match) the release with that compose checksum.
  - Never changes anything, in check mode or not - it takes no lock, removes no leftovers of an
    interrupted run and writes no file; RV(changed) is always false.
  - Every path it reads is confined to the project directory - a C(release.json) naming a file outside it,
    or a symlink leading outside, is refused. A line of the history or a C(release.json) that is not a JSON
    object fails the task naming the file (and line); an unfinished last line of the history (an append
    cut short or still being written) is ignored with a warning.
  - Target side, Python standard library only.
author:
  - voiceops.avr contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - voiceops.avr.action_group
options:
  project_dir:
    description: The deployment's project directory. One without releases (or missing) has none.
    type: path
    required: true
  release:
    description:
      - A release to look at - a release id, V(current) for the current release, or V(previous) for the
        newest release older than the current one that was ever active (releases are ordered by their ids,
        which start with their creation time).
      - Fails naming the value when no such release exists. RV(release) is the resolved id.
    type: str
  checksum:
    description:
      - SHA-1 of a compose file, looked up among the releases (RV(match)).
    type: str
  files:
    description:
      - Further files of the project, relative to O(project_dir), to compare with O(release) besides its
        compose file, C(environment.json) and the files it recorded (RV(differs)). Each must be a plain
        relative path (no V(..), no leading V(/), no control characters such as a newline), outside
        C(releases/).
    type: list
    elements: str
    default: []
  compose_file:
    description:
      - File name of the compose file in O(project_dir), for releases whose C(release.json) does not name it
        (a stack file for Docker Swarm, or C(kubernetes/manifests.yml) for a deployment on Kubernetes).
    type: str
    default: docker-compose.yml
attributes:
  check_mode:
    support: full
    details: It changes nothing in either mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
seealso:
  - module: voiceops.avr.release
"""

EXAMPLES = r"""
---
- name: Which releases does the deployment have?
  voiceops.avr.release_info:
    project_dir: /srv/avr/openai
  register: releases

- name: Is there a release of this compose file, and did it fail?
  voiceops.avr.release_info:
    project_dir: /srv/avr/openai
    checksum: "{{ compose.checksum }}"
  register: known

- name: Resolve the release to roll back to (fails when there is none)
  voiceops.avr.release_info:
    project_dir: /srv/avr/openai
    release: previous
    files:
      - asterisk/conf/manager.conf
  register: target

- name: Put its files back in place when they differ
  voiceops.avr.release:
    project_dir: /srv/avr/openai
    state: restored
    release: "{{ target.release }}"
  when: target.differs

- name: The health gate data the release recorded
  ansible.builtin.debug:
    msg: "{{ target.record.gate | default({}) }}"
"""

RETURN = r"""
---
changed:
  description: Always false.
  returned: always
  type: bool
  sample: false
current:
  description: The current release (the id C(current) points at), or null.
  returned: always
  type: str
  sample: 20261122T101500Z-3f1c2a9b
previous:
  description: The previous release (the newest release older than the current one that was ever active), or null.
  returned: always
  type: str
releases:
  description: Every kept release, oldest first, with its checksum, last status, tags and digests.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The release id.
      type: str
    created:
      description: When it was staged (ISO 8601, UTC).
      type: str
    checksum:
      description: SHA-1 of its compose file.
      type: str
    status:
      description: Its last status in the history (C(staged), C(active), C(failed), C(rolled_back)), or null.
      type: str
    tags:
      description: The image tag of each service.
      type: dict
    digests:
      description: The image digest of each service.
      type: dict
    template:
      description: The template it was rendered from.
      type: str
    registry_digest:
      description: The registry digest it was rendered with.
      type: str
history:
  description: The last 50 history records, oldest first.
  returned: always
  type: list
  elements: dict
history_file:
  description: Path of the history file.
  returned: always
  type: str
release:
  description: O(release) resolved to a release id.
  returned: when O(release) is given
  type: str
  sample: 20261122T101500Z-3f1c2a9b
record:
  description:
    - The C(release.json) of RV(release) - what staging recorded (C(template), C(deployment),
      C(registry_digest), C(images), C(tags), C(digests), C(inputs), C(gate), C(mounts), ...) and the
      store's own fields (C(id), C(created), C(checksum), C(environment_checksum), C(compose_file), C(files)).
  returned: when O(release) is given
  type: dict
differs:
  description:
    - Whether any of the project's files differs from RV(release)'s copy - its compose file,
      C(environment.json) (when the release has one), the files it recorded and O(files) (a file present on
      one side only differs). True means that a restore of the release (M(voiceops.avr.release) with
      C(state=restored)) would change a file, or that O(files) holds a file the release does not have.
  returned: when O(release) is given
  type: bool
match:
  description:
    - The release whose compose checksum is O(checksum), with its last status, or null - the current release
      when it has that checksum, else the newest one.
  returned: when O(checksum) is given
  type: dict
  contains:
    release:
      description: The release id.
      type: str
    status:
      description: Its last status in the history.
      type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.voiceops.avr.plugins.module_utils import layout
from ansible_collections.voiceops.avr.plugins.module_utils.releases import ReleaseError, ReleaseStore


def main():
    module = AnsibleModule(
        argument_spec={
            "project_dir": {"type": "path", "required": True},
            "release": {"type": "str"},
            "checksum": {"type": "str"},
            "files": {"type": "list", "elements": "str", "default": []},
            "compose_file": {"type": "str", "default": layout.COMPOSE_FILE},
        },
        supports_check_mode=True,
    )
    params = module.params
    store = ReleaseStore(params["project_dir"], params["compose_file"], check_mode=True, warn=module.warn)
    try:
        result = store.info(release=params["release"], checksum=params["checksum"], files=params["files"])
    except ReleaseError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
