"""The ``rolebot`` command: a thin terminal shell over ``Chatbot`` (ask, chat, index, search, eval, serve, deploy).

Cold start matters for one-shot use, so this module imports only click at the top: the engine
(NumPy, FAISS, bm25s) loads inside the commands that need it, rich only when stdout is a terminal,
and neither gradio nor torch ever loads for ``ask`` (queries use the NumPy encoder, see minilm.py).
The library raises; only this module turns its errors into exit codes: 0 success (a "not in the
article" answer too), 2 for usage or input errors, 1 for anything that stops rolebot from working.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import signal
import string
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from .chat import Chatbot, Reply, Streamed

HISTORY_FILE = "chat-history"
"""readline history of ``rolebot chat``, kept in ``config.data_dir()`` (ROLEBOT_DATA, default ./data)."""

CHAT_HELP = """Commands:
  /help     this help
  /sources  the passages behind the last answer
  /reset    forget the conversation (follow-ups start afresh)
  /clear    clear the screen and forget the conversation; typing clear does the same
  /quit     leave; typing exit or quit does the same (Ctrl-D too; Ctrl-C cancels the current line)"""

WORD_COMMANDS = {"exit": "/quit", "quit": "/quit", "clear": "/clear"}
"""Words people type out of habit in a REPL; alone on a line (any case, punctuation around) they are commands,
never questions, and never become context for a follow-up."""


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""Control characters other than newline and tab: a model's text must not move the cursor or restyle the
terminal (an escape sequence starts with \x1b)."""


class InputError(click.ClickException):
    """A user mistake such as an empty question: one line on stderr, exit code 2."""

    exit_code = 2


@contextlib.contextmanager
def _engine_errors() -> Iterator[None]:
    """Turn the library's exceptions into one-line messages with an exit code, never a traceback."""
    from .errors import CorpusError, EmptyQuestionError, IndexLoadError, RolebotError

    try:
        yield
    except EmptyQuestionError as exc:
        raise InputError(str(exc)) from exc
    except IndexLoadError as exc:
        raise click.ClickException(f"{exc}\nRebuild it with `rolebot index --rebuild`.") from exc
    except CorpusError as exc:
        raise click.ClickException(f"{exc}\nPoint ROLEBOT_CORPUS at a folder of .md/.txt files.") from exc
    except RolebotError as exc:  # ModelError and the rest already say what to do
        raise click.ClickException(str(exc)) from exc


class _LoadProgress:
    """A progress bar on stderr that appears only if loading turns into a (re)build."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._task: Any = None
        self._stage = ""

    def __call__(self, stage: str, fraction: float) -> None:
        if not sys.stderr.isatty():  # logs and CI: one line per stage, no redraws
            if stage != self._stage and fraction < 1.0:
                click.echo(f"{stage}…", err=True)
                self._stage = stage
            return
        if self._bar is None:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("{task.description:<16}"),
                BarColumn(),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(stage, total=1.0)
        self._bar.update(self._task, description=stage, completed=fraction)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def _load(ctx: click.Context, *, rebuild: bool = False) -> Chatbot:
    """The Chatbot for this command: ``ctx.obj`` when a caller (a test, an embedding app) passed one."""
    from .chat import Chatbot

    if isinstance(ctx.obj, Chatbot) and not rebuild:
        return ctx.obj
    progress = _LoadProgress()
    try:
        with _engine_errors():
            ctx.obj = Chatbot.load(rebuild=rebuild, progress=progress)
    finally:
        progress.close()
    return ctx.obj


class _Out:
    """Rich Markdown and colour on a terminal, plain text when piped (so scripts see the raw Markdown).
    ``err=True`` writes to stderr: notes beside machine output (``chat --json``) stay out of stdout."""

    def __init__(self, err: bool = False) -> None:
        self.err = err
        self.tty = (sys.stderr if err else sys.stdout).isatty()
        self._console: Any = None

    @property
    def console(self) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(highlight=False, stderr=self.err)
        return self._console

    def markdown(self, text: str) -> None:
        if self.tty:
            from rich.markdown import Markdown

            self.console.print(Markdown(text))
        else:
            click.echo(text, err=self.err)

    def line(self, text: str = "", style: str = "") -> None:
        if self.tty:
            from rich.text import Text

            self.console.print(Text(text, style=style))
        else:
            click.echo(text, err=self.err)

    def reply(self, reply: Reply, streamed: bool = False) -> None:
        """The reply and its sources; ``streamed``: the model's sentences are on screen already, as it wrote
        them and as they were checked, so only the notes after them are printed."""
        written = getattr(reply, "written_by", None)
        if written:  # a model's sentences carry the numbers of the passages they rest on
            parts = [p for p in reply.parts if not (streamed and p.kind == "written")]
            self.markdown("\n\n".join(p.text + "".join(f" [{n}]" for n in p.sources) for p in parts))
        else:
            self.markdown(reply.answer)
        if reply.sources:
            self.line()
            self.line("Sources:", "bold")
            for n, source in enumerate(reply.sources, 1):
                self.line(
                    f"  [{n}] {source.score:.2f}  {source.section}"
                    if written
                    else f"  {source.score:.2f}  {source.section}",
                    "dim",
                )

    def stream(self, items: Iterator[Streamed]) -> Reply:
        """Show ``Chatbot.stream``'s items: the model's words as they arrive, as plain text (never Markdown:
        they are not checked yet); then either the notes after them or, when the check changed the answer, a
        line saying the text above is replaced and the checked answer in full. Returns the final reply."""
        from .chat import Replaced

        streamed, replaced = False, ""
        for item in items:
            if isinstance(item, str):
                click.echo(_CONTROL.sub("", item), nl=False)  # echo flushes: each piece shows as it comes
                streamed = True
            elif isinstance(item, Replaced):
                replaced = item.reason
            else:
                reply = item  # the last item
        if streamed:
            click.echo("\n")  # end the model's line, then a blank one before what follows
            if replaced:  # the text above is not the answer: say so before the one that is
                self.line(f"— replaced: {replaced}", "bold yellow")
        self.reply(reply, streamed=streamed and not replaced)
        self.line()
        return reply

    def eval_report(self, results: dict) -> None:
        """One row per eval set: accuracy, gold-unit figures, answer length, latency; then the failures."""
        header = (
            "set",
            "split",
            "answer",
            "refusal",
            "follow-up",
            "answered/partial/declined",
            "first unit",
            "precision",
            "recall",
            "chars",
            "ms",
        )
        rows = []
        for name, (eval_set, summary, _) in results.items():
            gold = summary["gold"]
            rows.append(
                (
                    name,
                    eval_set.split,
                    *(_counted(summary, name) for name in ("answer_accuracy", "refusal_accuracy", "followup_accuracy")),
                    "/".join(
                        str(sum(kind[o] for kind in summary["outcomes"].values()))
                        for o in ("answered", "partial", "declined")
                    ),
                    _percent(gold["first_unit_accuracy"]) if gold.get("questions") else "n/a",
                    f"{gold['unit_precision']:.2f}" if gold.get("questions") else "n/a",
                    f"{gold['unit_recall']:.2f}" if gold.get("questions") else "n/a",
                    f"{summary['median_answer_chars'] or 0:.0f}",
                    f"{summary['latency_median_ms']:.0f}",
                )
            )
        if self.tty:
            from rich.table import Table

            table = Table(title="rolebot eval")
            for name in header:
                table.add_column(name)
            for row in rows:
                table.add_row(*row)
            self.console.print(table)
        else:
            widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
            for row in [header, *rows]:
                click.echo("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
        for name, (_, _, failures) in results.items():
            self.line(f"{name}: {len(failures)} failed" + (":" if failures else ""), "bold")
            for f in failures:
                missing = ", ".join(f["missing"])
                self.line(f"  line {f['line']} turn {f['turn'] + 1}: {f['question']!r} missing {missing}", "dim")

    def passages(self, reply: Reply | None) -> None:
        if reply is None:
            self.line("No answer yet: ask a question first.")
            return
        if not reply.sources:
            self.line("The last answer did not come from the article, so it has no sources.")
            return
        for n, source in enumerate(reply.sources, 1):
            self.line(f"[{n}] {source.section}  (score {source.score:.2f})", "bold cyan")
            self.line(source.text)
            self.line()


def _llm_options(command: Callable) -> Callable:
    """--llm and --llm-url: a language model writes the answers (default: ROLEBOT_LLM_MODEL / ROLEBOT_LLM_URL)."""
    command = click.option(
        "--llm-url",
        metavar="URL",
        help="Its OpenAI-compatible server, e.g. http://localhost:11434/v1 (Ollama)  "
        "[default: $ROLEBOT_LLM_URL, else Hugging Face Inference Providers with $HF_TOKEN]",
    )(command)
    return click.option(
        "--llm",
        metavar="MODEL",
        help="A language model writes the answer from the passages, checked against them  [default: $ROLEBOT_LLM_MODEL]",
    )(command)


def _with_writer(chatbot: Chatbot, llm: str | None, llm_url: str | None) -> None:
    """Give ``chatbot`` the writer --llm or ROLEBOT_LLM_MODEL asks for; with neither, nothing is imported."""
    from . import config

    if llm_url and not (llm or config.llm_model()):
        raise InputError("--llm-url needs a model: add --llm MODEL (or set ROLEBOT_LLM_MODEL).")
    if llm or config.llm_model():
        from .writer import Writer

        with _engine_errors():
            chatbot.writer = Writer.from_settings(chatbot.embedder.encode, llm, llm_url, say=chatbot.profile.say)


def _read_question(words: tuple[str, ...]) -> str:
    if words == ("-",):
        return sys.stdin.read()
    return " ".join(words)


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}, invoke_without_command=True
)
@click.version_option(package_name="rolebot")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Answers questions about the article in corpus/ (what it covers: corpus/rolebot.toml),
    quoting it and naming the sections it quotes.

    \b
    Examples:
      rolebot ask "How do the two roles differ?"
      rolebot chat

    Settings come from ROLEBOT_* environment variables (see the README).
    """
    if ctx.invoked_subcommand is None:
        # Bare `rolebot` is a request for help, not a mistake: click's no_args_is_help would exit 2.
        click.echo(ctx.get_help())


@cli.command()
@click.argument("question", nargs=-1, required=True)
@click.option(
    "-k", "--top-k", type=click.IntRange(1, 20), default=3, show_default=True, help="How many sources to show."
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON object: question, answer, in_scope, outcome, sources, suggestions, parts. An answer a "
    "language model wrote adds written_by.",
)
@_llm_options
@click.pass_context
def ask(
    ctx: click.Context, question: tuple[str, ...], top_k: int, as_json: bool, llm: str | None, llm_url: str | None
) -> None:
    """Answer one question and list its sources.

    QUESTION needs no quotes unless it holds shell characters such as "?" or "'"; "-" reads it from stdin.
    The answer quotes the article; a question the article does not cover gets a polite refusal (exit 0).

    \b
    Examples:
      rolebot ask "What tools does each role use?"
      rolebot ask -k 5 --json "Who do they work with?"
      echo "How do the two roles differ?" | rolebot ask -
      rolebot ask --llm llama3.2 --llm-url http://localhost:11434/v1 "Who do they work with?"
    """
    from . import config

    text = _read_question(question)
    config.answering_once()  # the encoder that starts fastest, not the one fastest per question
    chatbot = _load(ctx)
    _with_writer(chatbot, llm, llm_url)
    with _engine_errors():
        reply = chatbot.ask(text, top_k=top_k)
    if as_json:
        click.echo(json.dumps(reply.to_dict(), ensure_ascii=False))
    else:
        _Out().reply(reply)


@cli.command()
@click.option(
    "-k", "--top-k", type=click.IntRange(1, 20), default=3, show_default=True, help="How many sources to keep."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per answer (JSON Lines).")
@_llm_options
@click.pass_context
def chat(ctx: click.Context, top_k: int, as_json: bool, llm: str | None, llm_url: str | None) -> None:
    """Talk to rolebot; follow-up questions use the conversation so far.

    On a terminal: line editing and input history (kept in $ROLEBOT_DATA/chat-history), and the
    commands /help, /sources, /reset, /clear, /quit. Typing exit or quit (any case, with or without
    punctuation) leaves; clear clears the screen and the conversation. Ctrl-C cancels the line,
    Ctrl-D leaves.

    With stdin from a pipe or file it answers one question per line, for scripts. Commands and the words
    exit, quit and clear work the same there (a typed session replays the same way), except that
    clear only forgets the conversation and never clears the screen. With --json, stdout holds only the
    answers, one JSON object per line; notes such as "Conversation cleared." go to stderr.

    \b
    Examples:
      rolebot chat
      printf 'How do the two roles differ?\\ntell me more\\n' | rolebot chat
    """
    out = _Out()
    chatbot = _load(ctx)
    _with_writer(chatbot, llm, llm_url)
    if chatbot.writer is not None:  # this session's model calls count against ROLEBOT_LLM_MAX_CALLS
        from .writer import session_key

        session_key.set(f"chat-{os.getpid()}")
    session = _Session(chatbot, out, top_k, as_json)
    if sys.stdin.isatty():
        # A shell that starts a job in the background without job control makes it ignore SIGINT,
        # and Python then never raises KeyboardInterrupt; at a terminal, Ctrl-C must cancel the line.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        session.interactive()
    else:
        for line in sys.stdin:
            if not session.handle(line):
                break


class _Session:
    """One conversation: history of (question, answer) pairs and the last reply for /sources."""

    def __init__(self, chatbot: Chatbot, out: _Out, top_k: int, as_json: bool) -> None:
        self.chatbot, self.out, self.top_k, self.as_json = chatbot, out, top_k, as_json
        self.notes = _Out(err=True) if as_json else out  # JSON Lines on stdout stay parseable
        self.history: list[tuple[str, str]] = []
        self.last: Reply | None = None
        self.at_terminal = False  # set by interactive(): only a person at a terminal gets the screen cleared

    def handle(self, line: str) -> bool:
        """Answer one line or run one /command (or exit / quit / clear); False means leave."""
        text = line.strip()
        if not text:
            return True
        word = WORD_COMMANDS.get(text.strip(string.punctuation).strip().lower())
        if word or text.startswith("/"):
            return self._command(word or text.split()[0].lower())
        streams = self.chatbot.writer is not None and not self.as_json  # JSON Lines carry only whole replies
        try:
            with _engine_errors():
                if streams:
                    reply = self.out.stream(self.chatbot.stream(text, self.history, top_k=self.top_k))
                else:
                    reply = self.chatbot.ask(text, self.history, top_k=self.top_k)
        except InputError as exc:  # e.g. only invisible characters: say so and keep the session
            click.echo(f"Error: {exc.message}", err=True)
            return True
        self.history.append((text, reply.answer))
        self.last = reply
        if self.as_json:
            click.echo(json.dumps(reply.to_dict(), ensure_ascii=False))
        elif not streams:
            self.out.reply(reply)
            self.out.line()
        return True

    def _command(self, name: str) -> bool:
        if name in ("/quit", "/exit", "/q"):
            return False
        if name == "/help":
            self.notes.line(CHAT_HELP)
        elif name == "/sources":
            self.notes.passages(self.last)
        elif name in ("/reset", "/clear"):
            if name == "/clear" and self.at_terminal and self.out.tty:
                click.clear()
            self.history.clear()
            self.last = None
            self.notes.line("Conversation cleared.", "dim")
        else:
            self.notes.line(f"Unknown command {name}; type /help for the list.")
        return True

    def interactive(self) -> None:
        self.at_terminal = True
        read = _line_reader()
        self.out.line(self.chatbot.profile.greeting, "dim")
        while True:
            try:
                line = read("you> ")
            except KeyboardInterrupt:  # cancel the line, keep the session
                click.echo("^C")
                continue
            except EOFError:
                click.echo()
                return
            try:
                if not self.handle(line):
                    return
            except KeyboardInterrupt:  # cancel a long answer too
                click.echo("\n(cancelled)")


def _line_reader() -> Callable[[str], str]:
    """``input`` with GNU readline editing and a history file; plain ``input`` when readline is unavailable."""
    try:
        import readline
    except ImportError:  # e.g. Windows without pyreadline3
        return input
    from . import config

    path = config.data_dir() / HISTORY_FILE
    with contextlib.suppress(OSError):
        readline.read_history_file(path)
    readline.set_history_length(1000)

    def save() -> None:
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(path)

    import atexit

    atexit.register(save)
    return input


@cli.command()
@click.option("--rebuild", is_flag=True, help="Rebuild even if the index is current.")
@click.option("--check", is_flag=True, help="Only check: exit 0 if the index is current, 1 (with the reason) if not.")
def index(rebuild: bool, check: bool) -> None:
    """Build the index if it is missing or stale, or check it.

    Builds chunks and embeddings with a progress bar, then prints chunk count, model, time and path.

    The index lives in index/ (or $ROLEBOT_INDEX) and is built from corpus/ (or $ROLEBOT_CORPUS).

    \b
    Examples:
      rolebot index --check || rolebot index
      rolebot index --rebuild
    """
    if rebuild and check:
        raise click.UsageError("--rebuild and --check exclude each other.")
    from . import config
    from .build import load_or_build, stale_reason

    folder, corpus = config.index_dir(), config.corpus_dir()
    if check:
        with _engine_errors():
            reason = stale_reason(folder, corpus)
        if reason is None:
            click.echo(f"The index in {folder} is current.")
            return
        click.echo(f"The index in {folder} is not current: {reason}.\nRun `rolebot index` to rebuild it.")
        sys.exit(1)
    progress = _LoadProgress()
    started = time.perf_counter()
    try:
        with _engine_errors():
            loaded = load_or_build(corpus, folder, rebuild=rebuild, progress=progress)
    finally:
        progress.close()
    seconds = time.perf_counter() - started
    manifest = loaded.index.manifest
    what = (
        f"Built the index: {loaded.reason}." if loaded.built else "The index is current (use --rebuild to rebuild it)"
    )
    click.echo(what)
    click.echo(f"  chunks: {len(loaded.index.chunks)}  (answer units: {len(loaded.index.units)})")
    click.echo(f"  model:  {manifest.get('model', '?')}")
    click.echo(f"  time:   {seconds:.1f} s")
    click.echo(f"  path:   {loaded.folder}")


@cli.command()
@click.argument("query", nargs=-1, required=True)
@click.option("-k", "--top-k", type=click.IntRange(1, 100), default=8, show_default=True, help="How many passages.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of passages with their scores.")
@click.pass_context
def search(ctx: click.Context, query: tuple[str, ...], top_k: int, as_json: bool) -> None:
    """Show ranked passages with dense, BM25 and fused scores.

    For inspecting retrieval: no answer is composed and nothing is refused.

    \b
    Examples:
      rolebot search "XGBoost"
      rolebot search -k 3 "who do they collaborate with"
    """
    text = _read_question(query)
    chatbot = _load(ctx)
    with _engine_errors():
        hits = chatbot.search(text, k=top_k)
    rows = [
        {
            "rank": n,
            "chunk_id": h.chunk.id,
            "section": h.chunk.section,
            "fused": round(h.fused, 4),
            "dense": round(h.dense, 4),
            "bm25": round(h.bm25, 4),
            "text": h.chunk.text,
        }
        for n, h in enumerate(hits, 1)
    ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    out = _Out()
    for row in rows:
        out.line(
            f"{row['rank']:>2}. fused {row['fused']:.3f}  dense {row['dense']:.3f}  bm25 {row['bm25']:.2f}  "
            f"{row['section']}",
            "bold",
        )
        snippet = " ".join(row["text"].split())
        out.line(f"    {snippet[:200]}{'…' if len(snippet) > 200 else ''}", "dim")


@cli.command(name="eval")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--set", "names", multiple=True, metavar="NAME", help="Run only this set of tests/eval/sets.toml (repeatable)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the metrics (and failures) as one JSON object.")
@click.option(
    "--against",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="BEFORE.json",
    help="Pair each turn with an earlier --json run: turns won and lost per set, and per split with McNemar's p.",
)
@click.pass_context
def eval_(ctx: click.Context, file: Path | None, names: tuple[str, ...], as_json: bool, against: Path | None) -> None:
    """Score rolebot on eval sets and print their metrics, each set apart.

    Without FILE: every set listed in tests/eval/sets.toml (each train or held-out, on this article or on
    another one in tests/fixtures/). Those files are part of a checkout of the rolebot repository, not of
    an installed package: run it from the repository folder. With FILE (JSON Lines): that file on the
    current corpus, from anywhere.

    Answer, refusal and follow-up accuracy, each with passed/asked (--json adds the 95 % Wilson interval);
    with gold units, first-unit accuracy, unit precision and recall.
    The format is in tests/eval/README.md.

    With --against, each turn is paired with the same turn of an earlier --json run (of another commit,
    say): how many turns each set won and lost, and per split the exact McNemar p-value, the chance of a
    split at least that uneven if the change did nothing. No question is printed.

    \b
    Examples:
      rolebot eval
      rolebot eval --set real-heldout --json
      rolebot eval my-questions.jsonl
      rolebot eval --json > before.json; (change the engine); rolebot eval --against before.json
    """
    from .errors import RolebotError
    from .evaluation import EvalSet, bot_for, load_cases, load_sets, paired, run

    try:
        before = _earlier_run(against, file) if against else None
        sets = [EvalSet(file.name, file, "file")] if file else load_sets()
        if names:
            unknown = set(names) - {s.name for s in sets}
            if unknown:
                raise RolebotError(f"No eval set named {', '.join(sorted(unknown))} (see tests/eval/sets.toml)")
            sets = [s for s in sets if s.name in names]
        cases = {s.name: load_cases(s.file) for s in sets}
    except RolebotError as exc:  # a bad eval file is the user's input
        raise InputError(str(exc)) from exc
    chatbot = _load(ctx)
    results = {}
    with _engine_errors():
        chatbot.warm_up()  # latency should measure answering, not the first question's model load
        for eval_set in sets:
            bot = bot_for(eval_set, chatbot)
            bot.warm_up()
            report = run(bot, cases[eval_set.name])
            failures = [
                {"line": o.case.line, "turn": o.turn, "question": o.question, "missing": o.missing}
                for o in report.failures
            ]
            results[eval_set.name] = (eval_set, report.summary(), failures)
    payload = {
        name: _no_nan(summary) | {"split": s.split, "failed": failures}
        for name, (s, summary, failures) in results.items()
    }
    changes = paired(before, payload) if before is not None else None
    if as_json:
        data = payload[file.name] if file else {"sets": payload}
        if changes is not None:
            data = data | {"against": {"file": str(against), **changes}}
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    out = _Out()
    out.eval_report(results)
    if changes is not None:
        out.line(f"Against {against} (turns won / lost):", "bold")
        for name, change in changes["sets"].items():
            out.line(f"  {name} ({change['split']}): +{change['won']} / -{change['lost']}")
        for split, pooled in changes["splits"].items():
            out.line(
                f"  all {split} sets: +{pooled['won']} / -{pooled['lost']}, net {pooled['won'] - pooled['lost']:+d},"
                f" McNemar p = {pooled['p']:.3f}",
                "bold",
            )
        if changes["unpaired"]:
            out.line(f"  not paired (absent before, or their files changed): {', '.join(changes['unpaired'])}", "dim")


def _earlier_run(path: Path, file: Path | None) -> dict:
    """The sets of an earlier ``rolebot eval --json`` run, by name (a one-file run is named after the file)."""
    from .errors import RolebotError

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise RolebotError(f"{path} is not the JSON of a `rolebot eval --json` run: {exc}") from exc
    sets = data.get("sets") if isinstance(data, dict) else None
    if sets is None and isinstance(data, dict) and file is not None and "failed" in data:
        sets = {file.name: data}
    if not isinstance(sets, dict) or not all(isinstance(s, dict) and "failed" in s for s in sets.values()):
        raise RolebotError(f"{path} is not the JSON of a `rolebot eval --json` run")
    return sets


def _no_nan(value):
    """JSON has no NaN: a rate over no questions is null."""
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    return None if isinstance(value, float) and math.isnan(value) else value


@cli.command()
@click.option("--host", help="Interface to listen on  [default: $GRADIO_SERVER_NAME, else 127.0.0.1]")
@click.option("--port", type=click.IntRange(1, 65535), help="Port  [default: $GRADIO_SERVER_PORT, else 7860]")
@_llm_options
@click.option(
    "--mcp", is_flag=True, help="Also serve the ask tool over MCP at /gradio_api/mcp/  [default: $ROLEBOT_MCP]"
)
@click.option(
    "--workers",
    type=click.IntRange(0, 64),
    help="Engine processes answering beside the server's own (2 on 2 cores)  [default: $ROLEBOT_WORKERS, else 0]",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    llm: str | None,
    llm_url: str | None,
    mcp: bool,
    workers: int | None,
) -> None:
    """Serve the web chat and its APIs on one port until Ctrl-C.

    The page, the JSON API (POST /api/ask, documented at /api/docs) and Gradio's /ask answer with the same
    engine as `rolebot ask`. The server takes no file uploads.

    \b
    Examples:
      rolebot serve
      rolebot serve --port 8080
      rolebot serve --workers 2
      rolebot serve --llm llama3.2 --llm-url http://localhost:11434/v1 --mcp
    """
    from . import config

    if llm_url and not (llm or config.llm_model()):
        raise InputError("--llm-url needs a model: add --llm MODEL (or set ROLEBOT_LLM_MODEL).")
    from .workers import with_workers

    chatbot = with_workers(_load(ctx), workers)  # forked before gradio is imported: the workers need none of it
    try:
        from .web import launch  # gradio takes seconds to import: only this command pays for it
    except ImportError as exc:
        raise click.ClickException(
            f"The web UI cannot start: {exc}. Install rolebot's dependencies (`make setup`)."
        ) from exc

    try:
        with _engine_errors():
            # unset: launch reads the environment
            extras = {"llm": llm, "llm_url": llm_url, "mcp": mcp or None, "workers": workers}
            launch(host, port, bot=chatbot, **{k: v for k, v in extras.items() if v is not None})
    except OSError as exc:  # e.g. the port is taken
        raise click.ClickException(f"Cannot start the web server: {exc}") from exc


def _space_id(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from .deploy import SPACE_ID

    if not SPACE_ID.match(value):
        raise click.BadParameter(f"{value!r} is not a Space id: use USER/NAME, e.g. alice/rolebot")
    return value


@cli.command()
@click.option("--space", required=True, metavar="USER/NAME", callback=_space_id, help="The Space to create or update.")
@click.option("--private", is_flag=True, help="Create the Space private (an existing Space keeps its visibility).")
@click.option("--dry-run", is_flag=True, help="List the files it would upload, and stop (no token needed).")
def deploy(space: str, private: bool, dry_run: bool) -> None:
    """Publish the web chat as a Hugging Face Space (Gradio SDK).

    Creates the Space if needed, then makes its files exactly what it runs: app.py, bot/, corpus/,
    the current index/, requirements.txt (no torch), the model's files (model/) and README.md with
    the Spaces front matter. Files of earlier deploys that are no longer needed are deleted.
    Needs a Hugging Face token with write access: `hf auth login`, or HF_TOKEN.

    \b
    Examples:
      rolebot deploy --space alice/rolebot --dry-run
      rolebot deploy --space alice/rolebot
    """
    from .deploy import deploy as publish
    from .deploy import space_files

    with _engine_errors():
        files = space_files()
        if dry_run:
            click.echo(f"Would upload to the Space {space}:")
            for item in files:
                click.echo(f"  {_megabytes(item.size):>9}  {item.path}")
            click.echo(
                f"{_plural(len(files), 'file')}, {_megabytes(sum(f.size for f in files))} (--dry-run: nothing sent)"
            )
            return
        url = publish(space, private=private, files=files)
    click.echo(f"Deployed {_plural(len(files), 'file')} to {url} (the Space builds and starts within minutes).")


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.1f} kB"


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _percent(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.1%}"


def _counted(summary: dict, name: str) -> str:
    """ "85.7% 24/28": the rate and what it is of (``--json`` adds the 95 % interval)."""
    passed, total = summary["tallies"][name]
    return f"{_percent(summary[name])} {passed}/{total}" if total else "n/a"


def main() -> None:
    """Entry point of the ``rolebot`` script and ``python -m bot``.

    A bug (an exception rolebot did not raise on purpose) exits 1 with one line that says what to do;
    ROLEBOT_DEBUG=1 shows the traceback instead.
    """
    try:
        cli(prog_name="rolebot")
    except Exception as exc:
        if os.environ.get("ROLEBOT_DEBUG"):
            raise
        click.echo(
            f"Error: internal error ({type(exc).__name__}: {exc}). Re-run with ROLEBOT_DEBUG=1 for the "
            "traceback and report it.",
            err=True,
        )
        sys.exit(1)
