#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is implemented by the action plugin of the same name; this file only documents it.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: voice_compose
short_description: Render an AVR voice-agent stack from the registry and write its docker-compose file
version_added: 0.1.0
description:
  - Renders a complete docker-compose stack for an Agent Voice Response deployment from the
    collection's registry (a template, or a stack built from providers) on the controller, and
    writes it on the target as C(<project_dir>/docker-compose.yml). The target only needs Python.
  - "Environment values are layered per service: image defaults, then template values and core
    wiring, then provider keys and O(secrets) (only where an image's schema asks for them), then
    the deployment's C(environment.json) (see M(voiceops.avr.voice_env)), then O(env)."
  - Modular stacks get C(ASR_URL), C(LLM_URL) and C(TTS_URL) on the core service; speech-to-speech
    stacks get C(STS_URL=ws://<sts service>:<ws_port>) instead.
  - Provider keys and secrets are written only into the compose file (mode 0600 by default) and
    credential files (always 0600). They never appear in C(environment.json), in the task result,
    or in C(--diff) output, where their values are masked. They are written as given, never templated
    (a C({{service:...}}) in a key stays as it is).
  - A failed run changes nothing - the files are written as temporary files with their mode, owner and
    group, and renamed into place only when every one of them could be prepared.
  - The C(environment.json) used must have been seeded for the same template (see M(voiceops.avr.voice_env)).
    A symlinked project file is followed when it leads to an existing file inside O(project_dir), and refused
    otherwise (leading outside, or dangling - its target missing, which often is an unmounted volume).
  - "Output is byte-identical for identical inputs; the file starts with a comment naming the
    deployment, the template, and the registry generation and digest (C(# registry: <generation> sha256:<digest>))."
  - "The registry has generations (see O(registry_version)): a deployment keeps the generation its compose file
    was rendered with, so an upgrade of the collection changes no deployment until a task asks for another one.
    A recorded release re-renders from its snapshot (O(registry_from), written with O(snapshot))."

  - Re-running with the same inputs changes nothing and costs one module execution on the target.
  - "With O(engine=swarm), the same deployment is written as a stack file for C(docker stack deploy)
    (C(docker-stack.yml), the legacy compose file format 3.8 Swarm reads: no C(name), C(container_name) or
    C(platform), C(depends_on) as a list, restart and resources under C(deploy), a rolling C(update_config) with
    C(failure_action: rollback), C(monitor) and C(order), and a C(rollback_config); one replica per service; an
    attachable overlay network with the subnet). The stack file holds no secret value, so it is mode 0644 by
    default."
  - "With O(engine=swarm), every provider key, secret (also one a secret variable has as its image's public
    default, such as C(AMI_PASSWORD=avr)) and credential file becomes a Swarm secret with a versioned name,
    C(<deployment>_<reference>_<version>) - Swarm secrets cannot change, so a changed value is a new name. The
    version is an HMAC of the value under a random key the deployment keeps in C(swarm/version.key) (mode 0600,
    made on the first run), never a hash of the value alone, which would let anyone who can list the swarm's
    secrets test guesses of a weak value against its name. The secret is created from a file under
    C(swarm/secrets/) (mode 0600) and mounted in the containers: a variable's secret as C(/run/secrets/<REFERENCE>)
    (for example C(/run/secrets/OPENAI_API_KEY)), a credential file where the compose file mounts it. A secret the
    task was not given is an external secret, C(<deployment>_<reference>), for the operator to create."
  - "With O(engine=swarm), a secret variable whose image reads the secret from a file (the variable's C(file_env) in
    a O(catalog), such as C(MYSQL_ROOT_PASSWORD_FILE) for C(MYSQL_ROOT_PASSWORD)) gets that variable set to the
    file's path."
  - "Limit of O(engine=swarm): the stack file sets no other secret variable - the AVR images read their keys from
    the environment, and no built-in image claims a C(_FILE) variable. Such a value is only the file
    C(/run/secrets/<REFERENCE>) in the container, and C(file_only) of RV(swarm) names these variables per service;
    the image needs an entrypoint of its own that reads the file (or a C(file_env)) to run on Swarm."
  - "With O(engine=swarm), the configuration files of O(config_files) that services mount one by one (the Asterisk
    configuration) become Swarm configs with versioned names (a hash of the content; created from copies under
    C(swarm/configs/)), or Swarm secrets when their text holds a secret value (C(manager.conf) holds the AMI
    password)."
  - "With O(engine=swarm), the ports of a service that publishes SIP or RTP (ports whose container port must equal
    the host port, see RV(port_needs)) are published in C(mode: host), one entry per port - ingress would hide the
    caller's address from Asterisk, and a large published range is slow - and the service is pinned to one node,
    as is every service that bind-mounts a path of the host or a named volume (the files are on that node):
    C(node.hostname == <placement>) with O(placement), else C(node.role == manager). Other ports are published
    through the ingress, in long syntax. A port bound to an address (O(publish_address), O(management_address),
    O(ports)) is refused: Swarm publishes on every address of a node. Such a service updates C(stop-first) (two
    tasks cannot hold the same host ports or data); the others C(start-first)."
author:
  - voiceops.avr contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - voiceops.avr.selection
  - voiceops.avr.project_files
  - voiceops.avr.action_group
options:
  engine:
    description:
      - The engine that runs the deployment, and so the file written. V(compose) writes the compose file for
        C(docker compose). V(swarm) writes a stack file for C(docker stack deploy) on Docker Swarm (see the
        description) and the files its secrets and configs are created from; the deployment's name is the stack's.
      - O(observe) is not available with V(swarm).
    type: str
    choices: [compose, swarm]
    default: compose
    version_added: 0.6.0
  placement:
    description:
      - With O(engine=swarm), the hostname of the Swarm node that services publishing SIP or RTP in host mode,
        and services that mount host paths, are pinned to (C(node.hostname == <placement>)); without it they are
        pinned to the managers (C(node.role == manager)), enough for a swarm with one manager.
    type: str
    version_added: 0.6.0
  deployment:
    description:
      - Name of the deployment, used as the compose project name (top-level C(name)), or the stack name with
        O(engine=swarm).
      - Lower case letters, digits, C(-) and C(_), starting with a letter or digit, at most 63 characters.
      - Defaults to the template id (or C(<stack>-<providers>) for a provider selection) when not given;
        an empty V("") is refused.
    type: str
  provider_keys:
    description:
      - API key per provider, keyed by provider name (C(openai), C(deepgram), ...). Injected into
        every variable whose image schema asks for that provider's key.
      - The C(google) provider takes the service-account JSON text; it is written as
        C(google.json) (mode 0600) in O(project_dir) and mounted where the images expect it. A catalog
        provider's credential file may not take a name the project directory uses (C(docker-compose.yml),
        C(environment.json), C(.credentials.json), C(asterisk/), C(releases/), C(current)).
      - Keys of known providers that the stack does not use are ignored; unknown providers are an error.
    type: dict
    default: {}
  secrets:
    description:
      - Named secret values that no provider supplies, keyed like the AVR examples' variables,
        for example C(DATABASE_PASSWORD), C(DATABASE_ROOT_PASSWORD), C(ADMIN_PASSWORD),
        C(AMI_PASSWORD), C(ARI_PASSWORD). Handled like provider keys.
    type: dict
    default: {}
  env:
    description:
      - Per-service variable values, keyed by registry service name (for example C(avr-llm-openai)),
        then by variable. Values must be strings without newlines or NUL.
      - Unknown services or variables fail with a suggestion; secret variables are refused here.
      - "A value may name another service of the stack as C({{service:avr-ami}}); it is replaced by the
        deployed name (with O(service_prefix)). Write it with C(!unsafe) in a playbook so Ansible does not
        template it."
      - "A value may derive from another variable of the same service as C({{var:NAME}}) (also with C(!unsafe));
        it is replaced by the final value of NAME after every layer, as are such tokens in registry defaults,
        template values and C(environment.json). NAME must be a non-secret variable of the service, and a cycle
        is refused; a variable with C(format: json) (see O(catalog)) must get JSON text."
    type: dict
    default: {}
  service_prefix:
    description:
      - Prefix for service, container and network names, so that several deployments can share a
        host (a C(-) is added unless the prefix ends with C(-) or C(_)).
      - Every prefixed container and network name must fit in one DNS label (63 characters), or the task
        fails naming the name that is too long.
    type: str
    default: ''
  subnet:
    description:
      - Subnet of the stack network, replacing the template's C(172.20.0.0/24). Give each deployment
        on a host its own.
      - An empty V("") drops the template's subnet, so that Docker picks one.
    type: str
  image_prefix:
    description:
      - Prefix put before every image reference, for a registry mirror, for example C(localhost:5000/).
    type: str
    default: ''
  tag:
    description:
      - Tag every image runs whose registry entry names no tag of its own (the AVR images; MySQL and n8n
        keep theirs), for example V(v1.4.0) or V(dev-20261122093000).
      - Without it, those images run their O(catalog) C(pinned_tag), else C(latest).
    type: str
  tags:
    description:
      - Tag per registry service name, over O(tag) and any C(pinned_tag) (a C(pinned_digest) of the image
        then no longer applies).
    type: dict
    default: {}
  digests:
    description:
      - Digest (V(sha256:...)) per registry service name; the service runs C(repository:tag@digest), which
        Docker pulls and runs by digest whatever the tag points at now.
    type: dict
    default: {}
  tag_environment:
    description:
      - Environment whose tag policy every image reference must follow. Each image names its policy
        (C(tag_policy) in the registry or O(catalog)). Policy C(avr) allows C(dev-YYYYMMDDHHmmss),
        C(vX.Y.Z) and C(latest) in V(dev) and only C(vX.Y.Z) in V(prod); policy C(upstream) allows any
        tag in V(dev) and a version number in V(prod). A reference pinned by digest alone passes.
      - An untagged image counts as C(latest), so V(prod) refuses it until a tag or digest is given.
    type: str
    choices: [dev, prod]
    default: dev
  registry_version:
    description:
      - Registry generation to render with, for example V(2025.09) (the stacks of the 2025-09 AVR examples);
        C(docs/catalog.md) lists every generation and what changed between them.
      - "Default is the generation the project's compose file was rendered with, read from its header line
        C(# registry: <generation> sha256:...) in the module execution that inspects the project (a file rendered
        before generations existed names none and counts as V(2025.09)); without a compose file rendered by this
        collection, the newest generation."
      - Giving another generation than the deployment's moves the deployment to it; the compose file changes
        like for any other input, so check mode and C(--diff) show what changes (RV(registry_version_before) is
        the generation it had).
      - With O(registry_from), it must be the snapshot's generation, otherwise the task fails naming both. An
        unknown generation fails, naming O(registry_version) and the value.
    type: str
    version_added: 0.5.0
  registry_from:
    description:
      - Render from a recorded registry snapshot instead of the built-in registry (and O(catalog)), so that a
        release re-renders to the same bytes after the collection was upgraded.
      - Either the path of a snapshot file inside O(project_dir), relative to it or absolute, such as
        V(current/registry.json) or V(releases/<id>/registry.json), read on the target in the same module
        execution that inspects the project; or the snapshot itself, as a mapping.
      - A path outside O(project_dir) is refused, and so is a missing file or a symlink leading outside the
        project. The snapshot must be one this collection renders exactly (its C(schema_version) and
        C(renderer_format) are this collection's, and it loads back to the same document); otherwise the task
        fails naming the problem, before anything is written.
      - Not together with O(catalog); a snapshot holds the catalog it was made with.
      - The generation of the compose file's header is not consulted; the snapshot's generation is used.
    type: raw
    version_added: 0.5.0
  snapshot:
    description:
      - Also write C(registry.json) in O(project_dir) - the snapshot of the registry this task renders with (the
        canonical document whose sha256 is RV(registry_digest); it holds no secret, mode 0644) - and list it in
        RV(release_files), so that a release keeps it and O(registry_from) can render from it later.
      - It is written with the other files of the task, all or nothing.
    type: bool
    default: false
    version_added: 0.5.0
  registry_digest:
    description:
      - Registry digest the rendering must come from (as recorded in a release). The task fails, naming
        both digests, when this collection and its O(catalog) have another one, so that a re-render of a
        recorded release cannot silently differ.
    type: str
  ports:
    description:
      - Published ports per registry service name, replacing the template's (for example
        V(15001:5001) for C(avr-core)), to run several deployments on one host. An empty list
        publishes nothing. Each entry is C(HOST:CONTAINER[/udp]) or C(ADDRESS:HOST:CONTAINER).
    type: dict
    default: {}
  volumes:
    description:
      - Mounts added to services for this deployment, per registry service name, after the template's
        (for example V(./asterisk/conf/rtp.conf:/etc/asterisk/rtp.conf) for C(avr-asterisk)).
      - Each entry is C(SOURCE:TARGET[:MODE]) whose source is a path inside the project directory
        (C(./...)) or a named volume; a host path outside the project is refused. A configuration file
        of O(config_files) that only such a mount names is written like any other.
      - The stack role uses it for a tenant whose RTP range follows its allocation (the port need's
        C(mounts), see RV(port_needs)).
    type: dict
    default: {}
    version_added: 0.6.0
  publish_address:
    description:
      - Host address every published port is bound to (for example V(127.0.0.1)). By default ports
        are published on all addresses, as in the AVR examples.
    type: str
  management_address:
    description:
      - Host address the management ports (Asterisk AMI 5038 and ARI/HTTP 8088, the AMI bridge 6006)
        are bound to. Defaults to O(publish_address).
    type: str
  allow_missing:
    description:
      - When V(false), a required value that nobody supplies (a provider key, a secret, a required
        variable) fails the task, listing every missing value and where to give it.
      - When V(true), each missing value is written as a compose interpolation (C(${DEEPGRAM_API_KEY}))
        for the environment of C(docker compose) to fill, as the AVR examples do.
    type: bool
    default: false
  compose_file:
    description:
      - File name of the compose file (or stack file) inside O(project_dir).
      - Default C(docker-compose.yml), or C(docker-stack.yml) with O(engine=swarm).
    type: str
  mode:
    description:
      - Mode of the compose file, octal or symbolic. The resulting mode is computed as Ansible applies it
        (and checked again on the target before the file is renamed into place); a mode that gives group or
        others any permission is refused while the file holds provider keys or secrets, and so is a mode
        Ansible would not accept (C(0999), C(rw)), before anything is written. An empty symbolic clause
        (V(''), V(u=rw,)), which Ansible would read as no change, is refused as well.
      - Default V('0600'); with O(engine=swarm) V('0644'), since a stack file holds no secret value (the files its
        secrets are created from are always 0600).
    type: raw
  kept_secrets:
    description:
      - Secrets of O(secrets) the deployment keeps on its host in C(.credentials.json) (mode 0600, keys in
        lower case), for values a person never types, such as the AMI and ARI passwords. A name given in
        O(secrets) with a non-empty value uses that value; otherwise the kept value; otherwise one is
        generated (24 letters and digits) and kept. Each must be a secret some image of the registry reads.
    type: list
    elements: str
    default: []
  config_files:
    description:
      - Configuration files of the deployment - path relative to O(project_dir) to a Jinja template, found
        as M(ansible.builtin.template) finds its C(src) (a role's C(templates/) folder first). Written (mode
        0600, their content never shown in a diff) only when a service of the stack mounts the path; rendered
        on the controller with the task's variables plus C(voice_secrets) (O(secrets) with the kept ones),
        C(voice_roles) (RV(roles)) and C(voice_deployment).
    type: dict
    default: {}
  mount_files:
    description:
      - Files the user supplies that the stack may mount (relative to O(project_dir)); one the stack mounts
        is created empty (mode 0640) when missing, so that Docker does not create a folder in its place.
    type: list
    elements: str
    default: []
  mount_folders:
    description:
      - Create (mode 0750) every path the stack bind-mounts from the project that is not a file of
        O(config_files), O(mount_files) or a credential file, as a folder, when it is missing - so that the
        caller states which mounts are files and every other mount is a folder.
    type: bool
    default: false
  keep_digests:
    description:
      - Keep the digests the current release runs (its C(release.json)) for every image still asked for at
        the same repository and tag and not in O(digests), so that a re-run pins what runs instead of
        resolving tags again. RV(to_pull) lists the images the current release does not run.
    type: bool
    default: false
  observe:
    description:
      - Also report in RV(running) whether Docker runs the deployment as rendered (see RV(running)), in the
        same module execution that inspects the project's files. Needs the C(docker) CLI on the target.
    type: bool
    default: false
attributes:
  diff_mode:
    support: full
    details:
      - Values of secret variables are masked on both sides of the diff, where they are values of a secret
        variable of the registry (never as substrings, so a key that is a common word changes no other line).
        The current file is masked on the target by its own structure; one not in a shape that can be masked
        with certainty (flow style, JSON, block scalars, comments of its own) is shown as hidden. Credential
        files are never shown.
seealso:
  - module: voiceops.avr.voice_env
  - plugin: voiceops.avr.compose_document
    plugin_type: filter
notes:
  - The registry, any catalog and the rendering stay on the controller; the target runs
    M(voiceops.avr.project_files) once per host to inspect the project (and, with O(observe), Docker), and
    once more only when a file or folder must change.
"""

EXAMPLES = r"""
---
- name: Render the OpenAI template for a deployment
  voiceops.avr.voice_compose:
    template: openai
    project_dir: /srv/avr/openai
    provider_keys:
      openai: "{{ vault_openai_key }}"
      deepgram: "{{ vault_deepgram_key }}"
    env:
      avr-llm-openai:
        OPENAI_MODEL: gpt-4o-mini

- name: Build a modular stack from providers
  voiceops.avr.voice_compose:
    stack: modular
    providers: {asr: deepgram, llm: anthropic, tts: deepgram}
    deployment: support-line
    project_dir: /srv/avr/support-line
    provider_keys:
      anthropic: "{{ vault_anthropic_key }}"
      deepgram: "{{ vault_deepgram_key }}"

- name: A second deployment on the same host
  voiceops.avr.voice_compose:
    stack: sts
    providers: {sts: ultravox}
    deployment: sales
    service_prefix: sales
    subnet: 172.21.0.0/24
    project_dir: /srv/avr/sales
    provider_keys:
      ultravox: "{{ vault_ultravox_key }}"
    env:
      avr-sts-ultravox:
        ULTRAVOX_AGENT_ID: "{{ ultravox_agent_id }}"

- name: The same deployment as a Docker Swarm stack (deploy it with docker stack deploy -c docker-stack.yml openai)
  voiceops.avr.voice_compose:
    engine: swarm
    template: openai
    project_dir: /srv/avr/openai
    placement: voice-1
    provider_keys:
      openai: "{{ vault_openai_key }}"
      deepgram: "{{ vault_deepgram_key }}"

- name: Roll a production deployment to a release tag, core pinned by digest
  voiceops.avr.voice_compose:
    template: openai
    project_dir: /srv/avr/openai
    tag_environment: prod
    tag: v1.4.0
    digests:
      avr-core: sha256:7d2f0c5c3c1be3a4e0c1c4f1f3f0a1b2c3d4e5f60718293a4b5c6d7e8f901234
    provider_keys:
      openai: "{{ vault_openai_key }}"
      deepgram: "{{ vault_deepgram_key }}"
"""

RETURN = r"""
---
dest:
  description: Path of the compose file (or stack file, with O(engine=swarm)) on the target.
  returned: always
  type: str
  sample: /srv/avr/openai/docker-compose.yml
checksum:
  description: SHA-1 of the rendered compose file (or stack file, with O(engine=swarm)).
  returned: always
  type: str
registry_digest:
  description:
    - SHA-256 of the snapshot of the effective registry (generation plus catalog, or the snapshot of
      O(registry_from)); also in the file header.
  returned: always
  type: str
registry_version:
  description: The registry generation the compose file was rendered with (also in the file header).
  returned: always
  type: str
  sample: '2025.09'
  version_added: 0.5.0
registry_version_before:
  description:
    - The generation the header of the project's compose file named before this task (V(2025.09) for a file
      rendered before generations existed); null when there was no compose file rendered by this collection. It
      differs from RV(registry_version) when this task moves the deployment to another generation.
  returned: always
  type: str
  sample: '2025.09'
  version_added: 0.5.0
deployment:
  description: The deployment (compose project) name.
  returned: always
  type: str
template:
  description: The template id (or the id built from O(stack) and O(providers)).
  returned: always
  type: str
services:
  description: Deployed service names, in file order.
  returned: always
  type: list
  elements: str
provider_keys:
  description: Per provider the stack uses, whether its key is required and whether it was given (never the value).
  returned: always
  type: dict
  sample: {deepgram: {required: true, present: true}, openai: {required: true, present: false}}
environment_file:
  description: Whether C(environment.json) existed in O(project_dir) and was applied.
  returned: always
  type: bool
written:
  description: Files that were written (or would be, in check mode).
  returned: always
  type: list
  elements: str
published:
  description: Every published port, with its service, host address, host and container port and protocol.
  returned: always
  type: list
  elements: dict
  sample: [{service: avr-core, address: 0.0.0.0, host: "5001", container: "5001", protocol: tcp}]
roles:
  description: Deployed service names per registry role (C(core), C(asr), C(sts), C(asterisk), ...).
  returned: always
  type: dict
  sample: {core: [avr-core], asterisk: [avr-asterisk]}
credential_files:
  description: Credential files (relative to O(project_dir)) the stack's providers use, written from O(provider_keys).
  returned: always
  type: list
  elements: str
  sample: [google.json]
containers:
  description: Container names of the deployment.
  returned: always
  type: list
  elements: str
networks:
  description: Networks of the deployment with their subnets.
  returned: always
  type: list
  elements: dict
mounts:
  description:
    - Per service, the paths relative to O(project_dir) that it bind-mounts (for example the Asterisk
      configuration files), so that a play can restart exactly the services whose mounted files changed.
  returned: always
  type: dict
images:
  description:
    - Per registry service name, the image reference the service runs and its parts, and the image's tag
      policy. C(tag) is null for an untagged reference (C(latest)); C(digest) is null unless pinned.
  returned: always
  type: dict
  sample:
    avr-core:
      service: avr-core
      reference: localhost:5000/agentvoiceresponse/avr-core:v1.1.0
      repository: localhost:5000/agentvoiceresponse/avr-core
      tag: v1.1.0
      digest: null
      tag_policy: avr
gate:
  description:
    - Per deployed service, what the health gate (M(voiceops.avr.health_gate)) needs to judge it after a
      start, C(container) (its container name), C(network) (the deployment network the probes reach it
      on) and C(probes), its readiness probes. Probes are image data of the registry or catalog
      (C(probes) of an image), derived when the image sets none, a C(health) probe (Docker must report
      the container healthy) for an image with a health check, else a C(tcp) probe of its C(port),
      else of the first TCP container port of its C(ports), else none.
  returned: always
  type: dict
  version_added: 0.3.0
  sample:
    support-avr-core:
      container: support-avr-core
      network: support
      probes: [{type: tcp, port: 5001}]
    support-avr-mysql:
      container: support-avr-mysql
      network: support
      probes: [{type: health, port: null}]
port_needs:
  description:
    - What the template rendered publishes on the host, one entry per port (or port range) in service order, then
      port order - the template's own ports (the image's, or a template override's, none when the template unsets
      them), not O(ports). A caller that allocates host ports per deployment (several tenants on one host) takes
      each from the block of its C(purpose).
    - C(service) is the registry service name (the key O(ports) takes), C(container) the container port or range,
      C(protocol) V(tcp), V(udp) or V(sctp), C(size) the number of ports (V(51) for V(10000-10050)). An address
      part of a port spec is left out; O(publish_address) and O(management_address) bind it.
    - "C(purpose) comes from the service's role and container port, never from an image's name: Asterisk's V(5060)
      is V(sip), any UDP range of Asterisk V(rtp), V(5038) V(ami), V(8088) and V(8089) V(ari); the other ports of the
      core are V(core), of the AMI service V(ami), and any other port V(web)."
    - C(follows_host) is true for V(sip) and V(rtp), whose container port must equal the host port (Asterisk
      advertises the port it binds); for the others only the host side moves.
    - C(mounts) lists the configuration files (C(SOURCE:TARGET)) the service must mount for such a port to follow
      the host, when its image does not mount them already (Asterisk's C(rtp.conf), for V(rtp)); pass them in
      O(volumes).
  returned: always
  type: list
  elements: dict
  version_added: 0.6.0
  sample:
    - {service: avr-core, container: '5001', protocol: tcp, purpose: core, size: 1, follows_host: false, mounts: []}
    - {service: avr-asterisk, container: '5060', protocol: tcp, purpose: sip, size: 1, follows_host: true, mounts: []}
    - {service: avr-asterisk, container: 10000-10050, protocol: udp, purpose: rtp, size: 51, follows_host: true,
       mounts: ['./asterisk/conf/rtp.conf:/etc/asterisk/rtp.conf']}
to_pull:
  description:
    - Registry service names whose image reference has no digest or is not the one the current release runs - the
      images a caller pulls (and resolves to digests) before the release is staged.
  returned: always
  type: list
  elements: str
  version_added: 0.4.0
release_files:
  description:
    - The files of the deployment a release holds besides the compose file and C(environment.json) - the
      configuration files of O(config_files) the stack mounts, C(.credentials.json) with O(kept_secrets) and
      C(registry.json) with O(snapshot).
  returned: always
  type: list
  elements: str
  version_added: 0.4.0
release:
  description:
    - The current release of the project (C(current), its id, or null) and whether it holds exactly what
      this task renders (C(unchanged) - the compose file, C(environment.json) as it is now and RV(release_files)).
  returned: always
  type: dict
  version_added: 0.4.0
  sample: {current: 20261201T101500Z-1a2b3c4d, unchanged: true}
restart:
  description:
    - Services that mount a file this task wrote (or would write, in check mode) other than the compose
      file, so that they can be restarted to read it.
  returned: always
  type: list
  elements: str
  version_added: 0.4.0
record:
  description:
    - What a release of this rendering records (see M(voiceops.avr.release) O(voiceops.avr.release#module:record)) -
      deployment, template, registry digest and generation, tag environment, image references, tags and digests per
      service,
      mounts, gate data, and C(inputs) - this task's inputs, with only the names of O(provider_keys) and
      O(secrets); with those values they render the same bytes again.
  returned: always
  type: dict
  version_added: 0.4.0
running:
  description:
    - With O(observe), whether Docker runs the deployment as rendered (C(as_rendered)) - every container
      exists, runs (healthy where it has a health check) the rendered image reference (for one without a
      digest, the image its tag names on the host now), in the compose project, and the project has no other
      container - and C(reasons), one line per difference.
  returned: when O(observe=true)
  type: dict
  version_added: 0.4.0
  sample: {as_rendered: false, reasons: ["support-avr-core: exited"]}
made_directories:
  description: Folders the stack mounts that were created (or would be, in check mode).
  returned: always
  type: list
  elements: str
  version_added: 0.4.0
swarm:
  description:
    - With O(engine=swarm), what the stack creates in Swarm (names only, never a value) - C(services) (the stack's
      service keys; Swarm names them C(<deployment>_<service>)), C(secrets) (the Swarm secrets created from the
      files under C(swarm/secrets/)), C(external_secrets) (secrets this task was not given, which must exist),
      C(configs), C(networks) (keys; Swarm names them C(<deployment>_<key>)) and C(file_only) (per service, the
      secret variables the stack file cannot set, whose value is only the file C(/run/secrets/<REFERENCE>)).
  returned: when O(engine=swarm)
  type: dict
  version_added: 0.6.0
  sample:
    services: [avr-core, avr-llm-openai, avr-asterisk]
    secrets: [openai_openai_api_key_3f2a9c1b7d4e, openai_asterisk_conf_manager_conf_0c1d2e3f4a5b]
    external_secrets: [openai_deepgram_api_key]
    configs: [openai_asterisk_conf_pjsip_conf_9a8b7c6d5e4f]
    networks: [avr]
    file_only: {avr-llm-openai: [OPENAI_API_KEY]}
backup_file:
  description: Backup of the previous compose file.
  returned: when O(backup=true) and the file changed
  type: str
"""
