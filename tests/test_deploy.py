"""bot/deploy.py and `rolebot deploy`: the Space's file set, the Hub calls, and one-line failures (offline here)."""

from __future__ import annotations

import http.server
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_spaces import front_matter

from bot import config, deploy
from bot.cli import cli
from bot.deploy import SpaceFile, space_files, space_readme, stage
from bot.errors import DeployError

ROOT = Path(__file__).resolve().parent.parent
ROLEBOT = Path(sys.executable).with_name("rolebot")


@pytest.fixture(scope="module")
def files() -> list[SpaceFile]:
    return space_files()


def test_the_space_gets_what_it_runs_and_nothing_else(files):
    paths = {f.path for f in files}
    assert {"app.py", "requirements.txt", "README.md"} <= paths
    assert {f"bot/{p.name}" for p in (ROOT / "bot").glob("*.py")} <= paths
    assert {f"corpus/{p.name}" for p in config.corpus_dir().iterdir()} <= paths
    index = {
        "index/manifest.json",
        "index/chunks.json",
        "index/chunks.faiss",
        "index/units.npy",
        "index/vocabulary.npy",
    }
    assert index <= paths
    # The NumPy encoder's files, so the Space needs neither the model package nor torch.
    assert {"model/model.safetensors", "model/tokenizer.json", "model/config.json", "model/modules.json"} <= paths
    assert {"model/1_Pooling/config.json", "model/sentence_bert_config.json"} <= paths
    top = {path.split("/")[0] for path in paths}
    assert top == {
        "app.py",
        "requirements.txt",
        "README.md",
        "bot",
        "corpus",
        "index",
        "model",
    }  # no tests, docs, bench
    assert not [p for p in paths if "__pycache__" in p or p.endswith(".pyc") or "/." in f"/{p}"]
    assert [f.path for f in files] == sorted(paths)  # listed once each, in order


def test_the_space_readme_keeps_the_front_matter_and_links_only_to_uploaded_files(files):
    readme = next(f for f in files if f.path == "README.md").content.decode()
    project = (ROOT / "README.md").read_text(encoding="utf-8")
    assert front_matter(readme) == front_matter(project)  # what the Hub reads: sdk, sdk_version, app_file, ...
    assert readme.startswith(project[: project.index("\n---\n", 4) + 5])  # byte for byte
    # images too (Markdown and HTML); "#section" links lead nowhere on the Space
    links = re.findall(r"\]\(([^)]+)\)", readme) + re.findall(r'src="([^"]+)"', readme)
    local = [link for link in links if "://" not in link]
    assert local and all(link in {f.path for f in files} for link in local), local


def test_the_space_readme_keeps_the_words_of_links_that_would_lead_nowhere():
    project = (
        '---\ntitle: t\n---\n\n# t\n\n![phone](docs/phone.png)\n<img src="docs/a.png" alt="a">\nAsk [your article](#your-article), see\n'
        + ("[design](docs/design.md), [the corpus](corpus/a.md#top) and [MiniLM](https://example.org/m).\n\n## Later\n")
    )
    readme = space_readme(project, {"corpus/a.md"})
    assert "phone" not in readme and "a.png" not in readme and "Later" not in readme
    assert "Ask your article, see\ndesign, [the corpus](corpus/a.md#top) and [MiniLM](https://example.org/m)." in readme


def test_space_readme_needs_front_matter():
    with pytest.raises(DeployError, match="front matter"):
        space_readme("# rolebot\n")


def test_a_stale_index_is_not_deployed(monkeypatch, tmp_path):
    monkeypatch.setenv("ROLEBOT_INDEX", str(tmp_path / "no-index"))
    with pytest.raises(DeployError, match=r"not current .*run `rolebot index` first"):
        space_files()


def test_another_model_is_not_deployed(monkeypatch, tmp_path):
    monkeypatch.setenv("ROLEBOT_MODEL", str(tmp_path))
    with pytest.raises(DeployError, match="default model"):
        space_files()


def test_stage_writes_the_file_set(files, tmp_path):
    folder = stage(files, tmp_path / "space")
    written = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert written == [f.path for f in files]
    assert (folder / "index" / "units.npy").read_bytes() == (config.index_dir() / "units.npy").read_bytes()


class FakeHub:
    """Records the HfApi calls deploy() makes and checks the folder it uploads."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.uploaded: list[str] = []

    def create_repo(self, repo_id: str, **kwargs):
        self.calls.append(("create_repo", {"repo_id": repo_id, **kwargs}))
        return f"https://huggingface.co/spaces/{repo_id}"

    def upload_folder(self, **kwargs):
        self.calls.append(("upload_folder", kwargs))
        folder = Path(kwargs["folder_path"])
        self.uploaded = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_deploy_creates_a_gradio_space_and_mirrors_the_file_set(files, monkeypatch):
    hub = FakeHub()
    monkeypatch.setattr(deploy, "_hub_api", lambda: (hub, "alice"))
    assert deploy.deploy("rolebot", files=files) == "https://huggingface.co/spaces/alice/rolebot"  # NAME: the user's
    (create, created), (upload, uploaded) = hub.calls
    assert create == "create_repo" and upload == "upload_folder"
    assert created == {
        "repo_id": "alice/rolebot",
        "repo_type": "space",
        "space_sdk": "gradio",
        "private": None,
        "exist_ok": True,
    }
    assert uploaded["repo_id"] == "alice/rolebot" and uploaded["repo_type"] == "space"
    assert uploaded["delete_patterns"] == "*"  # files of earlier deploys go; the Hub keeps .gitattributes
    assert hub.uploaded == [f.path for f in files]
    assert not Path(uploaded["folder_path"]).exists()  # the staging folder is cleaned up


def test_deploy_rejects_a_malformed_space_id():
    with pytest.raises(DeployError, match="USER/NAME"):
        deploy.deploy("alice/rolebot/extra", files=[])


def test_cli_dry_run_lists_the_files_without_a_token(monkeypatch, files):
    monkeypatch.setattr(deploy, "_hub_api", lambda: pytest.fail("--dry-run must not contact the Hub"))
    result = CliRunner().invoke(cli, ["deploy", "--space", "alice/rolebot", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Would upload to the Space alice/rolebot:")
    for item in files:
        assert f"  {item.path}\n" in result.stdout
    assert f"{len(files)} files" in result.stdout and "nothing sent" in result.stdout


def test_cli_rejects_a_malformed_space_id_as_a_usage_error():
    result = CliRunner().invoke(cli, ["deploy", "--space", "not a space"])
    assert result.exit_code == 2 and "USER/NAME" in result.stderr


# --- the real command in a new process, with no Hub to talk to --------------------------------------------


def run_deploy(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess, float]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING_FACE"))}
    clean.update({"HF_HOME": str(tmp_path / "hf-home"), "HF_HUB_OFFLINE": "0"} | env)  # no stored token
    started = time.monotonic()
    result = subprocess.run(
        [str(ROLEBOT), "deploy", "--space", "rolebot-tests/rolebot"],
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result, time.monotonic() - started


def assert_one_line_exit_1(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_without_a_token_deploy_says_how_to_log_in(tmp_path):
    result, seconds = run_deploy(tmp_path)
    line = assert_one_line_exit_1(result)
    assert line.startswith("Error: No Hugging Face token: run `hf auth login` or set HF_TOKEN")
    assert seconds < 30


def test_offline_mode_is_named(tmp_path):
    result, _ = run_deploy(tmp_path, HF_TOKEN="hf_rolebot_tests", HF_HUB_OFFLINE="1")
    assert "HF_HUB_OFFLINE is set" in assert_one_line_exit_1(result)


def test_an_unreachable_hub_fails_at_once(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result, seconds = run_deploy(tmp_path, HF_TOKEN="hf_rolebot_tests", HF_ENDPOINT=f"http://127.0.0.1:{port}")
    line = assert_one_line_exit_1(result)
    assert line.startswith(f"Error: Cannot reach the Hugging Face Hub at http://127.0.0.1:{port}")
    assert seconds < 30


def test_a_hub_that_drops_connections_fails_within_the_connect_timeout(tmp_path):
    """A listener whose accept queue is full: Linux drops further SYNs, as a firewall would."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        fillers = []
        for _ in range(3):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        try:
            result, seconds = run_deploy(tmp_path, HF_TOKEN="hf_rolebot_tests", HF_ENDPOINT=f"http://127.0.0.1:{port}")
        finally:
            for filler in fillers:
                filler.close()
    line = assert_one_line_exit_1(result)
    assert "Cannot reach the Hugging Face Hub" in line and "ConnectTimeout" in line
    assert seconds < 30 + config.HUB_CONNECT_TIMEOUT_S


class RejectingHub(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"error": "Invalid credentials in Authorization header"}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def test_a_rejected_token_says_to_log_in_again(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RejectingHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        result, _ = run_deploy(tmp_path, HF_TOKEN="hf_rolebot_tests", HF_ENDPOINT=endpoint)
    finally:
        server.shutdown()
        server.server_close()
    line = assert_one_line_exit_1(result)
    assert line.startswith("Error: The Hub rejected the token") and "hf auth login --force" in line
