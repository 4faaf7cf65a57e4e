#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tenant_allocation
short_description: Allocate the host ports and subnets of the tenants of one host, stably, in one file
version_added: 0.6.0
description:
  - Several deployments ("tenants") share one host, each in C(<root>/<name>). This module gives each
    listed tenant a subnet and the host ports its services publish, and records them on the host in
    C(<root>/tenants.json) (mode 0644; it holds no secret).
  - The whole read, decision and write happens under an exclusive C(flock) of C(<root>/.tenants.lock), so
    runs for different tenants at the same time all end in the file. The file is replaced atomically (a
    temporary file in O(root) with its mode applied, flushed, renamed, the directory flushed), and not
    rewritten when its content stays the same. A temporary file an interrupted run left is removed by the
    next run that writes.
  - A tenant already in the file keeps its subnet and the host ports of every need it has (they are never
    moved, although its own containers hold them now). A need it lacks gets new host ports. A recorded need
    that is no longer listed stays reserved unless O(tenants[].free) is true. A need whose O(tenants[].ports[].purpose)
    or O(tenants[].ports[].size) changed gets new host ports in place of its old ones.
  - New host ports are the lowest run of O(tenants[].ports[].size) consecutive ports of the need's block in
    O(port_blocks) that no tenant in the file holds (present, or absent and kept), that no program on the host
    holds (a TCP socket listening, a UDP socket or an SCTP endpoint bound, on any address, read from
    C(/proc/net/tcp), C(tcp6), C(udp), C(udp6) and C(sctp/eps), whatever the need's protocol), that lies
    outside the host's ephemeral port range (C(/proc/sys/net/ipv4/ip_local_port_range)), and that this run
    gives no other need. Ports Docker publishes without its userland proxy hold no socket; other tenants'
    ports are known from the file.
  - A new tenant's subnet is the first O(subnet_prefix) network of O(subnet_pool) that no tenant in the file
    has and that overlaps no route of the host (C(/proc/net/route), the default route excepted).
  - Tenants are taken in list order. Ports and subnets freed in a run are given to other tenants only by a
    later run (the freed tenant's containers may still hold them).
  - Bad input is refused with one line naming the field and the value, before anything is created or
    changed; so is an allocation file that is a symlink, not a regular file, not JSON, of another schema,
    or inconsistent (two tenants on one host port or on overlapping subnets, named). A block of O(port_blocks)
    that lies wholly inside the host's ephemeral port range is refused too (no port of it could ever be given),
    and so is a need no block has room for (naming the tenant, the service, the container port, the purpose
    and the block); the file is then left as it was.
  - O(root) is created (mode 0755, its missing parents too) when missing, only once every input is checked
    and the run has something to write. In check mode nothing is created, and the file is read under a shared
    lock when the lock file exists.
  - Runs on the managed host; needs Python's standard library only (Linux, for C(/proc)).
author:
  - voiceops.avr contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  root:
    description:
      - The tenants' common root directory, holding C(tenants.json) and C(.tenants.lock). A symlink or a path
        that is not a directory is refused.
    type: path
    required: true
  tenants:
    description: The tenants to allocate (or release), in the order their allocations are decided.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - The tenant's name, unique in the list - lowercase letters, digits, C(_) and C(-), starting with a letter
            or digit, at most 63 characters.
        type: str
        required: true
      state:
        description:
          - V(present) allocates what the tenant lacks. V(absent) allocates nothing; the tenant keeps its recorded
            allocation (reserved, so that nobody else gets its ports) unless O(tenants[].free) is true.
        type: str
        choices: [present, absent]
        default: present
      free:
        description:
          - With O(tenants[].state=absent), remove the tenant from the file, so that a later run may give its
            ports and subnet to another tenant. With O(tenants[].state=present), drop its recorded needs that
            O(tenants[].ports) no longer lists.
        type: bool
        default: false
      ports:
        description:
          - The tenant's port needs, as the C(port_needs) result of M(voiceops.avr.voice_compose) gives them
            (the size of a range may be changed). A need is identified by its service, container port and protocol.
        type: list
        elements: dict
        default: []
        suboptions:
          service:
            description: The registry service name publishing the port.
            type: str
            required: true
          container:
            description: The container port (V(5060)) or range (V(10000-10050)).
            type: str
            required: true
          protocol:
            description: The protocol of the published port.
            type: str
            choices: [tcp, udp, sctp]
            default: tcp
          purpose:
            description: The key of O(port_blocks) to take the host ports from.
            type: str
            required: true
          size:
            description:
              - How many consecutive host ports, at least 1. Without it, as many as O(tenants[].ports[].container)
                has. Unless O(tenants[].ports[].follows_host) is true it must be the container range's size.
            type: int
          follows_host:
            description:
              - The service is configured with its host ports (an RTP range, a SIP port it advertises) - the published
                spec maps each host port onto the same container port (V(H:H), V(A-B:A-B)). Otherwise onto
                O(tenants[].ports[].container) (V(H:C), V(A-B:C-D)).
            type: bool
            default: false
  port_blocks:
    description:
      - The blocks of host ports per purpose (for example V(sip), V(rtp), V(ami), V(ari), V(core), V(web)), each
        V(START-END) within 1-65535. Blocks may not overlap each other.
    type: dict
    required: true
  subnet_pool:
    description: The IPv4 network the tenants' subnets are taken from.
    type: str
    default: 10.201.0.0/16
  subnet_prefix:
    description: The prefix length of each tenant's subnet, from the pool's own prefix length to 30.
    type: int
    default: 24
attributes:
  check_mode:
    support: full
    details: Nothing is created or written (not O(root), not the lock file); the result and the diff are the same.
  diff_mode:
    support: full
    details: The text of C(tenants.json) before and after.
  idempotent:
    description: Running the task again with the same inputs reports no change (the file and its mtime are kept).
    support: full
  platform:
    platforms: posix
    details: Linux (the host's sockets, ephemeral port range and routes are read from C(/proc)).
notes:
  - The module does not publish or open any port; feed RV(tenants) C(ports) to M(voiceops.avr.voice_compose) C(ports).
seealso:
  - module: voiceops.avr.voice_compose
  - module: voiceops.avr.preflight
"""

EXAMPLES = r"""
---
- name: Allocate two tenants' ports and subnets
  voiceops.avr.tenant_allocation:
    root: /srv/avr
    port_blocks:
      sip: 5060-5259
      rtp: 20000-29999
      ami: 15038-15237
      ari: 18088-18287
      core: 16001-16200
      web: 8080-8279
    tenants:
      - name: sales
        ports:
          - {service: avr-asterisk, container: "5060", protocol: tcp, purpose: sip, follows_host: true}
          - {service: avr-asterisk, container: 10000-10050, protocol: udp, purpose: rtp, size: 100, follows_host: true}
          - {service: avr-asterisk, container: "5038", protocol: tcp, purpose: ami}
      - name: support
        ports:
          - {service: avr-asterisk, container: "5060", protocol: tcp, purpose: sip, follows_host: true}
  register: allocation

- name: Render the sales tenant with its host ports
  voiceops.avr.voice_compose:
    template: openai
    project_dir: /srv/avr/sales
    ports: "{{ allocation.tenants.sales.ports }}"

- name: Remove a tenant and give its ports back (a later run may reuse them)
  voiceops.avr.tenant_allocation:
    root: /srv/avr
    port_blocks: {sip: 5060-5259}
    tenants:
      - {name: support, state: absent, free: true}
"""

RETURN = r"""
---
path:
  description: The allocation file.
  returned: always
  type: str
  sample: /srv/avr/tenants.json
tenants:
  description:
    - Per listed tenant (absent ones too), its allocation. A tenant that is not recorded (freed, or absent and
      never allocated) has a null C(subnet) and empty C(ports) and C(by_purpose).
  returned: success
  type: dict
  contains:
    subnet:
      description: The tenant's subnet.
      type: str
      sample: 10.201.0.0/24
    state:
      description: V(present) or V(absent), as recorded.
      type: str
    ports:
      description:
        - Per service, the published-port specs of the tenant's listed needs that have host ports, in the order
          of O(tenants[].ports) - ready for M(voiceops.avr.voice_compose) C(ports). No protocol suffix for tcp.
      type: dict
      sample: {avr-asterisk: ["5060:5060", "20000-20099:20000-20099/udp", "15038:5038"]}
    by_purpose:
      description:
        - Per purpose, the tenant's listed needs with C(service), C(container), C(protocol), C(host_start) and
          C(host_end).
      type: dict
      sample: {sip: [{service: avr-asterisk, container: "5060", protocol: tcp, host_start: 5060, host_end: 5060}]}
added:
  description: The tenants newly recorded by this run (or that would be, in check mode).
  returned: success
  type: list
  elements: str
freed:
  description: The tenants removed from the file by this run (or that would be, in check mode).
  returned: success
  type: list
  elements: str
"""

import errno
import fcntl
import os
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible_collections.voiceops.avr.plugins.module_utils import allocation
from ansible_collections.voiceops.avr.plugins.module_utils.allocation import AllocationError
from ansible_collections.voiceops.avr.plugins.module_utils.atomic import remove_temps, replace_file

PROC_TABLES = ("tcp", "tcp6", "udp", "udp6", "sctp/eps")


def _read_text(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return ""


def host_state():
    """The ports held on the host, its ephemeral port range and its routes (from /proc)."""
    held = allocation.held_ports(dict((table, _read_text("/proc/net/" + table)) for table in PROC_TABLES))
    ephemeral = allocation.ephemeral_range(_read_text("/proc/sys/net/ipv4/ip_local_port_range"))
    return held, ephemeral, allocation.routes(_read_text("/proc/net/route"))


def check_root(root):
    """Whether ``root`` exists; refused when it is a symlink or not a directory."""
    try:
        st = os.lstat(root)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise AllocationError("root: cannot read %r: %s" % (root, os.strerror(exc.errno))) from None
    if stat.S_ISLNK(st.st_mode):
        raise AllocationError("root: %r is a symlink (to %r); give the directory itself" % (root, os.readlink(root)))
    if not stat.S_ISDIR(st.st_mode):
        raise AllocationError("root: %r exists and is not a directory" % root)
    return True


def read_file(path):
    """The allocation file's text, or None when there is none; refused unless a regular file."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(st.st_mode):
        raise AllocationError("%s: is a symlink (to %r); refusing to read or replace it through a link"
                              % (path, os.readlink(path)))
    if not stat.S_ISREG(st.st_mode):
        raise AllocationError("%s: is not a regular file" % path)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as handle:
        data = handle.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AllocationError("%s: not UTF-8 text (byte %d); fix or remove the file" % (path, exc.start)) from None


class Plan(object):
    """One decision: the file read, the host read, the new content."""

    def __init__(self, path, inputs):
        self.before = read_file(path)
        current = allocation.load(self.before, path) if self.before is not None else allocation.empty()
        held, ephemeral, host_routes = host_state()
        blocks = allocation.check_blocks(inputs["port_blocks"], ephemeral)
        self.state, self.added, self.freed = allocation.decide(
            current, inputs["tenants"], blocks, inputs["port_blocks"], inputs["pool"], inputs["prefix"],
            held, ephemeral, host_routes)
        self.after = allocation.dump(self.state)
        if self.before is None and not self.state["tenants"]:
            self.after = None  # nothing to record: no file is made for it
        self.changed = self.after is not None and self.after != self.before


def _lock(path, shared):
    """Open and flock the lock file; in shared mode only when it exists (then it is never created)."""
    if shared:
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return None
    else:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), allocation.FILE_MODE)
    fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
    return fd


def _unlock(fd):
    if fd is not None:
        os.close(fd)


def run(module):
    params = module.params
    root = params["root"]
    path = os.path.join(root, allocation.FILE_NAME)
    lock_path = os.path.join(root, allocation.LOCK_NAME)
    # every input first, before the host or a file is looked at
    blocks = allocation.check_blocks(params["port_blocks"])
    inputs = {
        "port_blocks": params["port_blocks"],
        "tenants": allocation.check_tenants(params["tenants"], blocks),
        "pool": allocation.check_pool(params["subnet_pool"], params["subnet_prefix"]),
        "prefix": params["subnet_prefix"],
    }
    exists = check_root(root)
    # a read-only decision (shared lock when the lock file exists): a refusal here creates nothing
    lock = _lock(lock_path, shared=True) if exists else None
    try:
        plan = Plan(path, inputs)
    finally:
        _unlock(lock)
    if plan.changed and not module.check_mode:
        if not exists:
            try:
                os.makedirs(root, allocation.ROOT_MODE)
                os.chmod(root, allocation.ROOT_MODE)
            except FileExistsError:
                check_root(root)  # made meanwhile by a concurrent run (or a file: refused)
            except OSError as exc:
                raise AllocationError("root: cannot create %r: %s" % (root, os.strerror(exc.errno))) from None
        lock = _lock(lock_path, shared=False)
        try:
            remove_temps(path)
            plan = Plan(path, inputs)  # again under the exclusive lock: what another run wrote meanwhile counts
            if plan.changed:
                try:
                    replace_file(path, to_bytes(plan.after), allocation.FILE_MODE)
                except (IOError, OSError) as exc:
                    cause = os.strerror(exc.errno) if exc.errno else to_native(exc)
                    raise AllocationError("%s: cannot write it: %s; the file was left as it was"
                                          % (path, cause)) from None
        finally:
            _unlock(lock)
    result = {
        "changed": plan.changed,
        "path": path,
        "tenants": allocation.view(plan.state, inputs["tenants"]),
        "added": plan.added,
        "freed": plan.freed,
    }
    if module._diff:
        result["diff"] = {"before": plan.before or "", "after": plan.after or "",
                          "before_header": path, "after_header": path}
    return result


def main():
    need = dict(
        service=dict(type="str", required=True),
        container=dict(type="str", required=True),
        protocol=dict(type="str", choices=list(allocation.PROTOCOLS), default="tcp"),
        purpose=dict(type="str", required=True),
        size=dict(type="int"),
        follows_host=dict(type="bool", default=False),
    )
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type="path", required=True),
            tenants=dict(type="list", elements="dict", required=True, options=dict(
                name=dict(type="str", required=True),
                state=dict(type="str", choices=list(allocation.STATES), default="present"),
                free=dict(type="bool", default=False),
                ports=dict(type="list", elements="dict", default=[], options=need),
            )),
            port_blocks=dict(type="dict", required=True),
            subnet_pool=dict(type="str", default="10.201.0.0/16"),
            subnet_prefix=dict(type="int", default=24),
        ),
        supports_check_mode=True,
    )
    try:
        result = run(module)
    except AllocationError as exc:
        module.fail_json(msg=" ".join(str(exc).split()))
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT and exc.filename:
            module.fail_json(msg="%s: %s" % (exc.filename, os.strerror(exc.errno)))
        module.fail_json(msg="tenant allocation under %s failed: %s" % (module.params["root"], to_native(exc)))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
