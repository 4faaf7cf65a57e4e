#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is implemented by the action plugin of the same name; this file only documents it.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: voice_manifests
short_description: Render an AVR voice-agent stack from the registry as Kubernetes resources
version_added: 0.6.0
description:
- Renders a deployment of a registry template (or a provider selection) as Kubernetes resources on the
  controller, from the same inputs as M(voiceops.avr.voice_compose), and writes them on the target as
  one multi-document file, C(<project_dir>/kubernetes/manifests.yml). RV(resources) returns them, ready
  for the C(definition) option of C(kubernetes.core.k8s).
- 'Resources, in this order - a Namespace (unless O(namespace)); the ConfigMap of the configuration files;
  PersistentVolumeClaims for project folders and named volumes; per service, its env ConfigMap C(<service>-env),
  a headless Service (C(clusterIP: None), so the service name resolves to the pod, every port reachable,
  as on a compose network) and a Deployment (one replica, C(enableServiceLinks: false)).'
- 'Every variable is read with C(valueFrom) in schema order: non-secret values from the env ConfigMap,
  provider keys and secrets only with C(secretKeyRef) to C(<deployment>-secrets), which the user manages
  and the manifests never hold (RV(references) lists every Secret and key they name).'
- Readiness probes from the registry (a health check becomes an exec probe, a TCP probe a C(tcpSocket)
  probe); resources from the image's limits and reservations; a C(platform) becomes a node selector. Labels
  C(app.kubernetes.io/name), C(instance), C(component) (the role), C(part-of), C(managed-by) (C(voiceops.avr))
  and C(version) (the image tag); annotations C(voiceops.avr/registry-digest), C(voiceops.avr/registry-generation)
  and C(voiceops.avr/template).
- 'A service that publishes a port following the host (Asterisk''s SIP port and RTP range) runs with C(hostNetwork:
  true), C(dnsPolicy: ClusterFirstWithHostNet) and strategy C(Recreate): a Service cannot publish a 10,000-port
  RTP range, so the pod binds the node''s ports. The cost - one such pod per node and port set, the old
  pod stops before the new one starts (calls drop on every update), and the pod shares the node''s network
  namespace.'
- Not carried - C(restart) (Deployments always restart), C(depends_on) (no start order), compose labels,
  host ports and bind addresses.
- Output is byte-identical for identical inputs; the file starts with a comment naming the deployment,
  the template, the namespace and the registry generation and digest.
- Re-running with the same inputs changes nothing and costs one module execution on the target.
author:
- voiceops.avr contributors (!UNKNOWN)
extends_documentation_fragment:
- ansible.builtin.action_common_attributes
- ansible.builtin.action_common_attributes.flow
- voiceops.avr.selection
- voiceops.avr.project_files
- voiceops.avr.action_group
options:
  deployment:
    description:
    - 'Name of the deployment: the namespace (unless O(namespace)), the C(app.kubernetes.io/instance)
      label of every resource, and the prefix of the names of the deployment-wide ConfigMaps, Secrets
      and claims.'
    - A Kubernetes name (lower case letters, digits and C(-), starting and ending with a letter or digit,
      at most 63 characters); a name with C(_) is refused.
    - Defaults to the template id (or C(<stack>-<providers>) for a provider selection) when not given.
    type: str
  provider_keys:
    description:
    - 'API key per provider, as for M(voiceops.avr.voice_compose). Never written: a key only marks its
      reference as given. The pods read it from the Secret C(<deployment>-secrets) the user manages (key
      = the provider''s variable, for example C(OPENAI_API_KEY)); a credential file such as C(google.json)
      is read from the Secret C(<deployment>-files) (key C(google.json)).'
    - Unknown providers are an error.
    type: dict
    default: {}
  secrets:
    description:
    - 'Named secret values (C(AMI_PASSWORD), C(ADMIN_PASSWORD), ...), as for M(voiceops.avr.voice_compose).
      Never in a manifest: every secret variable, given or not, also one whose value is its image''s public
      default, is read with C(secretKeyRef) from C(<deployment>-secrets) (key = the secret''s name).'
    - They reach the configuration files of O(config_files) as C(voice_secrets).
    type: dict
    default: {}
  env:
    description:
    - Per-service variable values, keyed by registry service name (for example C(avr-llm-openai)), then
      by variable. Values must be strings without newlines or NUL.
    - Unknown services or variables fail with a suggestion; secret variables are refused here.
    - A value may name another service of the stack as C({{service:avr-ami}}); it is replaced by the deployed
      name (with O(service_prefix)). Write it with C(!unsafe) in a playbook so Ansible does not template
      it.
    - 'A value may derive from another variable of the same service as C({{var:NAME}}) (also with C(!unsafe));
      it is replaced by the final value of NAME after every layer, as are such tokens in registry defaults,
      template values and C(environment.json). NAME must be a non-secret variable of the service, and
      a cycle is refused; a variable with C(format: json) (see O(catalog)) must get JSON text.'
    type: dict
    default: {}
  service_prefix:
    description:
    - Prefix of the names of the services (Kubernetes Services and Deployments); a C(-) is added unless
      it ends with C(-). Each name must be a Kubernetes service name (starting with a letter, no C(_)).
    type: str
    default: ''
  subnet:
    description:
    - Accepted for the same inputs as M(voiceops.avr.voice_compose); the cluster's network decides addresses,
      so it changes no resource.
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
    - Environment whose tag policy every image reference must follow. Each image names its policy (C(tag_policy)
      in the registry or O(catalog)). Policy C(avr) allows C(dev-YYYYMMDDHHmmss), C(vX.Y.Z) and C(latest)
      in V(dev) and only C(vX.Y.Z) in V(prod); policy C(upstream) allows any tag in V(dev) and a version
      number in V(prod). A reference pinned by digest alone passes.
    - An untagged image counts as C(latest), so V(prod) refuses it until a tag or digest is given.
    type: str
    choices:
    - dev
    - prod
    default: dev
  registry_version:
    description:
    - Registry generation to render with, for example V(2025.09).
    - 'Default is the generation the project''s manifests file was rendered with (its header line C(#
      registry: <generation> sha256:...)); without one, the newest generation.'
    - With O(registry_from), it must be the snapshot's generation.
    type: str
    version_added: 0.5.0
  registry_from:
    description:
    - Render from a recorded registry snapshot (a path inside O(project_dir), or the snapshot as a mapping),
      as for M(voiceops.avr.voice_compose). Not together with O(catalog).
    type: raw
    version_added: 0.5.0
  snapshot:
    description:
    - Also write C(registry.json) in O(project_dir) - the snapshot of the registry this task renders with
      (the canonical document whose sha256 is RV(registry_digest); it holds no secret, mode 0644) - and
      list it in RV(release_files), so that a release keeps it and O(registry_from) can render from it
      later.
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
    - Published ports per registry service name, replacing the template's, as for M(voiceops.avr.voice_compose).
    - The container side of each becomes a container port and a Service port, named C(<protocol>-<port>);
      the host side does not apply (expose Services with an Ingress, LoadBalancer or NodePort of your
      own). A range becomes one entry per port up to 100 ports; a larger range is refused, except on a
      service with a port that follows the host (SIP, RTP), which runs on the node's network and serves
      it there.
    type: dict
    default: {}
  volumes:
    description:
    - Mounts added to services, as for M(voiceops.avr.voice_compose). A project folder is mounted from
      the claim C(<deployment>-project) with its C(subPath), a named volume from the claim C(<deployment>-<volume>).
    type: dict
    default: {}
    version_added: 0.6.0
  publish_address:
    description:
    - Accepted for the same inputs as M(voiceops.avr.voice_compose); Services publish no host address,
      so it changes no resource.
    type: str
  management_address:
    description:
    - Accepted for the same inputs as M(voiceops.avr.voice_compose); it changes no resource.
    type: str
  allow_missing:
    description:
    - When V(false), a required value nobody supplies fails the task, listing every missing value, provider
      keys and secrets included (as for M(voiceops.avr.voice_compose)), although the manifests only reference
      them.
    - When V(true), a missing provider key or secret is a C(secretKeyRef) like a given one.
    - A missing non-secret value is read from the ConfigMap C(<deployment>-values) the user manages (key
      = the variable's placeholder name), listed in RV(references).
    type: bool
    default: false
  mode:
    description:
    - Mode of the manifests file, octal or symbolic (it holds no secret, so a mode readable by others
      is allowed); validated as for M(voiceops.avr.voice_compose).
    type: raw
    default: '0644'
  kept_secrets:
    description:
    - Secrets of O(secrets) the deployment keeps on its host in C(.credentials.json) (mode 0600, keys
      in lower case), for values a person never types, such as the AMI and ARI passwords. A name given
      in O(secrets) with a non-empty value uses that value; otherwise the kept value; otherwise one is
      generated (24 letters and digits) and kept. Each must be a secret some image of the registry reads.
    type: list
    elements: str
    default: []
  config_files:
    description:
    - Configuration files of the deployment (path relative to O(project_dir) to a Jinja template), rendered
      on the controller as for M(voiceops.avr.voice_compose) and written mode 0600, for the services that
      mount them.
    - 'A file that holds no secret goes into the ConfigMap C(<deployment>-config) (key = the path with
      C(/) as C(-): C(asterisk-conf-pjsip.conf)), mounted file by file with C(subPath); the pod template''s
      C(voiceops.avr/config-sha256) annotation hashes it, so a change rolls the pods.'
    - 'A file that holds a secret (its template reads C(voice_secrets), or its text holds a secret value)
      is never put in a manifest: it is read from the Secret C(<deployment>-files) the user creates, for
      example from the written file with C(kubectl create secret generic <deployment>-files --from-file=<key>=<path>).'
    type: dict
    default: {}
  mount_files:
    description:
    - Files the user supplies that the stack may mount, as for M(voiceops.avr.voice_compose); in the cluster
      they come from the claim C(<deployment>-project).
    type: list
    elements: str
    default: []
  mount_folders:
    description:
    - Create (mode 0750) every project path the stack mounts that is not a file, as for M(voiceops.avr.voice_compose).
    type: bool
    default: false
  keep_digests:
    description:
    - Keep the digests the current release runs (its C(release.json)) for every image still asked for
      at the same repository and tag and not in O(digests), so that a re-run pins what runs instead of
      resolving tags again.
    type: bool
    default: false
  shared_env:
    description:
    - 'Non-secret values (C({VAR: value})) set on every service whose env schema has the variable, under
      O(env); a secret variable is refused. The C(voiceops.avr.stack) role sets the AMI and ARI user names
      with it.'
    type: dict
    default: {}
  namespace:
    description:
    - An existing namespace to put the resources in; no Namespace resource is made. Default is a namespace
      of the deployment's name, made with the resources.
    type: str
  image_pull_secrets:
    description:
    - Secrets of the namespace (of type C(kubernetes.io/dockerconfigjson)) every pod pulls its image with.
    type: list
    elements: str
    default: []
  registry_accounts:
    description:
    - 'Registry accounts as the C(voiceops.avr.stack) role takes them (C(stack_registry_accounts)). An
      account whose C(credential_ref) is a Kubernetes Secret (V(k8s:<namespace>/<name>) or C({k8s: <namespace>/<name>}))
      adds that Secret to the pods'' C(imagePullSecrets); its namespace must be the namespace of the resources.
      Other accounts are left to C(docker login).'
    type: list
    elements: dict
    default: []
  volume_size:
    description:
    - Storage each PersistentVolumeClaim the manifests make asks for.
    type: str
    default: 1Gi
attributes:
  diff_mode:
    support: full
    details:
    - The manifests file is shown as it is (it holds no secret); configuration files and kept credentials
      are never shown.
seealso:
- module: voiceops.avr.voice_compose
- module: kubernetes.core.k8s
notes:
- The registry, any catalog and the rendering stay on the controller; the target runs M(voiceops.avr.project_files)
  once per host to inspect the project, and once more only when a file must change. Nothing here talks
  to a cluster.

"""

EXAMPLES = r"""
---
- name: Write the Kubernetes resources of a deployment
  voiceops.avr.voice_manifests:
    template: openai
    deployment: support
    project_dir: /srv/avr/support
    config_files:
      asterisk/conf/pjsip.conf: asterisk/pjsip.conf.j2
    registry_accounts:
      - name: private
        url: registry.example.org
        username: robot-avr-pull
        credential_ref: k8s:support/registry-pull
  register: manifests

- name: Apply them
  kubernetes.core.k8s:
    state: present
    apply: true
    definition: "{{ manifests.resources }}"
    wait: true
"""

RETURN = r"""
---
dest:
  description: Path of the manifests file on the target.
  returned: always
  type: str
  sample: /srv/avr/support/kubernetes/manifests.yml
manifests:
  description: The manifests file, relative to O(project_dir).
  returned: always
  type: str
  sample: kubernetes/manifests.yml
checksum:
  description: SHA-1 of the manifests file.
  returned: always
  type: str
resources:
  description:
    - The resources, in the order of the file (Namespace, ConfigMaps, claims, then per service its env ConfigMap,
      Service and Deployment), each a mapping ready for the C(definition) option of C(kubernetes.core.k8s).
      They hold no secret value.
  returned: always
  type: list
  elements: dict
namespace:
  description: The namespace of the resources.
  returned: always
  type: str
  sample: support
references:
  description:
    - What the resources name but do not make, for the user to create - each C(kind), C(name) and the C(keys)
      read from it (the Secret C(<deployment>-secrets) of provider keys and secrets, C(<deployment>-files) of
      credential and secret configuration files, the ConfigMap C(<deployment>-values) of missing values, the
      image pull Secrets).
  returned: always
  type: list
  elements: dict
  sample: [{kind: Secret, name: support-secrets, keys: [AMI_PASSWORD, DEEPGRAM_API_KEY, OPENAI_API_KEY]}]
host_network:
  description: The services that run on the node's network (they publish a port that follows the host).
  returned: always
  type: list
  elements: str
  sample: [avr-asterisk]
registry_digest:
  description: SHA-256 of the snapshot of the effective registry; also in the file header and every resource.
  returned: always
  type: str
registry_version:
  description: The registry generation the resources were rendered with.
  returned: always
  type: str
  sample: '2026.06'
registry_version_before:
  description: The generation the header of the project's manifests file named before this task; null without one.
  returned: always
  type: str
deployment:
  description: Name of the deployment.
  returned: always
  type: str
template:
  description: Id of the template rendered.
  returned: always
  type: str
services:
  description: The deployed service names, in registry order.
  returned: always
  type: list
  elements: str
written:
  description: Files written (or that would be, in check mode), relative to O(project_dir).
  returned: always
  type: list
  elements: str
release_files:
  description: The configuration files (and kept credentials, snapshot) a release of this rendering keeps.
  returned: always
  type: list
  elements: str
record:
  description:
    - What a release of this rendering records, as for M(voiceops.avr.voice_compose) (never a key or secret value).
  returned: always
  type: dict
"""
