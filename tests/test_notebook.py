"""examples/explore.ipynb runs top to bottom on the bundled samples and shows its answers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

NOTEBOOK = ROOT / "examples" / "explore.ipynb"


def test_notebook_is_stored_without_outputs() -> None:
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    code = [cell for cell in cells if cell["cell_type"] == "code"]
    assert code
    assert all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code)


def _python3_kernel_is_this_python() -> bool:
    """Whether the ``python3`` kernelspec starts this interpreter (this venv, with logflow)."""
    from jupyter_client.kernelspec import NoSuchKernel
    from jupyter_client.manager import KernelManager

    try:
        # As jupyter_client starts it: a spec's bare `python` becomes sys.executable.
        python = KernelManager(kernel_name="python3").format_kernel_cmd()[0]
    except NoSuchKernel:
        return False
    try:
        probe = subprocess.run(
            [python, "-c", "import sys, ipykernel, logflow; print(sys.prefix)"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except OSError:
        return False
    return probe.returncode == 0 and probe.stdout.strip() == sys.prefix


def _outputs(nb) -> tuple[str, int]:
    """The text the executed notebook shows (printed, and tables' plain form), and its plots."""
    text, images = [], 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output["output_type"] == "stream":
                text.append(output["text"])
            elif output["output_type"] in ("execute_result", "display_data"):
                images += "image/png" in output["data"]
                text.append(output["data"].get("text/plain", ""))
    return "\n".join(text), images


def test_notebook_runs_and_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Jupyter's own dirs, IPython's profile, matplotlib's and any XDG cache (logflow's own
    # among them) go to tmp, not to $HOME; JUPYTER_PLATFORM_DIRS=1 opts in to the
    # platformdirs paths jupyter_core otherwise warns it will move to.
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "matplotlib"))
    # The notebook's extra, `logflow[notebook]`.
    for module in ("duckdb", "matplotlib", "ipykernel"):
        pytest.importorskip(module)
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")

    if not _python3_kernel_is_this_python():
        # A python3 kernelspec running this interpreter, found first (JUPYTER_PATH leads).
        from ipykernel.kernelspec import install

        install(prefix=str(tmp_path / "kernel"))
        monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "kernel" / "share" / "jupyter"))
        assert _python3_kernel_is_this_python()

    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    )
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails

    text, images = _outputs(nb)
    assert images >= 2  # failures by address, and the race on a time axis
    # 1. failures: the connections that failed, with their errors.
    for shown in ("EHOSTUNREACH", "EPERM", "EAI_NONAME", "ECONNREFUSED", "ETIMEDOUT"):
        assert shown in text
    # 2. races.
    assert "IPv6 won 3 of 7 decided races; 2 of the 4 where both IPv6 and IPv4" in text
    assert "The race sample: C8.1.1 (ipv6) won in 187 ms" in text
    assert "C8.1.2 (ipv4) gave up after 86.5 ms" in text
    assert "Remote C1.1.1 (also-ran)" in text  # the server's probable also-ran, linked
    # 3. the proxy failure.
    assert (
        "Ledgerly C1.1: privacy (MASQUE relay) https://relay.ledgerly-edge.net:443 failed "
        "(C1.1.1: ECONNABORTED, Software caused connection abort); fell back to C1.2, "
        "which won, ready 135 ms after the failure."
    ) in text
    # 4. the system-wide path change.
    assert (
        "System-wide change 1 in sample_logs/console-network-change.tsv.log: "
        "address families (none) -> ipv6 on C1, C2"
    ) in text
