"""bot/profile.py: what the bot knows of its corpus is data (rolebot.toml) or derived from the article."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot import config
from bot.corpus import load_corpus
from bot.errors import CorpusError
from bot.profile import load_profile

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "devops-vs-sre" / "corpus"


def test_no_module_names_the_articles_roles():
    """Knowledge of an article is data: no file under bot/ names the roles the corpus compares."""
    pattern = re.compile(r"ai engineer|ml engineer|machine learning engineer", re.I)
    named = [p.name for p in (ROOT / "bot").rglob("*.py") if pattern.search(p.read_text(encoding="utf-8"))]
    assert named == []


def test_profile_file_is_read():
    profile = load_profile(config.corpus_dir(), load_corpus(config.corpus_dir()))
    assert [e.name for e in profile.entities] == ["AI Engineer", "ML Engineer"]
    assert profile.examples[0] == "How is an AI Engineer different from an ML Engineer?"
    assert "AI Engineer role" in profile.tagline and profile.fingerprint


def test_without_a_profile_everything_is_derived(tmp_path):
    shutil.copy(FIXTURE / "devops-vs-sre.md", tmp_path)
    profile = load_profile(tmp_path, load_corpus(tmp_path))
    assert profile.title.startswith("Understanding the Role of a Site Reliability Engineer")
    assert [e.name for e in profile.entities] == ["Site Reliability Engineer", "DevOps Engineer"]
    assert profile.entities[0].mentioned_in("what do site reliability engineers do?")
    assert profile.examples and all(q.endswith("?") for q in profile.examples)
    assert "Site Reliability Engineer" in profile.topic and not profile.fingerprint


def test_abbreviations_become_aliases(tmp_path):
    (tmp_path / "a.md").write_text(
        "# Roles\n\nQuality Assurance (QA) Engineers test things.\n\n| Aspect | QA Engineer | Developer |\n|---|---|---|\n"
        "| Focus | Tests | Builds |\n",
        encoding="utf-8",
    )
    qa = load_profile(tmp_path, load_corpus(tmp_path)).entities[0]
    assert qa.mentioned_in("what does a quality assurance engineer do?")


def test_masking_and_shared_heads():
    profile = load_profile(FIXTURE, load_corpus(FIXTURE))
    assert profile.mask("How much does an SRE make?") == "How much does this role make?"
    assert profile.other_titles("platform engineer vs SRE?") == ["platform engineer"]


def test_a_title_that_only_starts_with_an_alias_is_another_title():
    """ "UX" stands for the UX Designer, so "UX researcher" must not be read as that entity with a stray noun."""
    folder = ROOT / "tests" / "fixtures" / "ux-vs-ui" / "corpus"
    profile = load_profile(folder, load_corpus(folder))
    assert profile.other_titles("ux researcher vs ux designer difference") == ["ux researcher"]
    assert profile.other_titles("what does a senior UX designer do?") == []
    assert profile.other_titles("is a UX writer the same as a UI designer?") == ["UX writer"]


def test_a_broken_profile_is_a_corpus_error(tmp_path):
    shutil.copy(FIXTURE / "devops-vs-sre.md", tmp_path)
    (tmp_path / "rolebot.toml").write_text("examples = 'not a list'\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="examples"):
        load_profile(tmp_path, load_corpus(tmp_path))


def test_the_profile_may_reword_the_bots_sentences(tmp_path):
    shutil.copy(FIXTURE / "devops-vs-sre.md", tmp_path)
    (tmp_path / "rolebot.toml").write_text(
        '[wording]\nllm_written = "Geschrieben von {model}; rolebot hat jeden Satz geprüft."\n', encoding="utf-8"
    )
    profile = load_profile(tmp_path, load_corpus(tmp_path))
    assert profile.say("llm_written", model="m") == "Geschrieben von m; rolebot hat jeden Satz geprüft."
    assert profile.say("llm_dropped", count=1, model="m").startswith("1 of m's sentences")  # the rest as before
    (tmp_path / "rolebot.toml").write_text('[wording]\nllm_writen = "typo"\n', encoding="utf-8")
    with pytest.raises(CorpusError, match="no key 'llm_writen'"):
        load_profile(tmp_path, load_corpus(tmp_path))


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Careers in AI: What Does an AI Engineer Actually Do?", "What Does an AI Engineer Actually Do?"),
        # The question after the colon needs the headline: kept whole.
        ("AI Engineer vs. ML Engineer: What's the Difference?", "AI Engineer vs. ML Engineer: What's the Difference?"),
        ("Machine Learning Engineers: What Do They Do?", "Machine Learning Engineers: What Do They Do?"),
        ("note: what is an AI engineer", "what is an AI engineer"),
    ],
)
def test_a_headline_before_a_question_that_stands_alone_is_dropped(question, expected):
    profile = load_profile(config.corpus_dir(), load_corpus(config.corpus_dir()))
    assert profile.without_headline(question) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the difference between AI & software engineers", "the difference between AI engineers & software engineers"),
        ("do software and AI engineers work together?", "do software engineers and AI engineers work together?"),
        ("data or ML engineers?", "data engineers or ML engineers?"),
        ("tools and AI engineers' skills", "tools and AI engineers' skills"),  # "tools" is no title
        ("the AI and the engineers", "the AI and the engineers"),
        ("AI vs ML engineer", "AI engineer vs ML engineer"),  # the two entities, spelt out once
        # An alias counts like the name: this real question was read as "AI, and machine learning engineers".
        (
            "What are the key differences between AI and machine learning engineers",
            "What are the key differences between AI engineers and machine learning engineers",
        ),
        ("data scientist vs ai engineer", "data scientist vs ai engineer"),  # "scientist" is a title's own noun
        ("Is creativity important for AI engineers?", "Is creativity important for AI engineers?"),  # "for" has "or"
    ],
)
def test_an_entity_and_another_title_sharing_their_last_word_are_spelt_out(text, expected):
    from bot import config
    from bot.corpus import load_corpus
    from bot.profile import load_profile

    profile = load_profile(config.corpus_dir(), load_corpus(config.corpus_dir()))
    assert profile.expand(text) == expected
