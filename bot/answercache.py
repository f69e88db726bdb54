"""Replies to questions already answered, for the server: the page's example buttons ask the same few
questions all day, and the engine gives the same reply to the same question and history every time."""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from .chat import History, Reply
from .text import clean_question


class AnswerCache:
    """A bounded least-recently-used map from (cleaned question, history, top_k) to a reply; thread-safe.

    Keyed by the question as the engine reads it (``clean_question``: spacing and case of whitespace do not
    matter), so two spellings of one question share a reply. Each caller gets its own copy of the reply, which
    it may change. ``owner`` is what the replies came from (the index): when it changes, the cache empties.
    """

    def __init__(self, size: int, max_chars: int) -> None:
        self.size = size
        self.max_chars = max_chars
        self._replies: OrderedDict[Hashable, Reply] = OrderedDict()
        self._owner: object = None
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def key(self, question: str, history: History | None, top_k: int) -> Hashable:
        turns = tuple((str(user), str(answer)) for user, answer in (history or []))
        return clean_question(question, self.max_chars), turns, top_k

    def get_or_answer(self, owner: object, key: Hashable, answer: Callable[[], Reply]) -> Reply:
        """The cached reply for ``key``, else ``answer()``'s, kept. Errors are raised, never cached."""
        reply = self.get(owner, key)
        if reply is not None:
            return reply
        reply = answer()  # outside the lock: questions are answered in parallel; a race only answers twice
        self.put(owner, key, reply)
        return reply

    def get(self, owner: object, key: Hashable) -> Reply | None:
        """A copy of the reply kept for ``key`` from ``owner``, or None (counted as a miss)."""
        with self._lock:
            if owner is not self._owner:
                self._replies.clear()
                self._owner = owner
            reply = self._replies.get(key)
            if reply is None:
                self.misses += 1
                return None
            self._replies.move_to_end(key)
            self.hits += 1
            return copy.deepcopy(reply)

    def put(self, owner: object, key: Hashable, reply: Reply) -> None:
        """Keep a copy of ``reply`` for ``key``, unless the index changed since ``get`` (another owner)."""
        with self._lock:
            if owner is self._owner:
                self._replies[key] = copy.deepcopy(reply)
                self._replies.move_to_end(key)
                while len(self._replies) > self.size:
                    self._replies.popitem(last=False)
