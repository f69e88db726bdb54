"""The `rolebot` command: every command through click's runner or a real process, exit codes, and the
promise that the terminal gives the same answer as the Python API.

In-process tests pass the session's warmed-up ``bot`` as ``obj`` so they do not reload the engine;
subprocess tests cover loading, `python -m bot`, piped stdin and the interactive chat in a pty.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pexpect
import pytest
from click.testing import CliRunner
from helpers import free_port

from bot import config
from bot.cli import cli

ROLEBOT = Path(sys.executable).with_name("rolebot")
COMPARE = "How is an AI Engineer different from an ML Engineer?"
FRAMEWORKS = "What frameworks do AI engineers use?"
FOLLOW_UP = "what about ML engineers?"  # only answerable with the previous turn
OFF_TOPIC = "What's the weather in Paris tomorrow?"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run(
    *args: str, stdin: str | None = None, env: dict | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """The installed console script in a fresh process (the test env's ROLEBOT_DATA/CACHE are inherited)."""
    return subprocess.run(
        [str(ROLEBOT), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=os.environ | (env or {}),
    )


def test_console_script_is_installed():
    assert ROLEBOT.exists(), "run `pip install -e .` so the rolebot script exists"


# --- help ---------------------------------------------------------------------------------------------


def test_bare_rolebot_prints_help_and_exits_0():
    result = run()
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: rolebot") and "  ask " in result.stdout
    assert result.stderr == ""


def test_top_level_help_lists_every_command(runner):
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in ("ask", "chat", "index", "search", "eval", "serve", "deploy"):
        assert f"  {name} " in result.output


@pytest.mark.parametrize("command", ["ask", "chat", "index", "search", "eval", "serve", "deploy"])
def test_each_command_help_shows_an_example(runner, command):
    result = runner.invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.output
    assert f"rolebot {command}" in result.output.split("Examples:")[1]


# --- ask ----------------------------------------------------------------------------------------------


def test_ask_json_equals_the_python_api(runner, bot):
    result = runner.invoke(cli, ["ask", "--json", COMPARE], obj=bot)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == bot.ask(COMPARE).to_dict()


def test_ask_top_k_limits_the_sources(runner, bot):
    result = runner.invoke(cli, ["ask", "--json", "-k", "1", COMPARE], obj=bot)
    data = json.loads(result.stdout)
    assert len(data["sources"]) == 1
    assert data == bot.ask(COMPARE, top_k=1).to_dict()


def test_ask_joins_unquoted_words(runner, bot):
    result = runner.invoke(cli, ["ask", "--json", "What", "tools", "do", "ML", "Engineers", "use?"], obj=bot)
    assert json.loads(result.stdout)["question"] == "What tools do ML Engineers use?"


def test_ask_prints_the_answer_then_sections_and_scores(runner, bot):
    result = runner.invoke(cli, ["ask", "What tools and frameworks do ML Engineers use?"], obj=bot)
    assert result.exit_code == 0
    answer, sources = result.stdout.split("\nSources:\n")
    assert "Scikit-learn" in answer
    reply = bot.ask("What tools and frameworks do ML Engineers use?")
    lines = [line.strip() for line in sources.strip().splitlines()]
    assert lines == [f"{s.score:.2f}  {s.section}" for s in reply.sources]
    assert "\x1b[" not in result.stdout  # plain text when not a terminal


def test_ask_reads_the_question_from_stdin(runner, bot):
    result = runner.invoke(cli, ["ask", "--json", "-"], input="Who do AI Engineers work with?\n", obj=bot)
    data = json.loads(result.stdout)
    assert data["question"] == "Who do AI Engineers work with?"
    assert "Data Scientists" in data["answer"]


def test_out_of_scope_answer_is_a_success(runner, bot):
    result = runner.invoke(cli, ["ask", "--json", OFF_TOPIC], obj=bot)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["in_scope"] is False
    assert data["sources"] == []


@pytest.mark.parametrize(("args", "stdin"), [(["ask", ""], None), (["ask", " \t "], None), (["ask", "-"], "\n\n")])
def test_empty_question_exits_2_with_one_line(runner, bot, args, stdin):
    result = runner.invoke(cli, args, input=stdin, obj=bot)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: The question is empty")


def test_missing_question_is_a_usage_error(runner):
    result = runner.invoke(cli, ["ask"])
    assert result.exit_code == 2
    assert "Missing argument" in result.stderr


def test_broken_setup_exits_1_with_advice_not_a_traceback(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("ROLEBOT_CORPUS", str(tmp_path / "no-corpus"))
    monkeypatch.setenv("ROLEBOT_INDEX", str(tmp_path / "no-index"))
    result = runner.invoke(cli, ["ask", "What is an AI Engineer?"])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # click's message, not an escaped exception
    assert "Corpus folder not found" in result.stderr and "ROLEBOT_CORPUS" in result.stderr


def test_missing_model_exits_1_with_advice(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("ROLEBOT_MODEL", str(tmp_path / "no-model"))
    monkeypatch.setenv("ROLEBOT_INDEX", str(tmp_path / "index"))  # stale for this model: a rebuild is attempted
    result = runner.invoke(cli, ["ask", "What is an AI Engineer?"])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "Cannot load the embedding model" in result.stderr and "ROLEBOT_MODEL" in result.stderr


def test_stale_index_without_build_dependencies_exits_1_saying_what_to_install(runner, tmp_path, monkeypatch):
    import bot.build

    monkeypatch.setattr(bot.build, "can_build", lambda: False)  # as in a serving-only install
    monkeypatch.setenv("ROLEBOT_INDEX", str(tmp_path / "index"))
    result = runner.invoke(cli, ["ask", "What is an AI Engineer?"])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert len(result.stderr.strip().splitlines()) == 1
    assert "sentence-transformers and torch" in result.stderr and "pip install -e '.[build]'" in result.stderr


def test_unexpected_errors_exit_1_with_a_hint(monkeypatch, capsys):
    import bot.cli as cli_module

    def boom(**_: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(cli_module, "cli", boom)
    monkeypatch.delenv("ROLEBOT_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        cli_module.main()
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "RuntimeError: disk on fire" in err and "ROLEBOT_DEBUG=1" in err


def test_python_m_bot_ask_in_a_new_process(bot):
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", COMPARE], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == bot.ask(COMPARE).to_dict()


def test_console_script_empty_question_exits_2_without_traceback():
    result = run("ask", "   ")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Error: The question is empty: type a question about the AI Engineer role and how it differs from an ML "
        "Engineer."  # the corpus profile's topic
    ]


# --- cold start: what each command imports (the timings are in bench/coldstart.py) --------------------


def imported_modules(*args: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bot", *args], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}


def test_ask_loads_neither_torch_nor_gradio():
    modules = imported_modules("ask", COMPARE)
    assert "bot.chat" in modules  # the probe works
    assert not {"torch", "sentence_transformers", "transformers", "gradio", "sklearn"} & modules


def test_help_loads_no_engine():
    modules = imported_modules("--help")
    assert "click" in modules
    assert not {"numpy", "faiss", "bot.chat", "rich"} & modules


# --- chat ---------------------------------------------------------------------------------------------


def test_piped_chat_answers_each_line_with_history(bot):
    result = run("chat", "--json", stdin=f"{FRAMEWORKS}\n\n{FOLLOW_UP}\n")
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert "OpenCV" in first["answer"]
    assert "Scikit-learn" in second["answer"]
    assert second == bot.ask(FOLLOW_UP, [(FRAMEWORKS, first["answer"])]).to_dict()


def test_piped_chat_plain_text():
    result = run("chat", stdin=f"{FRAMEWORKS}\n{FOLLOW_UP}\n")
    assert result.returncode == 0
    assert result.stdout.count("Sources:") == 2
    assert "Scikit-learn" in result.stdout.split("Sources:")[1]


def test_chat_commands_when_piped(runner, bot):
    script = f"/sources\n{FRAMEWORKS}\n/sources\n/reset\n/sources\n/nope\n/help\n/quit\n{COMPARE}\n"
    result = runner.invoke(cli, ["chat"], input=script, obj=bot)
    assert result.exit_code == 0
    out = result.stdout
    reply = bot.ask(FRAMEWORKS)
    assert out.count("No answer yet") == 2  # before the first question and after /reset
    assert f"[1] {reply.sources[0].section}" in out
    assert "Conversation cleared." in out
    assert "Unknown command /nope" in out
    assert "/sources  the passages behind the last answer" in out
    assert out.count("Sources:") == 1  # /quit stopped before the last question


def test_chat_reset_forgets_the_conversation(runner, bot):
    result = runner.invoke(cli, ["chat", "--json"], input=f"{FRAMEWORKS}\n/reset\n{FOLLOW_UP}\n", obj=bot)
    replies = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert replies[1] == bot.ask(FOLLOW_UP).to_dict()  # answered without history


def test_chat_empty_line_of_invisible_characters_keeps_the_session(runner, bot):
    result = runner.invoke(cli, ["chat", "--json"], input=f"\u200b\n{FRAMEWORKS}\n", obj=bot)
    assert result.exit_code == 0
    assert "question is empty" in result.stderr
    assert len(result.stdout.splitlines()) == 1


@pytest.mark.parametrize("word", ["exit", "quit", "Exit", "QUIT", "exit.", "Quit!", "  quit  ", "exit()", "/exit"])
def test_exit_and_quit_leave_the_chat(runner, bot, word):
    result = runner.invoke(cli, ["chat", "--json"], input=f"{FRAMEWORKS}\n{word}\n{COMPARE}\n", obj=bot)
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 1  # stopped before the last question


def test_exit_inside_a_question_is_a_question(runner, bot):
    question = "Should I quit ML engineering to become an AI Engineer?"
    result = runner.invoke(cli, ["chat", "--json"], input=f"{question}\nexit now\n", obj=bot)
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["question"] for r in replies] == [question, "exit now"]


@pytest.mark.parametrize("word", ["clear", "Clear", "CLEAR.", "/clear"])
def test_clear_forgets_the_conversation_and_is_not_a_question(runner, bot, word):
    result = runner.invoke(cli, ["chat", "--json"], input=f"{FRAMEWORKS}\n{word}\n{FOLLOW_UP}\n", obj=bot)
    assert result.exit_code == 0
    replies = [json.loads(line) for line in result.stdout.splitlines()]  # stdout is pure JSON Lines
    assert [r["question"] for r in replies] == [FRAMEWORKS, FOLLOW_UP]
    assert replies[1] == bot.ask(FOLLOW_UP).to_dict()  # answered without the earlier turn as context
    assert "Conversation cleared." in result.stderr
    assert "\x1b[" not in result.stdout + result.stderr  # piped: the screen is never cleared


def test_piped_json_chat_keeps_notes_off_stdout(runner, bot):
    script = f"/help\n/sources\n{FRAMEWORKS}\n/sources\n/nope\n/reset\n"
    result = runner.invoke(cli, ["chat", "--json"], input=script, obj=bot)
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["question"] == FRAMEWORKS
    for note in ("/sources  the passages", "No answer yet", "[1] ", "Unknown command /nope", "Conversation cleared."):
        assert note in result.stderr


def test_chat_help_lists_the_words(runner):
    result = runner.invoke(cli, ["chat", "--help"])
    assert "exit" in result.output and "quit" in result.output and "clear" in result.output
    assert "pipe" in result.output


def spawn_chat(tmp_path: Path) -> pexpect.spawn:
    env = os.environ | {"ROLEBOT_DATA": str(tmp_path / "data"), "TERM": "xterm"}
    return pexpect.spawn(str(ROLEBOT), ["chat"], env=env, encoding="utf-8", dimensions=(50, 200), timeout=90)


def test_interactive_chat_in_a_terminal(tmp_path):
    child = spawn_chat(tmp_path)
    try:
        child.expect("/help for commands")
        child.expect("you> ")
        child.sendline(FRAMEWORKS)
        child.expect("OpenCV")
        child.expect("Sources:")
        child.expect("you> ")
        child.sendline(FOLLOW_UP)
        child.expect("Scikit-learn")
        child.expect("you> ")
        child.send("half a question")
        child.expect("half a question")  # echoed: readline is reading, so Ctrl-C reaches it (no race)
        child.sendcontrol("c")  # cancels the line, not the session
        child.expect(r"\^C")
        child.expect("you> ")
        child.sendline("/sources")
        child.expect(r"\[1\] ")
        child.expect("you> ")
        child.sendline("/quit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    history = (tmp_path / "data" / "chat-history").read_text()
    assert FRAMEWORKS in history and FOLLOW_UP in history and "half a question" not in history


def test_interactive_clear_wipes_screen_and_context_and_exit_leaves(tmp_path, bot):
    child = spawn_chat(tmp_path)
    try:
        child.expect("you> ")
        child.sendline(FRAMEWORKS)
        child.expect("OpenCV")
        child.expect("you> ")
        child.sendline("clear")
        child.expect_exact("\x1b[2J")  # the terminal's clear-screen sequence
        child.expect("Conversation cleared.")
        child.expect("you> ")
        child.sendline(FOLLOW_UP)  # without the earlier turn: the general comparison, not the frameworks row
        child.expect("Primary Focus")
        child.expect("you> ")
        child.sendline("Exit.")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    assert "Scikit-learn" not in bot.ask(FOLLOW_UP).answer  # so seeing it would have meant old context


def test_interactive_chat_ctrl_d_exits_cleanly(tmp_path):
    child = spawn_chat(tmp_path)
    try:
        child.expect("you> ")
        child.sendcontrol("d")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0


# --- index --------------------------------------------------------------------------------------------


def test_index_check_passes_on_the_committed_index(runner):
    result = runner.invoke(cli, ["index", "--check"])
    assert result.exit_code == 0
    assert "is current" in result.stdout


def test_index_check_fails_on_a_missing_index(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("ROLEBOT_INDEX", str(tmp_path / "missing"))
    result = runner.invoke(cli, ["index", "--check"])
    assert result.exit_code == 1
    assert "not current" in result.stdout and "manifest.json is missing" in result.stdout
    assert not (tmp_path / "missing").exists()


def test_index_rebuild_and_check_exclude_each_other(runner):
    assert runner.invoke(cli, ["index", "--rebuild", "--check"]).exit_code == 2


def test_index_on_a_current_index_does_not_rebuild(runner, bot, tmp_path, monkeypatch):
    folder = tmp_path / "index"
    shutil.copytree(config.index_dir(), folder)
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    monkeypatch.setenv("ROLEBOT_INDEX", str(folder))
    result = runner.invoke(cli, ["index"])
    assert result.exit_code == 0
    assert "is current" in result.stdout and f"chunks: {len(bot.index.chunks)}" in result.stdout
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before


@pytest.mark.slow
def test_index_builds_a_tmp_copy_with_progress_then_checks(runner, bot, tmp_path, monkeypatch):
    corpus, folder = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(config.corpus_dir(), corpus)
    monkeypatch.setenv("ROLEBOT_CORPUS", str(corpus))
    monkeypatch.setenv("ROLEBOT_INDEX", str(folder))

    result = runner.invoke(cli, ["index"])
    assert result.exit_code == 0, result.output
    assert "Built the index" in result.stdout
    assert f"chunks: {len(bot.index.chunks)} " in result.stdout
    assert f"model:  {bot.index.manifest['model']}" in result.stdout
    assert f"path:   {folder}" in result.stdout
    assert "embedding…" in result.stderr  # the progress callback reached the terminal
    assert (folder / "manifest.json").exists()
    assert runner.invoke(cli, ["index", "--check"]).exit_code == 0

    with (corpus / "ai-engineer-vs-ml-engineer.md").open("a", encoding="utf-8") as f:
        f.write("\nOne more sentence.\n")
    result = runner.invoke(cli, ["index", "--check"])
    assert result.exit_code == 1
    assert "changed" in result.stdout


# --- search -------------------------------------------------------------------------------------------


def test_search_json_lists_ranked_passages_with_all_scores(runner, bot):
    result = runner.invoke(cli, ["search", "--json", "-k", "3", "XGBoost"], obj=bot)
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert [r["rank"] for r in rows] == [1, 2, 3]
    assert "XGBoost" in rows[0]["text"]
    assert [r["fused"] for r in rows] == sorted((r["fused"] for r in rows), reverse=True)
    hits = bot.search("XGBoost", k=3)
    assert [(r["chunk_id"], r["dense"], r["bm25"]) for r in rows] == [
        (h.chunk.id, round(h.dense, 4), round(h.bm25, 4)) for h in hits
    ]


def test_search_plain_text(runner, bot):
    result = runner.invoke(cli, ["search", "-k", "2", "who", "do", "AI", "engineers", "work", "with"], obj=bot)
    assert result.exit_code == 0
    ranked = [line for line in result.stdout.splitlines() if not line.startswith("    ")]
    assert len(ranked) == 2
    assert ranked[0].startswith(" 1. fused ") and " dense " in ranked[0] and " bm25 " in ranked[0]


def test_search_empty_query_exits_2(runner, bot):
    assert runner.invoke(cli, ["search", " "], obj=bot).exit_code == 2


# --- eval ---------------------------------------------------------------------------------------------


@pytest.fixture
def eval_file(tmp_path) -> Path:
    records = [
        {"kind": "answer", "question": "What tools and frameworks do ML Engineers use?", "expect": ["Scikit-learn"]},
        {"kind": "answer", "question": "Who do AI Engineers work with?", "expect": ["zebra unicorn"]},
        {"kind": "refuse", "question": OFF_TOPIC, "type": "off-topic"},
        {
            "kind": "conversation",
            "turns": [
                {"question": FRAMEWORKS, "expect": ["OpenCV"]},
                {"question": FOLLOW_UP, "expect": ["Scikit-learn"]},
            ],
        },
    ]
    path = tmp_path / "mine.jsonl"
    path.write_text("# my questions\n" + "\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


def test_eval_prints_a_metrics_table_and_failures(runner, bot, eval_file):
    result = runner.invoke(cli, ["eval", str(eval_file)], obj=bot)
    assert result.exit_code == 0, result.output
    out = result.stdout
    for column in ("answer", "refusal", "follow-up", "first unit", "precision", "recall"):
        assert column in out
    assert "50.0%" in out  # one of the two answer questions fails on purpose
    assert "mine.jsonl: 1 failed:" in out and "zebra unicorn" in out


def test_eval_json_matches_the_library(runner, bot, eval_file):
    from bot.evaluation import load_cases
    from bot.evaluation import run as run_eval

    result = runner.invoke(cli, ["eval", "--json", str(eval_file)], obj=bot)
    data = json.loads(result.stdout)
    expected = run_eval(bot, load_cases(eval_file)).summary()
    for key in ("answer_accuracy", "refusal_accuracy", "followup_accuracy", "questions", "failures"):
        assert data[key] == expected[key]
    assert data["answer_accuracy"] == 0.5
    assert [f["question"] for f in data["failed"]] == ["Who do AI Engineers work with?"]


def test_eval_rejects_a_malformed_file_with_its_line(runner, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"kind": "answer", "question": "q", "expect": []}\n{"kind": "quiz"}\n', encoding="utf-8")
    result = runner.invoke(cli, ["eval", str(path)])
    assert result.exit_code == 2
    assert "line 2" in result.stderr


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"kind": "answer", "question": 5}, '"question" that is a non-empty string'),
        ({"kind": "answer"}, '"question" that is a non-empty string'),
        ({"kind": "answer", "question": "q", "expect": "a string"}, '"expect" must be a list'),
    ],
)
def test_eval_names_what_is_wrong_with_a_record(runner, tmp_path, record, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    result = runner.invoke(cli, ["eval", str(path)])
    assert result.exit_code == 2, result.output
    assert "line 1" in result.stderr and message in result.stderr


def test_eval_without_a_file_reports_every_set_apart(runner, bot):
    result = runner.invoke(cli, ["eval", "--set", "article-heldout", "--set", "real-heldout", "--json"], obj=bot)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)["sets"]
    assert set(data) == {"article-heldout", "real-heldout"}
    assert data["real-heldout"]["split"] == "heldout" and data["real-heldout"]["gold"]["questions"] > 0


def test_eval_outside_a_checkout_says_the_sets_live_in_the_repository(runner, monkeypatch, tmp_path):
    import bot.evaluation

    monkeypatch.setattr(bot.evaluation, "SETS_FILE", tmp_path / "tests" / "eval" / "sets.toml")  # as installed
    result = runner.invoke(cli, ["eval"])
    assert result.exit_code == 2, result.output
    assert "checkout of the rolebot repository" in result.stderr and "rolebot eval my-questions.jsonl" in result.stderr
    assert "Traceback" not in result.output
    help_text = " ".join(runner.invoke(cli, ["eval", "--help"]).stdout.split())
    assert "checkout of the rolebot repository" in help_text


def test_eval_against_an_earlier_run_counts_turns_won_and_lost(runner, bot, eval_file, tmp_path):
    earlier = json.loads(runner.invoke(cli, ["eval", "--json", str(eval_file)], obj=bot).stdout)
    assert [(f["line"], f["turn"]) for f in earlier["failed"]] == [(3, 0)]  # "zebra unicorn" fails
    earlier["failed"] = [{"line": 2, "turn": 0, "question": "", "missing": []}]  # as if another engine failed line 2
    before = tmp_path / "before.json"
    before.write_text(json.dumps(earlier), encoding="utf-8")

    result = runner.invoke(cli, ["eval", "--against", str(before), str(eval_file)], obj=bot)
    assert result.exit_code == 0, result.output
    assert "mine.jsonl (file): +1 / -1" in result.stdout
    assert "all file sets: +1 / -1, net +0, McNemar p = 1.000" in result.stdout

    data = json.loads(runner.invoke(cli, ["eval", "--json", "--against", str(before), str(eval_file)], obj=bot).stdout)
    assert data["against"]["sets"] == {"mine.jsonl": {"split": "file", "won": 1, "lost": 1}}


def test_eval_against_a_file_that_is_no_eval_run_is_a_usage_error(runner, eval_file, tmp_path):
    for text in ("not json", '{"sets": {"a": 1}}', "[1, 2]"):
        path = tmp_path / "before.json"
        path.write_text(text, encoding="utf-8")
        result = runner.invoke(cli, ["eval", "--against", str(path), str(eval_file)])
        assert result.exit_code == 2 and "rolebot eval --json" in result.stderr


def test_eval_unknown_set_is_a_usage_error(runner):
    result = runner.invoke(cli, ["eval", "--set", "nope"])
    assert result.exit_code == 2 and "nope" in result.stderr


def test_eval_missing_file_is_a_usage_error(runner, tmp_path):
    assert runner.invoke(cli, ["eval", str(tmp_path / "none.jsonl")]).exit_code == 2


# --- serve --------------------------------------------------------------------------------------------


def test_serve_hands_host_port_and_engine_to_the_web_ui(runner, bot, monkeypatch):
    import bot.web as web

    calls = []
    monkeypatch.setattr(web, "launch", lambda host, port, *, bot: calls.append((host, port, bot)))
    result = runner.invoke(cli, ["serve", "--host", "127.0.0.1", "--port", "8123"], obj=bot)
    assert result.exit_code == 0, result.output
    assert calls == [("127.0.0.1", 8123, bot)]


def test_serve_on_a_taken_port_exits_1_with_the_reason(runner, bot, monkeypatch):
    import bot.web as web

    def taken(*_: object, **__: object) -> None:
        raise OSError("Cannot find empty port in range: 7860-7860.")

    monkeypatch.setattr(web, "launch", taken)
    result = runner.invoke(cli, ["serve"], obj=bot)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: Cannot start the web server: Cannot find empty port")


@pytest.mark.slow
def test_serve_starts_the_web_ui_and_the_json_api_on_loopback(bot):
    port = free_port()
    server = subprocess.Popen(
        [str(ROLEBOT), "serve", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, server.stderr.read()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    assert response.status == 200
                    assert "rolebot" in response.read().decode("utf-8", "replace")
                    break
            except OSError:
                assert time.monotonic() < deadline, "rolebot serve did not answer within 90 s"
                time.sleep(0.5)
        # The JSON API is served on the same port, by the same engine.
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/ask",
            data=json.dumps({"question": COMPARE}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert json.load(response) == bot.ask(COMPARE).to_dict()
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
