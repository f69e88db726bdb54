"""app.py (what Spaces runs) and the ``launch()`` it calls: start-up failures are one line, not a traceback."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TAKEN = (
    "Error: Port {port} on 127.0.0.1 is already in use: stop the server using it, or choose another port with "
    "GRADIO_SERVER_PORT (or `rolebot serve --port`)."
)


@pytest.fixture
def taken_port():
    """A loopback port some other program is listening on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


def server_env(tmp_path: Path) -> dict[str, str]:
    """A copy of the index (a start never rebuilds into the repo) and loopback only."""
    shutil.copytree(ROOT / "index", tmp_path / "index")
    return os.environ | {
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "ROLEBOT_INDEX": str(tmp_path / "index"),
    }


def test_app_py_on_a_taken_port_prints_one_line_and_exits_1(taken_port, tmp_path):
    env = server_env(tmp_path) | {"GRADIO_SERVER_PORT": str(taken_port)}
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == TAKEN.format(port=taken_port)
    # And nothing stray at start-up: bm25s used to log "DEBUG bm25s: Building index from tokens".
    assert "DEBUG" not in result.stderr, result.stderr


def test_rolebot_serve_on_a_taken_port_gives_the_same_line(taken_port, tmp_path):
    rolebot = Path(sys.executable).with_name("rolebot")
    result = subprocess.run(
        [str(rolebot), "serve", "--port", str(taken_port)],
        env=server_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [TAKEN.format(port=taken_port)]
