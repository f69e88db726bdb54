"""Installing rolebot: the Makefile's torch step (CPU index first, quick fallback), no CUDA packages in the
development venv, and a serving-only venv (no torch) that answers."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from base64 import urlsafe_b64encode
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
COMPARE = "How is an AI Engineer different from an ML Engineer?"


def cuda_packages(names: set[str]) -> set[str]:
    return {name for name in names if name.startswith("nvidia-") or name == "triton"}


def test_the_development_venv_has_no_cuda_packages():
    names = {canonicalize_name(d.metadata["Name"]) for d in importlib.metadata.distributions()}
    assert "torch" in names  # the venv `make setup` made, which builds the index too
    assert cuda_packages(names) == set()


def test_cuda_package_names_are_recognised():
    assert cuda_packages({"nvidia-cublas-cu12", "triton", "torch", "tritonclient"}) == {"nvidia-cublas-cu12", "triton"}


# --- the Makefile's torch step, against package indexes made here ---------------------------------------


def fake_torch_index(folder: Path, version: str) -> str:
    """A PEP 503 index holding one tiny wheel named torch (no dependencies); returns its file:// URL."""
    project = folder / "simple" / "torch"
    project.mkdir(parents=True)
    wheel_name = f"torch-{version}-py3-none-any.whl"
    info = f"torch-{version}.dist-info"
    files = {
        "torch/__init__.py": f"__version__ = {version!r}\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: torch\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: rolebot-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for name, text in files.items():
        digest = urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    with zipfile.ZipFile(project / wheel_name, "w") as wheel:
        for name, text in files.items():
            wheel.writestr(name, text)
    (project / "index.html").write_text(f'<a href="{wheel_name}">{wheel_name}</a>\n', encoding="utf-8")
    return (folder / "simple").as_uri()


@pytest.fixture
def silent_index():
    """An http:// address whose server accepts connections and never answers, like a dropped route."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        yield f"http://127.0.0.1:{server.getsockname()[1]}/whl/cpu"


def make_torch(tmp_path: Path, torch_index: str, default_index: str) -> tuple[subprocess.CompletedProcess, float]:
    """`make torch` into a new venv, with pip seeing only the two given indexes (not this machine's pip.conf)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PIP_", "MAKE"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_INDEX_URL=default_index, PIP_DISABLE_PIP_VERSION_CHECK="1")
    started = time.monotonic()
    result = subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "torch", f"VENV={venv}", f"TORCH_INDEX={torch_index}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result, time.monotonic() - started


def installed_torch(tmp_path: Path) -> str:
    python = tmp_path / "venv" / "bin" / "python"
    return subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('torch'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def test_make_torch_takes_the_cpu_build_from_pytorchs_index(tmp_path):
    cpu = fake_torch_index(tmp_path / "cpu", "2.13.0+cpu")
    default = fake_torch_index(tmp_path / "default", "2.13.0")
    result, _ = make_torch(tmp_path, cpu, default)
    assert result.returncode == 0, result.stderr
    assert "did not provide torch" not in result.stderr
    assert installed_torch(tmp_path) == "2.13.0+cpu"


def test_make_torch_falls_back_to_the_default_index_within_seconds(tmp_path, silent_index):
    default = fake_torch_index(tmp_path / "default", "2.13.0")
    result, seconds = make_torch(tmp_path, silent_index, default)
    assert result.returncode == 0, result.stderr
    assert "PyTorch's CPU wheel index did not provide torch" in result.stderr
    assert "No matching distribution found for torch" in (tmp_path / "venv" / "torch-cpu-index.log").read_text()
    assert installed_torch(tmp_path) == "2.13.0"
    assert seconds < 30, f"the fallback took {seconds:.0f} s (pip's --timeout 5 and no retries should bound it)"


# --- a serving-only install ---------------------------------------------------------------------------------


def run(command: list[str], env: dict | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(command, env=os.environ | (env or {}), capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_a_serving_install_answers_without_torch(tmp_path, bot):
    """`make serving`: rolebot with its serving dependencies and the model package installed --no-deps."""
    venv = tmp_path / "venv"
    started = time.monotonic()
    made = run(["make", "--no-print-directory", "-C", str(ROOT), "serving", f"SERVING_VENV={venv}"], timeout=1200)
    assert made.returncode == 0, made.stderr[-3000:]
    size = subprocess.run(["du", "-sm", str(venv)], capture_output=True, text=True).stdout.split()[0]
    print(f"\nserving venv: {time.monotonic() - started:.0f} s to build, {size} MB")
    try:
        python, rolebot = venv / "bin" / "python", venv / "bin" / "rolebot"
        probe = "import importlib.util as u; print([m for m in ('torch', 'sentence_transformers', 'transformers') if u.find_spec(m)])"
        assert run([str(python), "-c", probe]).stdout.strip() == "[]"

        index = tmp_path / "index"
        shutil.copytree(ROOT / "index", index)
        asked = run([str(rolebot), "ask", "--json", COMPARE], env={"ROLEBOT_INDEX": str(index)})
        assert asked.returncode == 0, asked.stderr
        assert json.loads(asked.stdout) == bot.ask(COMPARE).to_dict()  # the same answer as the full install

        # A missing index is rebuilt here too, by the NumPy encoder serving uses (no torch): the same answer.
        rebuilt = tmp_path / "no-index"
        missing = run([str(rolebot), "ask", "--json", COMPARE], env={"ROLEBOT_INDEX": str(rebuilt)})
        assert missing.returncode == 0 and "Traceback" not in missing.stderr, missing.stderr
        assert (rebuilt / "manifest.json").is_file()
        assert json.loads(missing.stdout)["answer"] == bot.ask(COMPARE).answer
    finally:
        shutil.rmtree(venv, ignore_errors=True)
