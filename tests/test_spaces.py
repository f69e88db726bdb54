"""Hugging Face Spaces: README front matter, and a rehearsal of a deploy: the files `rolebot deploy` uploads,
a fresh venv from their requirements.txt alone (as Spaces builds it), then app.py answering."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from gradio_client import Client
from helpers import bench_load, free_port
from test_packaging import pinned, requirements_txt

from bot.deploy import space_files, stage

ROOT = Path(__file__).resolve().parent.parent
SPACES_COLORS = {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}


def front_matter(text: str) -> dict:
    """The YAML between the first two ``---`` lines; Spaces reads it only at the very start of README.md."""
    assert text.startswith("---\n"), "README.md must start with the Spaces front matter"
    block, sep, _ = text[4:].partition("\n---\n")
    assert sep, "front matter is not closed by a '---' line"
    return yaml.safe_load(block)


def test_readme_front_matter_is_valid_spaces_config():
    meta = front_matter((ROOT / "README.md").read_text(encoding="utf-8"))
    assert meta["sdk"] == "gradio"
    assert meta["sdk_version"] == pinned(requirements_txt()["gradio"])
    assert meta["app_file"] == "app.py" and (ROOT / meta["app_file"]).is_file()
    assert tuple(map(int, str(meta["python_version"]).split("."))) >= (3, 10)  # pyproject's requires-python
    assert meta["license"] == "mit"
    assert isinstance(meta["title"], str) and meta["title"]
    assert isinstance(meta["emoji"], str) and meta["emoji"]
    assert {meta["colorFrom"], meta["colorTo"]} <= SPACES_COLORS
    assert isinstance(meta["pinned"], bool)
    assert 0 < len(meta["short_description"]) <= 60  # the Hub rejects longer ones


def test_front_matter_parser_rejects_a_readme_without_it():
    with pytest.raises(AssertionError):
        front_matter("# rolebot\n")


@pytest.mark.slow
def test_the_deployed_files_alone_run_app_py_as_spaces_would(tmp_path, bot):
    """What a Space does with what `rolebot deploy` uploads: pip install -r requirements.txt into a clean
    Python, then python app.py (SPACE_ID set), with no file from this checkout and no torch."""
    space = stage(space_files(), tmp_path / "space")
    venv = tmp_path / "venv"
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "-r", "requirements.txt"],
        cwd=space,
        check=True,
        timeout=1500,
        stdout=subprocess.DEVNULL,
    )
    size = subprocess.run(["du", "-sm", str(venv)], capture_output=True, text=True).stdout.split()[0]
    print(f"\nfresh venv from the Space's requirements.txt: {time.monotonic() - started:.0f} s, {size} MB")
    probe = "import importlib.util as u; print([m for m in ('torch', 'sentence_transformers') if u.find_spec(m)])"
    found = subprocess.run([str(venv / "bin" / "python"), "-c", probe], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"

    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "VIRTUAL_ENV", "GRADIO_", "ROLEBOT_", "HF_"))
    }
    # SPACE_ID as on Spaces; not SYSTEM=spaces, which also starts Gradio's Spaces hot-reloader, and that
    # needs the `spaces` package the Spaces image provides. GRADIO_SERVER_NAME keeps the test on loopback.
    env.update(
        SPACE_ID="rolebot-tests/rolebot",
        GRADIO_SERVER_NAME="127.0.0.1",
        GRADIO_SERVER_PORT=str(port),
        GRADIO_ANALYTICS_ENABLED="False",
        HF_HUB_OFFLINE="1",
        ROLEBOT_DATA=str(tmp_path / "data"),
        ROLEBOT_CACHE=str(tmp_path / "cache"),
    )
    log = (tmp_path / "app.log").open("w")
    process = subprocess.Popen(
        [str(venv / "bin" / "python"), "app.py"], cwd=space, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        bench_load().wait_until_up(url, process, tmp_path / "app.log")
        question = "How is an AI Engineer different from an ML Engineer?"
        result = Client(url, verbose=False).predict(question, api_name="/ask")
        assert result == bot.ask(question, []).to_dict()  # same answer as the Python API in the dev venv
        assert result["in_scope"] and result["sources"]
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()
        shutil.rmtree(venv, ignore_errors=True)  # ~0.5 GB: do not leave it for pytest's tmp retention
    output = (tmp_path / "app.log").read_text()
    assert "Traceback" not in output and "Rebuilding the index" not in output, output[-3000:]
