"""Turn a short follow-up into a standalone question using the earlier turns and the profile's entities.

With the entities "Site Reliability Engineer" (alias "SRE") and "DevOps Engineer" of a corpus profile:
"and what tools do they use?" after "What does an SRE do?" → "and what tools do Site Reliability Engineers use?"
"what about DevOps engineers?" after "What tools do SREs use?" → "What tools do DevOps Engineers use?"
"and the other one?" after a question about one entity → the same question about the other.
"what's that?" after an answer that says "…they sometimes run A/B tests…" → "what is an A/B test?" (a term the
article defines, see ``scope.defined_terms``).
Rules, not a language model: they are predictable, instant and easy to test. The English words they
read (pronouns, "what about", "tell me more") are grammar, not knowledge of an article.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import cached_property

from .profile import Entity, Profile
from .scope import Term
from .text import COMPARING, STOPWORDS

_PRONOUN = re.compile(r"\b(they|them|their|theirs|he|she|his|her|those|these guys|such people)\b", re.I)
_POSSESSIVE = ("their", "theirs", "his", "her")
_LEADS = re.compile(
    r"^\s*(?:and what about|and how about|what about|how about|and for|and the|same for|what of|and|but|also|so|ok(?:ay)?|then|for)\b[\s,]*",
    re.I,
)
_FILLER = re.compile(
    r"\b(?:for|the|a|an|about|of|on|to|with|as|side|ones?|then|too|instead|please|people|folks|role|job|what)\b|['’]s\b",
    re.I,
)
_OTHER = re.compile(r"\b(?:the\s+)?other\s*(?:one|ones|side|role|job|kind|type|way\s+round)?\b", re.I)
_MORE = re.compile(
    r"^\s*(?:tell me more|more|go on|continue|elaborate|why|how so|explain(?: that| more)?|details?)\b", re.I
)
# "go on, tell me more about them", "explain that a bit", "then what happens?": nothing but asking for more of
# the last answer.
_MORE_ONLY = re.compile(
    r"^(?:\W|\b(?:tell me more|tell me|more|go on|continue|keep going|elaborate|why|how so|explain|details?|please|"
    r"ok(?:ay)?|so|and|about|on|them|it|that|this|those|these|a bit|a little|further|then|after that|"
    r"what happens|what comes|then what|what next|next)\b)*$",
    re.I,
)
# "give me some examples", "an example?": examples of what the last question was about.
_EXAMPLES = re.compile(
    r"^\W*(?:(?:can|could) you\s+)?(?:(?:give|show|list)(?:\s+me)?\s+|any\s+|what are\s+)?(?:some\s+|an?\s+|more\s+)?"
    r"examples?(?:\s+of\s+(?:one|them|it|that|those|these))?(?:\s+please)?\W*$",
    re.I,
)
# "what's that?", "what does that mean?", "meaning?": what a word of the last answer (or question) means.
_WHAT_THAT = re.compile(
    r"^\W*(?:(?:and|so|sorry|wait|hm+|um+)\W+)?(?:(?:what(?:['’]?s|\s+is|\s+are|\s+does|\s+do)|whats)\s+"
    r"(?:that|this|those|these|it)(?:\s+one)?(?:\s+mean)?|meaning|define\s+(?:that|it))\W*$",
    re.I,
)
_WORD = re.compile(r"[a-z0-9+#]+")
# "how do they fix it?", "do they work together on it?": a pronoun object ending the question stands for what
# the last question was about.
_IT = re.compile(r"(?<!\bis )(?<!\bwas )\b(?:it|this|that)\s*[?.!]*\s*$", re.I)
# "which one is more technical?", "who uses XGBoost?" after a question about two entities: one of those two. Verbs
# of pay ("who earns more?") are left out: the entities' names would make a question the article does not
# answer look like one it does.
_WHICH_ONE = re.compile(
    r"^(?:which|who)(?:\s+(?:one|ones|of them|of the two|role|job))?\s+(?:is|are|has|have|does|do|needs?|uses?|works?)\b"
    r"|^(?:which|who)\s+(?:one|of them|of the two)\b",
    re.I,
)
# "which one should I learn first?" after an answer that lists things (in a list or a table's cells): one of those
# things, not of the entities.
_WHICH_ITEM = re.compile(
    r"^(?:which|what)\s+(?:one|ones|of (?:them|these|those)|should|do|would)\b.*"
    r"\b(?:first|start\w*|begin\w*|most|best|priorit\w*|focus\w*|learn\w*|pick|choose)\b",
    re.I,
)
_LIST_LINE = re.compile(r"^\s*(?:[-*]|\d+\.|\|)\s+\S", re.M)  # a list's line or a table's row
# "how do I become one?": "one" stands for the entity talked about.
_ONE = re.compile(r"\b(become|becoming|be|hire|hiring)\s+one\b", re.I)


class FollowUps:
    """Resolves follow-ups for the profile's entities; a corpus without entities gets "tell me more" only."""

    def __init__(self, profile: Profile, terms: Sequence[Term] | Callable[[], Sequence[Term]] = ()) -> None:
        self.profile = profile
        self._terms = terms  # or what finds them, called when a follow-up first asks (a one-shot question never does)
        self.entities = profile.entities
        # The words that tell one entity from the others ("ml", "machine", "learning" vs "ai", ...): a bare
        # "and ML?" names an entity by them.
        words = {e.name: set(_WORD.findall(" ".join(e.names).lower())) for e in self.entities}
        self._own_words = {
            e.name: words[e.name] - set().union(*(w for n, w in words.items() if n != e.name)) for e in self.entities
        }
        # The head noun every entity's name shares ("engineer", "designers"): "the UI designers?" is still bare.
        self._shared_words = set.intersection(*words.values()) if words else set()

    @cached_property
    def terms(self) -> list[tuple[Term, re.Pattern[str]]]:
        terms = self._terms() if callable(self._terms) else self._terms
        return [(term, term.pattern()) for term in terms]

    def entity_of(self, text: str) -> Entity | None:
        """The one entity a text talks about; None for none or several."""
        found = [e for e in self.entities if e.mentioned_in(text)]
        return found[0] if len(found) == 1 else None

    @staticmethod
    def _one(question: str, entity: Entity) -> str:
        first = entity.name.split()[0]
        # "an SRE", "an HR manager": an abbreviation is read letter by letter.
        vowel_sound = "AEFHILMNORSX" if first.isupper() else "AEIOUaeiou"
        article = "an" if first[:1] in vowel_sound else "a"
        return _ONE.sub(lambda m: f"{m.group(1)} {article} {entity.name}", question)

    def _swap(self, text: str, entity: Entity) -> str:
        """``text`` with the other entities' mentions replaced by ``entity``, in the same number: "what does a UI
        designer do?" → "what does a UX Designer do?", "UI designers'" → "UX Designers'"."""

        def same_number(match: re.Match[str]) -> str:
            said = match.group(0)
            if re.search(r"['’]s$", said):
                return entity.name + said[-2:]
            if said.lower().rstrip("'’").endswith("s"):
                return entity.plural + said[len(said.rstrip("'’")) :]
            return entity.name

        for other in self.entities:
            if other is not entity:
                text = other.pattern.sub(same_number, text)
        return text

    def _bare_entity(self, rest: str) -> Entity | None:
        """ "ML", "the ML side", "machine learning ones": words of exactly one entity and filler."""
        words = set(_WORD.findall(_FILLER.sub(" ", rest).lower()))
        if not words:
            return None
        matches = [e for e in self.entities if words <= self._own_words[e.name] | self._shared_words]
        matches = [e for e in matches if words & self._own_words[e.name]]
        return matches[0] if len(matches) == 1 else None

    def _with_topic(self, question: str, last: str) -> str:
        """ "how do SREs fix it?" after "what are SREs' performance concerns?" → "how do SREs fix it?
        (performance concerns)": the last question's words besides its entities and stopwords."""
        if not (_IT.search(question) or _EXAMPLES.match(question)):
            return question
        topic = self._topic(last)
        return f"{question} ({' '.join(topic)})" if topic else question

    def _topic(self, last: str) -> list[str]:
        """The last question's words besides its entities and stopwords."""
        rest = last
        for entity in self.entities:
            rest = entity.pattern.sub(" ", rest)
        return [w for w in _WORD.findall(rest.lower()) if w not in STOPWORDS and len(w) > 1]

    @staticmethod
    def asks_more(question: str) -> bool:
        """ "tell me more", "go on", "why?": more of the last answer, no new topic; so is "what does that mean?"
        when the last answer names no term the article defines (see ``resolution``)."""
        if _MORE_ONLY.match(question.strip()) or _WHAT_THAT.match(question):
            return bool(question.strip(" ?.!,"))
        return bool(_MORE.match(question)) and len(_MORE.sub("", question).strip(" ?.!").split()) <= 1

    def resolve(self, question: str, previous: list[str], last_answer: str = "") -> str:
        """A standalone version of ``question``; ``previous`` holds the earlier resolved questions, oldest first,
        ``last_answer`` the answer to the last of them."""
        return self.resolution(question, previous, last_answer)[0]

    def resolution(self, question: str, previous: list[str], last_answer: str = "") -> tuple[str, str]:
        """The standalone question, and the earlier question it asks again about another entity ("what about
        DevOps engineers?" asks "What tools do SREs use?" again); "" when it asks something new."""
        if previous and _WHAT_THAT.match(question):
            term = self._term_meant(previous[-1], last_answer)
            if term is not None:
                plural = term.asked == term.name and term.name.endswith("s") and not term.name.endswith("ss")
                return f"what {'are' if plural else 'is'} {term.asked}?", ""
        resolved = self._resolve(question, previous, last_answer)
        last = previous[-1] if previous else ""
        again = (
            bool(last)
            and resolved != last
            and resolved
            in (self._swap(last, e) if self.entity_of(last) else f"{last} ({e.plural})" for e in self.entities)
        )
        return resolved, (last if again else "")

    def _term_meant(self, last: str, last_answer: str) -> Term | None:
        """The term "that" stands for: the one of the last question, else the one the last answer names last,
        among the terms the article defines and the answer has not defined already."""
        for text in (last, last_answer):
            named = [
                (match.start(), term)
                for term, pattern in self.terms
                if term.definition not in last_answer
                for match in pattern.finditer(text)
            ]
            if named:
                return max(named, key=lambda found: found[0])[1]
        return None

    def _resolve(self, question: str, previous: list[str], last_answer: str = "") -> str:
        if not previous:
            # "How can I become one?" as a first message: one of what the article is about, its first entity.
            if self.entities and not self.entity_of(question) and _ONE.search(question):
                return self._one(question, self.entities[0])
            return question
        last = previous[-1]
        last_entity = next((e for e in map(self.entity_of, reversed(previous)) if e), None)
        entity = self.entity_of(question)
        rest = _LEADS.sub("", question).strip(" ?.!")
        led = rest != question.strip(" ?.!")

        def about(target: Entity) -> str:
            return self._swap(last, target) if self.entity_of(last) else f"{last} ({target.plural})"

        # "what about DevOps engineers?" / "and for SREs?": the same question, other entity.
        if entity and not _FILLER.sub("", entity.pattern.sub("", rest)).strip(" ?.!,"):
            return about(entity)
        # "and the other one?": the entity the last question did not name.
        if last_entity and len(self.entities) == 2 and _OTHER.fullmatch(rest.strip()):
            return about(next(e for e in self.entities if e is not last_entity))
        # "what about the ML side?" / "and ML?": a bare entity word.
        bare = self._bare_entity(rest) if led or len(rest.split()) <= 3 else None
        if bare:
            return about(bare)
        # "tell me more" / "why?": the previous question again.
        if self.asks_more(question):
            return last
        # "give me some examples": of what the last question asked about.
        if _EXAMPLES.match(question):
            return self._with_topic(question, last)
        # "what about a service designer?": a title the profile does not compare is asked about on its own (the
        # scope check declines it when the article does not discuss it).
        if led and not entity and self.profile.other_titles(rest):
            return question
        if entity or (len(self.entities) > 1 and sum(e.mentioned_in(question) for e in self.entities) > 1):
            # "how do UX designers use it?" after "what is information architecture?": "it" is that topic.
            return self._with_topic(question, last) if entity else question
        named_last = [e for e in self.entities if e.mentioned_in(last)]
        if named_last and len(self.entities) == 2 and COMPARING.search(last):
            named_last = self.entities  # "UX vs UI designers" compares the pair
        if len(named_last) >= 2 and _WHICH_ONE.match(rest):
            return f"{question} ({' or '.join(e.plural for e in named_last)})"
        if _WHICH_ITEM.match(rest) and _LIST_LINE.search(last_answer):
            # "(Data Analysts skills)": the entity stays, so the question is not read as "which of the entities".
            topic = ([last_entity.plural] if last_entity else []) + self._topic(last)
            return f"{question} ({' '.join(topic)})" if topic else question
        if last_entity and _ONE.search(question):
            return self._one(question, last_entity)
        # Pronouns point at the last entity talked about; a final "it" at the last question's topic.
        if last_entity and _PRONOUN.search(question):
            question = _PRONOUN.sub(
                lambda m: f"{last_entity.plural}'" if m.group(1).lower() in _POSSESSIVE else last_entity.plural,
                question,
            )
            return self._with_topic(question, last)
        if _IT.search(question):
            return self._with_topic(question, last)
        if led or _MORE.match(question):
            return f"{question} ({last_entity.plural})" if last_entity else question
        return question
