"""Faults at start-up: a damaged, stale, half-written or read-only index ends in a transparent rebuild
(or an IndexLoadError naming the file), never in a silently wrong index.

Everything works on copies in tmp_path; the repo's index/ and corpus/ are never written.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bot import Chatbot, IndexLoadError
from bot import index as index_module
from bot.build import LoadedIndex, build_index, load_or_build, save_index, stale_reason
from bot.config import HUB_MODEL, PROJECT_ROOT
from bot.index import CHUNKS_FAISS, CHUNKS_JSON, DATA_FILES, MANIFEST, UNITS_NPY, VOCAB_NPY, KnowledgeIndex

INDEX_FILES = (MANIFEST, *DATA_FILES)
QUESTION = "What tools and frameworks do ML Engineers use?"
EXPECTED = "scikit-learn"  # the comparison table names it for this question (its Frameworks & Tools row)


class FakeEmbedder:
    """Deterministic vectors that are not MiniLM's: an index built with it answers wrongly."""

    def __init__(self, dimension: int = 384, model_id: str = HUB_MODEL) -> None:
        self.dimension = dimension
        self.model_id = model_id

    def encode(self, texts: list[str]) -> np.ndarray:
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            row = np.random.default_rng(seed).standard_normal(self.dimension).astype(np.float32)
            rows.append(row / np.linalg.norm(row))
        return np.vstack(rows)


@pytest.fixture(scope="session")
def template(tmp_path_factory) -> Path:
    """A current index folder: the committed one, or (while the engine is being changed) a fresh build."""
    committed = PROJECT_ROOT / "index"
    if stale_reason(committed, PROJECT_ROOT / "corpus") is None:
        return committed
    folder = tmp_path_factory.mktemp("template") / "index"
    load_or_build(PROJECT_ROOT / "corpus", folder, rebuild=True)
    return folder


@pytest.fixture
def copies(tmp_path, template) -> tuple[Path, Path]:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(PROJECT_ROOT / "corpus", corpus)
    shutil.copytree(template, index)
    return corpus, index


def answers_correctly(loaded) -> bool:
    reply = Chatbot(loaded).ask(QUESTION)
    return reply.in_scope and EXPECTED in reply.answer.lower()


def damage(path: Path, how: str) -> None:
    if how == "deleted":
        path.unlink()
    elif how == "truncated":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        path.write_bytes(b"\x00\xffnot an index\n" * 64)


# 1. Deleted, truncated, garbage ---------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["deleted", "truncated", "garbage"])
@pytest.mark.parametrize("name", INDEX_FILES)
def test_damaged_file_raises_index_load_error_naming_it(copies, name, how):
    _, index = copies
    damage(index / name, how)
    with pytest.raises(IndexLoadError, match=name.replace(".", r"\.")):
        KnowledgeIndex.load(index)


@pytest.mark.parametrize("how", ["deleted", "truncated", "garbage"])
@pytest.mark.parametrize("name", INDEX_FILES)
def test_damaged_file_makes_the_index_stale(copies, name, how):
    """`rolebot index --check` reports damage too, not only an old manifest."""
    corpus, index = copies
    damage(index / name, how)
    assert name in stale_reason(index, corpus)


# Every damage takes the same path through load_or_build; one kind per file keeps the rebuilds few.
@pytest.mark.parametrize(
    ("name", "how"),
    [
        (MANIFEST, "truncated"),
        (CHUNKS_JSON, "garbage"),
        (CHUNKS_FAISS, "deleted"),
        (UNITS_NPY, "truncated"),
        (VOCAB_NPY, "garbage"),
    ],
)
def test_damaged_file_is_rebuilt_transparently(copies, name, how):
    corpus, index = copies
    damage(index / name, how)
    loaded = load_or_build(corpus, index)
    assert loaded.built and loaded.folder == index
    assert name in loaded.reason
    assert answers_correctly(loaded)
    again = load_or_build(corpus, index)
    assert not again.built, "the rebuilt index was not saved in place"


def test_chatbot_load_rebuilds_a_damaged_index(copies):
    corpus, index = copies
    damage(index / UNITS_NPY, "garbage")
    bot = Chatbot.load(corpus=corpus, index=index)
    assert bot.loaded.built
    reply = bot.ask(QUESTION)
    assert reply.in_scope and EXPECTED in reply.answer.lower()


@pytest.mark.parametrize(
    "edit",
    [
        {"files": "not a dict"},
        {"files": None},
        {"counts": {"chunks": 1, "units": 1, "vocabulary": 1}},
        {"format": 999},
    ],
)
def test_inconsistent_manifest_is_an_error_not_a_crash(copies, edit):
    _, index = copies
    manifest = json.loads((index / MANIFEST).read_text())
    (index / MANIFEST).write_text(json.dumps(manifest | edit))
    with pytest.raises(IndexLoadError, match=MANIFEST.replace(".", r"\.")):
        KnowledgeIndex.load(index)


# 2. Another model or dimension ----------------------------------------------------------------------------------


def test_manifest_from_another_model_is_rebuilt(copies):
    corpus, index = copies
    manifest = json.loads((index / MANIFEST).read_text())
    (index / MANIFEST).write_text(json.dumps(manifest | {"model": "someone/other-model"}))
    assert "someone/other-model" in stale_reason(index, corpus)
    loaded = load_or_build(corpus, index)
    assert loaded.built and "someone/other-model" in loaded.reason
    assert answers_correctly(loaded)


def test_manifest_with_another_dimension_is_rebuilt(copies):
    corpus, index = copies
    manifest = json.loads((index / MANIFEST).read_text())
    (index / MANIFEST).write_text(json.dumps(manifest | {"dimension": 768}))
    loaded = load_or_build(corpus, index)
    assert loaded.built and "768" in loaded.reason
    assert answers_correctly(loaded)


def test_index_of_another_dimension_under_the_same_model_name_is_rebuilt(copies):
    """A whole, self-consistent index whose vectors the query model cannot search (8 dims, not 384)."""
    corpus, index = copies
    other, manifest = build_index(corpus, embedder=FakeEmbedder(dimension=8))
    shutil.rmtree(index)
    save_index(other, manifest, index)
    assert KnowledgeIndex.load(index).dimension == 8  # valid as files, wrong for the model
    loaded = load_or_build(corpus, index)
    assert loaded.built and loaded.index.dimension == 384
    assert answers_correctly(loaded)


# 3. Corpus edited after the build -------------------------------------------------------------------------------

NEW_SECTION = """

## Robustness Drill

An AI Engineer at Zanzibar Labs calibrates quokka telemetry pipelines every Thursday.
"""


def test_edited_corpus_is_rebuilt_and_the_new_text_answerable(copies):
    corpus, index = copies
    article = next(corpus.glob("*.md"))
    article.write_text(article.read_text(encoding="utf-8") + NEW_SECTION, encoding="utf-8")
    bot = Chatbot.load(corpus=corpus, index=index)
    assert bot.loaded.built and "changed" in bot.loaded.reason
    reply = bot.ask("What does an AI Engineer at Zanzibar Labs calibrate?")
    assert reply.in_scope and "quokka telemetry" in reply.answer
    assert stale_reason(index, corpus) is None


def test_corpus_edited_during_a_build_leaves_the_index_stale(copies, monkeypatch):
    """The fingerprint is taken before reading: an edit mid-build shows up at the next start."""
    corpus, index = copies
    article = next(corpus.glob("*.md"))
    from bot import build as build_module

    real_load = build_module.load_corpus

    def load_then_edit(folder):
        docs = real_load(folder)
        article.write_text(article.read_text(encoding="utf-8") + NEW_SECTION, encoding="utf-8")
        return docs

    monkeypatch.setattr(build_module, "load_corpus", load_then_edit)
    built, manifest = build_index(corpus, embedder=FakeEmbedder())
    save_index(built, manifest, index)
    assert "changed" in stale_reason(index, corpus)


# 4. SIGKILL in the middle of a rebuild --------------------------------------------------------------------------


def child_env(corpus: Path, index: Path) -> dict[str, str]:
    return dict(
        os.environ,
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        PYTHONUNBUFFERED="1",
        ROLEBOT_CORPUS=str(corpus),
        ROLEBOT_INDEX=str(index),
    )


def kill_when(command: list[str], env: dict, stream: str, line: str, delay: float = 0.0) -> list[str]:
    """Run ``command``, SIGKILL it ``delay`` s after it prints ``line`` (or when it ends); return what it printed."""
    child = subprocess.Popen(
        command,
        stdout=subprocess.PIPE if stream == "stdout" else subprocess.DEVNULL,
        stderr=subprocess.PIPE if stream == "stderr" else subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
    )
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 120
        for raw in getattr(child, stream):
            seen.append(raw.strip())
            if raw.strip() == line or time.monotonic() > deadline:
                time.sleep(delay)
                break
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)
    return seen


def assert_old_or_rebuilt(corpus: Path, index: Path, before: dict[str, bytes]) -> LoadedIndex:
    """The next start either loads an index whose every file its manifest vouches for, or rebuilds."""
    loaded = load_or_build(corpus, index)
    if not loaded.built:
        manifest = json.loads((index / MANIFEST).read_text())
        for name in DATA_FILES:
            assert hashlib.sha256((index / name).read_bytes()).hexdigest() == manifest["files"][name]
        if (index / MANIFEST).read_bytes() == before[MANIFEST]:
            assert all((index / name).read_bytes() == before[name] for name in DATA_FILES)
    assert answers_correctly(loaded)
    assert stale_reason(index, corpus) is None
    return loaded


@pytest.mark.slow
@pytest.mark.parametrize(("line", "delay"), [("loading model…", 0.0), ("embedding…", 0.0), ("embedding…", 1.5)])
def test_kill_rolebot_index_rebuild(copies, line, delay):
    """SIGKILL `rolebot index --rebuild` at stages it reports on stderr (progress lines when not a terminal)."""
    corpus, index = copies
    before = {name: (index / name).read_bytes() for name in INDEX_FILES}
    seen = kill_when(
        [sys.executable, "-m", "bot", "index", "--rebuild"], child_env(corpus, index), "stderr", line, delay
    )
    assert line in seen, seen
    loaded = assert_old_or_rebuilt(corpus, index, before)
    if delay == 0.0:  # killed before the save began: the old index is intact and no rebuild is needed
        assert not loaded.built
        assert all((index / name).read_bytes() == before[name] for name in INDEX_FILES)


# Rebuilds with noise vectors (so every vector file differs from the index on disk) and pauses after a
def test_two_starts_rebuilding_the_same_folder_at_once_leave_a_valid_index(copies):
    """Two workers starting together on a damaged index both rebuild; files land whole (unique temp names)."""
    from concurrent.futures import ThreadPoolExecutor

    corpus, index = copies
    damage(index / CHUNKS_JSON, "truncated")
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: load_or_build(corpus, index), range(2)))
    assert all(answers_correctly(loaded) for loaded in results)
    assert stale_reason(index, corpus) is None
    assert not load_or_build(corpus, index).built
    assert not list(index.glob(".*.tmp"))


def test_a_later_save_removes_temp_files_a_killed_save_left(copies):
    """SIGKILL skips cleanup; the next save removes old leftovers but not a temp file another save is writing."""
    corpus, index = copies
    old, fresh = index / f".{UNITS_NPY}.killed.tmp", index / f".{CHUNKS_FAISS}.writing.tmp"
    for path in (old, fresh):
        path.write_bytes(b"half a file")
    hours_ago = time.time() - 2 * index_module.LEFTOVER_AGE_S
    os.utime(old, (hours_ago, hours_ago))
    built, manifest = build_index(corpus, embedder=FakeEmbedder())
    save_index(built, manifest, index)
    assert not old.exists() and fresh.exists()


# chosen file has landed, so the test can kill between two files of one save.
SAVE_SCRIPT = """
import sys, time
from pathlib import Path
import numpy as np
import bot.index as index_module
from bot.build import build_index, save_index
from bot.config import HUB_MODEL

class Noise:
    model_id, dimension = HUB_MODEL, 384
    def encode(self, texts):
        v = np.random.default_rng(len(texts)).standard_normal((len(texts), 384)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

real_write = index_module._atomic_write

def write(path, data):
    real_write(path, data)
    print("wrote", path.name, flush=True)
    if path.name == sys.argv[3]:
        time.sleep(120)

index_module._atomic_write = write
built, manifest = build_index(Path(sys.argv[1]), embedder=Noise())
save_index(built, manifest, Path(sys.argv[2]))
"""


@pytest.mark.parametrize("name", [CHUNKS_FAISS, UNITS_NPY, VOCAB_NPY])
def test_kill_between_files_of_a_save_is_caught_by_checksums(copies, name):
    """New vector files beside the old manifest must not load as a valid index: checksums catch it."""
    corpus, index = copies
    command = [sys.executable, "-c", SAVE_SCRIPT, str(corpus), str(index), name]
    seen = kill_when(command, child_env(corpus, index), "stdout", f"wrote {name}")
    assert seen[-1] == f"wrote {name}", seen
    with pytest.raises(IndexLoadError, match="checksum"):
        KnowledgeIndex.load(index)
    assert "checksum" in stale_reason(index, corpus)
    loaded = load_or_build(corpus, index)
    assert loaded.built and "checksum" in loaded.reason
    assert answers_correctly(loaded)


# 5. Read-only index folder --------------------------------------------------------------------------------------


@pytest.fixture
def read_only(monkeypatch):
    """Make a folder unwritable: chmod 0o555, and where that stops nothing (root, as in CI, has
    CAP_DAC_OVERRIDE) fail every index write into it the way a read-only mount does (EROFS), so the code
    under test sees the same OSError either way."""
    chmodded: list[Path] = []
    refused: list[Path] = []

    def make(folder: Path) -> None:
        folder.chmod(0o555)
        chmodded.append(folder)
        probe = folder / ".write-probe"
        try:
            probe.touch()
        except OSError:
            return  # chmod works here
        probe.unlink()
        refused.append(folder.resolve())

    real_write = index_module._atomic_write

    def refuse(path: Path, data: bytes) -> None:
        if path.parent.resolve() in refused:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        real_write(path, data)

    monkeypatch.setattr(index_module, "_atomic_write", refuse)
    yield make
    for folder in chmodded:
        folder.chmod(0o755)


@pytest.mark.parametrize("problem", ["corpus edited", "data file damaged"])
def test_read_only_index_is_rebuilt_into_the_cache_and_reused(copies, read_only, tmp_path, caplog, problem):
    corpus, index = copies
    if problem == "corpus edited":
        article = next(corpus.glob("*.md"))
        article.write_text(article.read_text(encoding="utf-8") + NEW_SECTION, encoding="utf-8")
    else:
        damage(index / CHUNKS_FAISS, "garbage")
    before = {name: (index / name).read_bytes() for name in os.listdir(index)}
    read_only(index)
    with caplog.at_level("INFO", logger="rolebot"):
        first = Chatbot.load(corpus=corpus, index=index)
    cache = tmp_path / "cache"  # ROLEBOT_CACHE, set by conftest
    assert first.loaded.built and first.loaded.folder.parent == cache
    assert str(first.loaded.folder) in caplog.text  # the log says where the index went
    assert {name: (index / name).read_bytes() for name in os.listdir(index)} == before

    second = Chatbot.load(corpus=corpus, index=index)
    assert not second.loaded.built and second.loaded.folder == first.loaded.folder
    reply = second.ask(QUESTION)
    assert reply.in_scope and EXPECTED in reply.answer.lower()


def test_nothing_writable_still_answers_from_memory(copies, read_only, caplog):
    corpus, index = copies
    damage(index / MANIFEST, "deleted")
    read_only(index)
    from bot.build import _cache_folder

    fallback = _cache_folder(index)
    fallback.mkdir(parents=True)
    read_only(fallback)
    with caplog.at_level("WARNING", logger="rolebot"):
        loaded = load_or_build(corpus, index)
    assert loaded.built and "from memory" in caplog.text
    assert answers_correctly(loaded)


# The CLI at the next start: a rebuild or one clear message, never a traceback -----------------------------------


def cli(args: list[str], corpus: Path, index: Path, **env: str):
    from click.testing import CliRunner

    from bot.cli import cli as rolebot

    result = CliRunner().invoke(rolebot, args, env={"ROLEBOT_CORPUS": str(corpus), "ROLEBOT_INDEX": str(index), **env})
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


@pytest.mark.parametrize("name", INDEX_FILES)
def test_index_check_names_the_damaged_file_and_the_fix(copies, name):
    corpus, index = copies
    assert cli(["index", "--check"], corpus, index).exit_code == 0
    damage(index / name, "garbage")
    result = cli(["index", "--check"], corpus, index)
    assert result.exit_code == 1
    assert name in result.output and "rolebot index" in result.output


def test_rolebot_index_on_a_read_only_folder_says_where_it_built(copies, read_only, tmp_path):
    corpus, index = copies
    damage(index / VOCAB_NPY, "truncated")
    read_only(index)
    result = cli(["index"], corpus, index)
    assert result.exit_code == 0, result.output
    assert f"path:   {tmp_path / 'cache'}" in result.output
    again = cli(["index"], corpus, index)
    assert "is current" in again.output and str(tmp_path / "cache") in again.output


def test_rolebot_ask_without_a_model_to_rebuild_with_is_one_clear_line(copies, tmp_path):
    corpus, index = copies
    damage(index / MANIFEST, "deleted")
    result = cli(["ask", "What do AI Engineers do?"], corpus, index, ROLEBOT_MODEL=str(tmp_path / "no-such-model"))
    assert result.exit_code == 1
    assert "Cannot load the embedding model" in result.output and "ROLEBOT_MODEL" in result.output


@pytest.mark.slow
def test_rolebot_ask_rebuilds_a_damaged_index_in_a_fresh_process(copies):
    corpus, index = copies
    damage(index / UNITS_NPY, "garbage")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "ask", QUESTION],
        capture_output=True,
        text=True,
        timeout=300,
        env=child_env(corpus, index),
        cwd=PROJECT_ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert EXPECTED in done.stdout.lower()
    assert "Traceback" not in done.stderr
    assert f"Rebuilding the index: Index file {index / UNITS_NPY} is damaged" in done.stderr
    assert stale_reason(index, corpus) is None


@pytest.mark.parametrize("breakage", ["not utf-8", "emptied", "removed"])
def test_rolebot_ask_with_a_broken_corpus_names_the_file_or_folder(copies, breakage):
    corpus, index = copies
    article = next(corpus.glob("*.md"))
    if breakage == "not utf-8":
        article.write_bytes(b"\xff\xfe\x00 caf\xe9 " * 100)
    elif breakage == "emptied":
        article.write_text("\n\n")
    else:
        shutil.rmtree(corpus)
    result = cli(["ask", "What do AI Engineers do?"], corpus, index)
    assert result.exit_code == 1
    assert (str(corpus) if breakage == "removed" else article.name) in result.output
    assert "ROLEBOT_CORPUS" in result.output  # the fix
