"""The README and the docs pages against the real program: every `rolebot ...` command they show exists with the
options shown, the JSON keys they list are the keys `ask --json` prints, the configuration tables name every
ROLEBOT_* variable the code reads, the deploy figures are today's, and the README stays a short guide (≤ 12 KB)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_docs import PENDING_PAGES

from bot.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").glob("*.md"))
MAX_README_BYTES = 12 * 1024

COMMAND = re.compile(r"(?:^\s*|bin/|[|;(]\s*|&&\s*|\$\s+)rolebot[ \t]+([a-z][a-z-]*)([^\n`]*)")
"""A command where a shell would run it: at the start of a line or a code span, after a path, a pipe or a prompt."""
SHELL_STOP = {"|", "||", "&&", ";", ">", "<", "2>"}


def documents() -> list[Path]:
    return [README, *PAGES]


def code(text: str) -> list[str]:
    """Fenced blocks and inline code spans: where a command is shown, not where rolebot is named in prose."""
    blocks = re.findall(r"```[^\n]*\n(.*?)```", text, flags=re.S)
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    return blocks + re.findall(r"`([^`\n]+)`", prose)


def shown_commands(path: Path) -> list[tuple[str, list[str], str]]:
    """(subcommand, option tokens, the line) for every `rolebot SUBCOMMAND ...` shown in ``path``."""
    found = []
    for snippet in code(path.read_text(encoding="utf-8")):
        for line in snippet.splitlines():
            for match in COMMAND.finditer(line):
                rest = re.split(r"\s#\s", match.group(2), maxsplit=1)[0]  # a trailing shell comment
                try:
                    words = shlex.split(rest)
                except ValueError:  # an unbalanced quote in an example's question
                    words = rest.split()
                options = []
                for word in words:
                    if word in SHELL_STOP:
                        break
                    if word.startswith("-") and word != "-":
                        options.append(word.split("=", 1)[0])
                found.append((match.group(1), options, line.strip()))
    return found


@pytest.fixture(scope="module")
def helps() -> dict[str, str]:
    runner = CliRunner()
    return {name: runner.invoke(cli, [name, "--help"]).stdout for name in cli.commands}


def test_the_readme_is_a_short_guide():
    size = len(README.read_bytes())
    assert size <= MAX_README_BYTES, f"README.md is {size} bytes: move detail to a page in docs/"


@pytest.mark.parametrize("path", documents(), ids=lambda p: p.name)
def test_every_command_shown_exists_with_the_options_shown(path, helps):
    commands = shown_commands(path)
    for name, options, line in commands:
        assert name in cli.commands, f"{path.name}: `rolebot {name}` is not a command ({line})"
        for option in options:
            assert re.search(rf"(?<![\w-]){re.escape(option)}\b", helps[name]), (
                f"{path.name}: `rolebot {name}` has no option {option} in its --help ({line})"
            )


def test_the_readme_shows_the_commands_people_use():
    names = {name for name, _, _ in shown_commands(README)}
    assert {"ask", "chat", "serve", "deploy"} <= names


def test_the_json_keys_in_help_and_docs_are_the_keys_ask_prints(bot, helps):
    printed = list(bot.ask("What tools do ML Engineers use?").to_dict())
    listed = re.search(r"--json\s+Print one JSON object: ([\w,\s]+)\.", helps["ask"])
    assert listed, helps["ask"]
    assert [k.strip() for k in listed.group(1).split(",")] == printed
    for path in documents():
        for keys in re.findall(r'\{("question", "answer"[^}]*)\}', path.read_text(encoding="utf-8")):
            assert re.findall(r'"(\w+)"', keys) == printed, f"{path.name} lists {keys}"


def variables_read_by_the_code() -> set[str]:
    names = set()
    for module in (ROOT / "bot").glob("*.py"):
        names |= set(re.findall(r"ROLEBOT_[A-Z][A-Z_]*[A-Z]", module.read_text(encoding="utf-8")))
    return names


@pytest.mark.parametrize("path", [README, ROOT / "docs" / "configuration.md"], ids=lambda p: p.name)
def test_the_configuration_tables_name_every_variable_the_code_reads(path):
    documented = set(re.findall(r"^\| `(ROLEBOT_[A-Z_]+)`", path.read_text(encoding="utf-8"), flags=re.M))
    read = variables_read_by_the_code()
    assert read, "no ROLEBOT_* variable found in bot/"
    assert documented == read, f"missing from {path.name}: {read - documented}; not read: {documented - read}"


def test_the_deploy_figures_shown_are_todays():
    result = CliRunner().invoke(cli, ["deploy", "--space", "alice/rolebot", "--dry-run"])
    assert result.exit_code == 0, result.output
    files, megabytes = re.search(r"^(\d+) files, ([\d.]+) MB \(--dry-run", result.stdout, flags=re.M).groups()
    shown = []
    for path in (README, ROOT / "docs" / "deploy.md"):
        text = path.read_text(encoding="utf-8")
        shown += re.findall(r"(\d+) files, ([\d.]+) MB \(--dry-run", text)
        shown += re.findall(r"the (\d+) files \(([\d.]+) MB", text)
    assert len(shown) >= 3
    assert set(shown) == {(files, megabytes)}, f"the dry run now says {files} files, {megabytes} MB"


def test_the_readmes_links_lead_somewhere():
    text = README.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(r'src="([^"]+)"', text)
    local = [t.split("#", 1)[0] for t in targets if "://" not in t and not t.startswith("#")]
    assert {"docs/api.md", "docs/screenshot-phone.png", "CHANGELOG.md"} <= set(local)
    missing = [t for t in local if not (ROOT / t).exists() and t not in PENDING_PAGES]
    assert not missing, missing
    anchors = [t[1:] for t in targets if t.startswith("#")]
    headings = {
        re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in re.findall(r"^#+ (.+)$", text, re.M)
    }
    assert set(anchors) <= headings, set(anchors) - headings
