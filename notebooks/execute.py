"""Executes one notebook headlessly with papermill: `execute.py NOTEBOOK OUT [name=value ...]`.

Through papermill's Python API rather than its CLI for two settings the CLI cannot pass: the
kernel manager provisions CurveZMQ keys (`transport_encryption = "auto"`, the kernelspec that
setup.sh installs declares `supported_encryption: curve`), so the kernel talks to papermill
encrypted and ipykernel ≥ 7.3 has no reason to warn that it runs over TCP in plain text;
and it does not interrupt an idle kernel at shutdown (NoInterruptAtShutdown).
Parameters are passed exactly as given: run.sh names only those the notebook declares, so
papermill's `Passed unknown parameter` warning stays meaningful if one ever prints.
"""
import sys
from pathlib import Path

import papermill
from jupyter_client.manager import AsyncKernelManager
from traitlets.config import Config


class NoInterruptAtShutdown(AsyncKernelManager):
    """jupyter_client interrupts a kernel (SIGINT) before asking it to shut down. After the
    last cell the kernel is idle but for the moment it takes to finish its last reply; a SIGINT
    landing there makes ipykernel log `ERROR | KeyboardInterrupt caught in kernel.` on stderr
    (seen once in about 20 runs). There is nothing to interrupt once papermill is done, so
    skip it while shutting down; a kernel that did hang is still killed after shutdown_wait_time.
    """

    async def _async_interrupt_kernel(self):
        if not self.shutting_down:
            await super()._async_interrupt_kernel()


notebook, out, *pairs = sys.argv[1:]
papermill.execute_notebook(
    notebook,
    out,
    parameters=dict(pair.split("=", 1) for pair in pairs),
    kernel_name="python3",
    cwd=str(Path(notebook).parent),
    progress_bar=False,
    config=Config({"KernelManager": {"transport_encryption": "auto"}}),
    kernel_manager_class=NoInterruptAtShutdown,
)
