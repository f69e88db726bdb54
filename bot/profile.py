"""What rolebot knows about its corpus beyond the text: the profile, as data beside the corpus.

``<corpus>/rolebot.toml`` names the entities the article compares (with their aliases), example
questions and the bot's one-line description of what it covers. Every field is optional: what is
missing is derived from the article itself (title from the first ``#`` heading, entities from a
comparison table's header, aliases from abbreviations such as "Machine Learning (ML)"), and the
bot's own wording comes from ``bot/data/wording.toml``, where a ``[wording]`` table in the profile may
replace any of its sentences. No module names an article's roles in code.
"""

from __future__ import annotations

import hashlib
import re
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .chunking import HEADING
from .corpus import PROFILE_FILE, Document
from .errors import CorpusError
from .text import STOPWORDS, word_list

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DATA_DIR = Path(__file__).resolve().parent / "data"
MAX_EXAMPLES = 6

# "Machine Learning (ML)", "Site Reliability Engineering (SRE)": a capitalised phrase and its abbreviation.
_ABBREVIATION = re.compile(r"\b((?:[A-Z][\w-]*\s+){0,4}[A-Z][\w-]*)\s+\(([A-Z][A-Za-z]{1,7})\)")


# "Careers in ops: What Does an SRE Actually Do?": a headline, a colon, then a question of its own.
_HEADLINE = re.compile(
    r"^\s*([^:?]{3,80}):\s+((?:what|who|how|why|which|where|when|is|are|do|does|can|should)\b.*)$", re.I | re.S
)


def title_breaks() -> frozenset[str]:
    """Words that end a job title's qualifiers (bot/data/title_breaks.txt)."""
    return word_list("title_breaks.txt")


def role_synonyms() -> tuple[frozenset[str], frozenset[str]]:
    """Head nouns naming the same job as an entity's, and words inside a title that do not change the job
    (bot/data/role_synonyms.txt: the second kind is written with a leading "@")."""
    words = word_list("role_synonyms.txt")
    return frozenset(w for w in words if not w.startswith("@")), frozenset(w[1:] for w in words if w.startswith("@"))


def role_nouns() -> frozenset[str]:
    """Head nouns of job titles (bot/data/role_nouns.txt)."""
    return word_list("role_nouns.txt")


def job_words() -> frozenset[str]:
    """Words that make a question about jobs though it names none of the entities: bot/data/role_words.txt ("both",
    "roles"), and the head nouns of job titles with their plurals ("designers compared to developers")."""
    nouns = role_nouns()
    return word_list("role_words.txt") | nouns | {f"{n}s" for n in nouns}


def load_wording() -> dict[str, str]:
    """The bot's own sentences, with {placeholders} (see bot/data/wording.toml)."""
    with (DATA_DIR / "wording.toml").open("rb") as handle:
        return tomllib.load(handle)


@dataclass
class Entity:
    """One of the things the article compares, e.g. a role."""

    name: str
    plural: str = ""
    aliases: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.plural:
            self.plural = self.name if self.name.endswith("s") else f"{self.name}s"

    @property
    def names(self) -> list[str]:
        """Every way of writing the entity, longest first (so "site reliability engineer" wins over "SRE")."""
        seen: dict[str, str] = {}
        for name in (self.name, self.plural, *self.aliases):
            seen.setdefault(name.lower(), name)
        return sorted(seen.values(), key=len, reverse=True)

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """Matches a mention: case-insensitive, plural or possessive, hyphen or space between words."""
        alternatives = []
        for name in self.names:
            words = [re.escape(w) for w in re.split(r"[\s-]+", name.strip()) if w]
            alternatives.append(r"[\s-]*".join(words))
        return re.compile(r"(?<![\w-])(?:" + "|".join(alternatives) + r")(?:s|es|'s|’s|s'|s’)?(?![\w-])", re.I)

    def mentioned_in(self, text: str) -> bool:
        return bool(self.pattern.search(text))


@dataclass
class Profile:
    title: str
    topic: str
    placeholder: str
    examples: list[str]
    entities: list[Entity]
    wording: dict[str, str] = field(default_factory=dict, repr=False)
    fingerprint: str = ""  # hash of the profile file's bytes ("" when there is none)

    def say(self, key: str, **values: object) -> str:
        """One of the bot's sentences (bot/data/wording.toml), filled in for this article."""
        return self.wording[key].format(topic=self.topic, title=self.title, **values)

    @property
    def tagline(self) -> str:
        return self.say("tagline")

    @property
    def greeting(self) -> str:
        return self.say("greeting")

    @property
    def empty_question(self) -> str:
        return self.say("empty_question")

    def entities_in(self, text: str) -> list[Entity]:
        """The profile's entities a text mentions, in the profile's order."""
        return [e for e in self.entities if e.mentioned_in(text)]

    def mask(self, text: str) -> str:
        """The text with every entity mention (and its article) replaced by a neutral placeholder, so that
        questions about different articles' entities can be compared."""
        placeholder = self.wording.get("entity_placeholder", "this role")
        for entity in self.entities:
            text = re.sub(rf"(?:\b(?:an?|the)\s+)?(?:{entity.pattern.pattern})", placeholder, text, flags=re.I)
        return text

    def without_headline(self, text: str) -> str:
        """ "Careers in ops: What does an SRE actually do?" → the question after the colon, when it names an
        entity itself: the words before it are a page's headline, not part of what is asked."""
        match = _HEADLINE.match(text)
        if match and self.entities_in(match.group(2)):
            return match.group(2)
        return text

    def expand(self, text: str) -> str:
        """ "data and DevOps engineers" → "data engineers and DevOps engineers": entities sharing their last word,
        written once."""
        for pattern in self._written_once:
            text = pattern.sub(r"\1 \4 \2 \3 \4", text)
        # "UX & graphic designers", "graphic and UX designers": an entity and another title sharing the last word.
        for entity in self.entities:
            short, _, head = entity.name.rpartition(" ")
            if not short:
                continue
            joined = r"((?:\s+(?:and|or|vs\.?|versus)\s+)|(?:\s*[&/]\s*))"
            other = r"([A-Za-z][\w-]*\b)"
            ending = rf"\s+({re.escape(head)}\w*)\b"
            text = re.sub(rf"\b({re.escape(short)}){joined}{other}{ending}", self._spelt_out, text, flags=re.I)
            text = re.sub(rf"\b{other}{joined}({re.escape(short)}){ending}", self._spelt_out, text, flags=re.I)
        return text

    @cached_property
    def _written_once(self) -> list[re.Pattern[str]]:
        """For every two spellings of two entities that share their last word ("UX and user interface designers"),
        longest first: the pattern of the pair written with that word once."""
        spellings = [sorted({e.name, *e.aliases}, key=len, reverse=True) for e in self.entities]
        pairs = [
            (a, b) for i, x in enumerate(spellings) for j, y in enumerate(spellings) if i != j for a in x for b in y
        ]
        patterns = []
        for name_a, name_b in pairs:
            short_a, _, head_a = name_a.rpartition(" ")
            short_b, _, head_b = name_b.rpartition(" ")
            if head_a.lower() == head_b.lower() and short_a and short_b:
                joined = r"\s*(and|or|&|vs\.?|versus|/)\s*"
                ending = rf"\s+({re.escape(head_a)}\w*)"
                patterns.append(re.compile(rf"\b({re.escape(short_a)}){joined}({re.escape(short_b)}){ending}", re.I))
        return patterns

    def _spelt_out(self, match: re.Match[str]) -> str:
        """ "UX & graphic designers" → "UX designers & graphic designers", unless the other word is no title's
        first word (a stopword, a plural such as "tools", a role noun, the shared noun itself) or the pair is an
        entity."""
        a, conj, b, noun = match.groups()
        word = b if self.entities_in(f"{a} {noun}") else a
        if (
            word.lower() in STOPWORDS
            or word.lower() in role_nouns()  # "data scientist vs DevOps engineer": a title of its own
            or word.lower().endswith("s")
            or word.lower().startswith(noun.lower().removesuffix("s"))
            or self.entities_in(f"{word} {noun}")
        ):
            return match.group(0)
        return f"{a} {noun}{conj}{b} {noun}"

    def other_titles(self, text: str) -> list[str]:
        """Job titles the text names that are not the profile's entities ("AI researcher", "data scientists").

        A title whose head noun is part of an entity's name is that entity ("senior SRE engineer"); one that
        only starts with an alias is not ("UX researcher" when "UX" stands for the UX Designer)."""
        mentions = [m.span() for entity in self.entities for m in entity.pattern.finditer(text)]
        titles = []
        nouns = "|".join(sorted(role_nouns(), key=len, reverse=True))
        for match in re.finditer(rf"((?:[A-Za-z][\w+#-]*\s+){{1,2}})({nouns})s?\b", text, re.I):
            if any(start < match.end() and match.start(2) < end for start, end in mentions):
                continue  # the noun belongs to an entity's name
            # The words right before the noun that qualify it: "data scientist", not "skills do engineers".
            words: list[str] = []
            for word in reversed(match.group(1).split()):
                if word.lower() in title_breaks() or (word.lower() in STOPWORDS and len(word) < 5):
                    break
                words.insert(0, word)
            if words:
                titles.append(" ".join([*words, match.group(2)]))
        return titles

    def other_names(self, text: str) -> list[tuple[str, Entity]]:
        """Titles in the text that are another name for an entity: "UX developer" or "senior site reliability
        programmer" is what an article calls a UX Designer or a Site Reliability Engineer (the same qualifier, a
        head noun of bot/data/role_synonyms.txt). "UX researcher" is another job and is not listed."""
        heads, neutral = role_synonyms()
        found = []
        for title in self.other_titles(text):
            *qualifier, head = title.lower().split()
            qualifier = [w for w in qualifier if w not in neutral]
            if head not in heads or not qualifier:
                continue
            for entity in self.entities:
                if any(
                    name.lower().split()[:-1] == qualifier and name.lower().split()[-1] in heads
                    for name in entity.names
                    if len(name.split()) > 1
                ):
                    found.append((title, entity))
                    break
        return found

    def renamed(self, text: str) -> tuple[str, list[tuple[str, Entity]]]:
        """The text with other names of an entity written as the entity's own ("what does an SRE developer do?" →
        "what does an SRE engineer do?"), and the names replaced."""
        found = self.other_names(text)
        for title, entity in found:
            words = [re.escape(w) for w in title.split()]
            pattern = re.compile(r"(?<![\w-])" + r"[\s-]+".join(words) + r"(s?)(?![\w-])", re.I)
            text = pattern.sub(lambda m, e=entity: e.plural if m.group(1) else e.name, text)
        return text, found

    def entity_terms(self) -> set[str]:
        """Lower-case words that only name an entity ("ml", "engineer"): they frame a question, not its topic."""
        return {w for e in self.entities for name in e.names for w in re.findall(r"[a-z0-9+#]+", name.lower())}


def load_profile(folder: Path, docs: list[Document]) -> Profile:
    """The profile of the corpus in ``folder``: its rolebot.toml where present, derived values elsewhere."""
    path = folder / PROFILE_FILE
    data: dict = {}
    fingerprint = ""
    if path.is_file():
        try:
            raw = path.read_bytes()
            data = tomllib.loads(raw.decode("utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise CorpusError(f"Corpus profile {path} cannot be read ({exc})") from exc
        fingerprint = hashlib.sha256(raw).hexdigest()
    wording = load_wording() | _wording(data, path)
    text = "\n\n".join(d.text for d in docs)
    title = _str(data, "title", path) or derive_title(docs)
    topic = _str(data, "topic", path) or wording["topic"].format(title=title)
    entities = _entities(data, path) or derive_entities(text)
    _add_abbreviations(entities, text)
    examples = _str_list(data, "examples", path) or derive_examples(text, entities, wording)
    placeholder = _str(data, "placeholder", path) or wording["placeholder"]
    return Profile(title, topic, placeholder, examples[:MAX_EXAMPLES], entities, wording, fingerprint)


def derive_title(docs: list[Document]) -> str:
    for doc in docs:
        match = HEADING.search(doc.text)
        if match and len(match.group(1)) == 1:
            return match.group(2)
    first = docs[0].text.strip().splitlines() if docs else []
    return first[0].strip("# ").strip() if first else "the article"


def derive_entities(text: str) -> list[Entity]:
    """The column headings of the first comparison table (the first column names the aspects)."""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("|") and line.count("|") >= 4:
            cells = [c.strip() for c in line.strip("|").split("|")]
            names = [c for c in cells[1:] if c]
            if len(names) >= 2:
                return [Entity(name) for name in names]
    return []


def derive_examples(text: str, entities: list[Entity], wording: dict[str, str]) -> list[str]:
    """The article's own question headings ("Who is a Data Engineer?") and, with two entities, a comparison."""
    examples = []
    if len(entities) >= 2:
        examples.append(wording["compare_example"].format(a=entities[0].plural, b=entities[1].plural))
    for _, heading in HEADING.findall(text):
        heading = re.sub(r"^\d+[.)]\s*", "", heading).strip()
        if heading.endswith("?") and heading not in examples:
            examples.append(heading)
    return examples


def _add_abbreviations(entities: list[Entity], text: str) -> None:
    """An abbreviation defined in the text ("Quality Assurance (QA)") makes "Quality Assurance Engineer" an alias of
    the entity "QA Engineer", and the other way round."""
    pairs = {(long.strip(), short) for long, short in _ABBREVIATION.findall(text)}
    for entity in entities:
        for long, short in pairs:
            long_words = long.split()
            # Keep only the words of the phrase that spell the abbreviation ("Many people confuse Machine Learning").
            initials = "".join(w[0].upper() for w in long_words)
            start = initials.rfind(short.upper())
            if start < 0:
                continue
            long = " ".join(long_words[start : start + len(short)])
            for name in (entity.name, entity.plural):
                if re.search(rf"\b{re.escape(short)}\b", name):
                    for variant in (name.replace(short, long), name.replace(short, f"{long} ({short})")):
                        if variant.lower() not in (a.lower() for a in entity.names):
                            entity.aliases.append(variant)
                elif long.lower() in name.lower():
                    variant = re.sub(re.escape(long), short, name, flags=re.I)
                    if variant.lower() not in (a.lower() for a in entity.names):
                        entity.aliases.append(variant)
        entity.__dict__.pop("pattern", None)  # aliases changed: recompile on next use


def _str(data: dict, key: str, path: Path) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise CorpusError(f"Corpus profile {path}: {key!r} must be a string")
    return value.strip()


def _wording(data: dict, path: Path) -> dict[str, str]:
    """The profile's own sentences for keys of bot/data/wording.toml (``[wording]``); an unknown key is an error,
    so that a misspelt key is not silently ignored."""
    value = data.get("wording", {})
    known = load_wording()
    if not isinstance(value, dict) or not all(isinstance(v, str) and v.strip() for v in value.values()):
        raise CorpusError(f"Corpus profile {path}: [wording] must map keys of bot/data/wording.toml to strings")
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise CorpusError(f"Corpus profile {path}: [wording] has no key {', '.join(map(repr, unknown))}")
    return {k: v.strip() for k, v in value.items()}


def _str_list(data: dict, key: str, path: Path) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise CorpusError(f"Corpus profile {path}: {key!r} must be a list of strings")
    return [v.strip() for v in value]


def _entities(data: dict, path: Path) -> list[Entity]:
    raw = data.get("entities", [])
    if not isinstance(raw, list):
        raise CorpusError(f"Corpus profile {path}: 'entities' must be a list of tables ([[entities]])")
    entities = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].strip():
            raise CorpusError(f"Corpus profile {path}: every [[entities]] needs a name")
        entities.append(Entity(item["name"].strip(), _str(item, "plural", path), _str_list(item, "aliases", path)))
    return entities
