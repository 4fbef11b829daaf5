"""The seccomp filter every sandbox runs under, as the classic BPF program bwrap's ``--seccomp`` reads."""

from __future__ import annotations

import platform
import struct

# Syscalls a sandbox never needs and that reach outside it (another process's memory, the
# kernel keyrings, which are not namespaced) or widen the kernel's attack surface.
DENIED_SYSCALLS = {
    "x86_64": (0xC000003E, {"ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "add_key": 248,
                            "request_key": 249, "keyctl": 250, "perf_event_open": 298, "bpf": 321, "userfaultfd": 323}),
    "aarch64": (0xC00000B7, {"ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "add_key": 217,
                             "request_key": 218, "keyctl": 219, "perf_event_open": 241, "bpf": 280, "userfaultfd": 282}),
}


def seccomp_program(machine: str | None = None) -> bytes | None:
    """A classic BPF seccomp program (for bwrap's ``--seccomp``): EPERM for ``DENIED_SYSCALLS``, and for
    any other architecture's calling convention; None on an architecture this table does not know."""
    known = DENIED_SYSCALLS.get(machine or platform.machine())
    if known is None:
        return None
    arch, numbers = known
    load, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06
    allow, deny = 0x7FFF0000, 0x00050000 | 1  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | EPERM
    calls = sorted(numbers.values())
    program = [(load, 0, 0, 4), (jeq, 1, 0, arch), (ret, 0, 0, deny), (load, 0, 0, 0)]
    rest = len(calls) + 2  # the checks below, then "allow", then "deny"
    program.append((jge, rest - 1, 0, 0x40000000))  # x32 numbers on x86_64
    for index, number in enumerate(calls):
        program.append((jeq, len(calls) - index, 0, number))
    program += [(ret, 0, 0, allow), (ret, 0, 0, deny)]
    return b"".join(struct.pack("=HBBI", *instruction) for instruction in program)
