"""A jupyter_client kernel manager whose kernels run in the coopkit jail (see jail.py).

The kernel's network namespace has only its own loopback, so the manager and
the kernel talk over unix sockets (ZeroMQ's ``ipc`` transport) in a folder
bound into the sandbox at the same path. A message over 32 MB from the kernel
is dropped by ZeroMQ before it is read. Interrupts are sent as messages on
the control channel: a signal to the launcher would not reach a kernel in
another PID namespace and session.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import zmq
import zmq.asyncio
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.utils import run_sync
from traitlets import Dict

KIT = "/kit"
SUBMISSION = "/submission"
REPORTS = "/reports"
MESSAGE_BYTES = 32 * 1024 * 1024


def python_binds() -> list[list[str]]:
    """The virtual environment of this Python (its site-packages hold ipykernel) and the coopkit package."""
    binds = []
    prefix = os.path.realpath(sys.prefix)
    if prefix != os.path.realpath(sys.base_prefix) and not prefix.startswith("/usr/"):
        binds.append([prefix, prefix])
    package = str(Path(__file__).resolve().parent.parent)
    if not package.startswith(prefix + os.sep):  # an editable install: the package lives in the kit
        binds.append([package, package])
    return binds


class SandboxedKernelManager(AsyncKernelManager):
    """Starts the kernel through ``python -m coopkit.kernels.jail`` with the binds in ``jail``."""

    jail = Dict(help="ro binds, env, chdir for the kernel's sandbox; set by SandboxedExecute").tag(config=False)

    def prepare(self, folder: Path, jail: dict) -> None:
        """Put the connection file and sockets in ``folder`` (bound read-write into the sandbox)."""
        self.transport = "ipc"
        self.ip = str(folder / "kernel")
        self.connection_file = str(folder / "connection.json")
        self.jail = {**jail, "rw": [[str(folder), str(folder)]]}
        self._spec_file = folder / "jail.json"

    def format_kernel_cmd(self, extra_arguments=None) -> list[str]:
        argv = super().format_kernel_cmd(extra_arguments)
        if not self.jail:
            raise RuntimeError("SandboxedKernelManager.prepare() was not called: refusing to start an unsandboxed kernel")
        self._spec_file.write_text(json.dumps(self.jail), encoding="utf-8")
        os.chmod(self._spec_file, 0o600)
        return [sys.executable, "-m", "coopkit.kernels.jail", str(self._spec_file), "--", *argv]

    async def _async_interrupt_kernel(self) -> None:
        if self.has_kernel:
            self._connect_control_socket()
            self.session.send(self._control_socket, self.session.msg("interrupt_request", content={}))

    interrupt_kernel = run_sync(_async_interrupt_kernel)

    def client(self, **kwargs):
        """A client whose sockets drop any message over ``MESSAGE_BYTES`` (a kernel cannot flood this process)."""
        context = zmq.asyncio.Context()
        context.setsockopt(zmq.MAXMSGSIZE, MESSAGE_BYTES)
        client = super().client(context=context, **kwargs)
        client._created_context = True  # the client owns it and destroys it with its channels
        return client
