"""Turn a short follow-up into a standalone question using the earlier turns.

"and what tools do they use?" after "What does an AI engineer do?" → "and what tools do AI Engineers use?"
"what about ML engineers?" after "What frameworks do AI engineers use?" → "What frameworks do ML Engineers use?"
Rules, not a language model: they are predictable, instant and easy to test.
"""

from __future__ import annotations

import re

AI = "AI Engineers"
ML = "ML Engineers"

_AI_ROLE = re.compile(
    r"\b(?:ai|artificial[- ]intelligence)[- ]?(?:engineer(?:s|ing)?|engs?|enginers?|engineeers?)\b", re.I
)
_ML_ROLE = re.compile(r"\b(?:ml|machine[- ]learning)[- ]?(?:engineer(?:s|ing)?|engs?|enginers?|engineeers?)\b", re.I)
_ROLE_ONLY = re.compile(r"\b(?:ai|ml|artificial intelligence|machine learning)\b\s*(?:ones?|side|people|folks)?", re.I)
_PRONOUN = re.compile(r"\b(they|them|their|theirs|he|she|his|her|those|these guys|such engineers)\b", re.I)
_LEADS = re.compile(
    r"^\s*(?:and what about|and how about|what about|how about|and for|and the|same for|what of|and|but|also|so|ok(?:ay)?|then|for)\b[\s,]*",
    re.I,
)
_FILLER = re.compile(r"\b(?:for|the|about|of|on|to|with|as|side|ones?|then|too|instead|please)\b|['’]s\b", re.I)
_MORE = re.compile(
    r"^\s*(?:tell me more|more|go on|continue|elaborate|why|how so|explain(?: that| more)?|details?)\b", re.I
)


def role_of(text: str) -> str | None:
    """The role a text talks about: AI, ML, or None for neither or both."""
    ai, ml = bool(_AI_ROLE.search(text)), bool(_ML_ROLE.search(text))
    if ai == ml:
        return None
    return AI if ai else ML


def mentions_both_roles(text: str) -> bool:
    return bool(_AI_ROLE.search(text) and _ML_ROLE.search(text))


def _swap_role(text: str, role: str) -> str:
    other = _ML_ROLE if role == AI else _AI_ROLE
    return other.sub(role, text)


def resolve(question: str, previous: list[str], is_followup_hint: bool = False) -> str:
    """A standalone version of ``question``; ``previous`` holds the earlier resolved questions, oldest first."""
    if not previous:
        return question
    last = previous[-1]
    last_role = next((r for r in map(role_of, reversed(previous)) if r), None)
    role = role_of(question)
    rest = _LEADS.sub("", question).strip(" ?.!")
    led = rest != question.strip(" ?.!")
    # "what about ML engineers?" / "and for AI engineers?": the same question, other role.
    if role and not _FILLER.sub("", _AI_ROLE.sub("", _ML_ROLE.sub("", rest))).strip(" ?.!,"):
        return _swap_role(last, role) if role_of(last) else f"{last} ({role})"
    # "what about the ML side?" / "and ML?": a bare role word.
    bare = _ROLE_ONLY.fullmatch(" ".join(_FILLER.sub(" ", rest).split()))
    if led and bare:
        target = ML if re.search(r"ml|machine", rest, re.I) else AI
        return _swap_role(last, target) if role_of(last) else f"{last} ({target})"
    # "tell me more" / "why?": the previous question again.
    if _MORE.match(question) and len(_MORE.sub("", question).strip(" ?.!").split()) <= 1:
        return last
    if role or (role_of(question) is None and mentions_both_roles(question)):
        return question
    # Pronouns point at the last role talked about.
    if last_role and _PRONOUN.search(question):
        return _PRONOUN.sub(
            lambda m: f"{last_role}'" if m.group(1).lower() in ("their", "theirs", "his", "her") else last_role,
            question,
        )
    if led or is_followup_hint or _MORE.match(question):
        return f"{question} ({last_role})" if last_role else question
    return question
