"""Executes one notebook headlessly with papermill: `execute.py NOTEBOOK OUT [name=value ...]`.

Through papermill's Python API rather than its CLI for one setting the CLI cannot pass: the
kernel manager provisions CurveZMQ keys (`transport_encryption = "auto"`, the kernelspec that
setup.sh installs declares `supported_encryption: curve`), so the kernel talks to papermill
encrypted and ipykernel ≥ 7.3 has no reason to warn that it runs over TCP in plain text.
Parameters are passed exactly as given: run.sh names only those the notebook declares, so
papermill's `Passed unknown parameter` warning stays meaningful if one ever prints.
"""
import sys
from pathlib import Path

import papermill
from traitlets.config import Config

notebook, out, *pairs = sys.argv[1:]
papermill.execute_notebook(
    notebook,
    out,
    parameters=dict(pair.split("=", 1) for pair in pairs),
    kernel_name="python3",
    cwd=str(Path(notebook).parent),
    progress_bar=False,
    config=Config({"KernelManager": {"transport_encryption": "auto"}}),
)
