"""Hybrid retrieval: multilingual embeddings, a classifier over them, lexical evidence, off-topic examples.

multilingual-e5-small gives compressed cosine scores (in-scope about 0.84-0.93, off-topic up to
0.83), so no single similarity threshold separates them. A softmax classifier trained on every
entry's title and question variants (all languages) plus the labelled off-topic questions
(knowledge/_offtopic.yaml) as one more class gives each entry a probability; lexical overlap with
the variants (idf-weighted, accent- and case-insensitive) re-ranks, and the nearest off-topic
example vetoes answers that are closer to it than to any entry."""

from __future__ import annotations

import asyncio
import math
import threading
from collections import Counter, OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.knowledge.cache import NotCached
from bot.knowledge.classifier import Training
from bot.knowledge.embedder import Embedder
from bot.knowledge.entries import KnowledgeBase
from bot.knowledge.index import Dense, IndexBuilder, IndexStatus, Plan
from bot.language import normalise

EVIDENCE_CACHE = 4096  # questions; about 6 MB of vectors at most
# One thread for all embeddings (the engine's model is shared; a second thread and engine did worse: see embedder.py).
EMBEDDING_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedding")


@dataclass(frozen=True)
class Thresholds:
    """Tuned with bench/retrieval_bench.py on the dev half of tests/data/eval."""

    lexical_weight: float = 2.0     # added to the log-probability, times the lexical F1 (0..1)
    answer: float = 0.3             # probability of the best entry needed to answer
    suggest: float = 0.1            # below this: "I do not know"; between: "did you mean"
    candidate: float = 0.05         # an entry needs this probability to be offered as "did you mean"
    offtopic_margin: float = 0.0    # off-topic wins when its similarity > best entry's similarity + this
    strong_lexical: float = 0.6     # lexical evidence this strong overrides the off-topic signals
    echo_lexical: float = 0.8       # her words (almost) are a question variant of the best entry: answer it
    echo_dense: float = 0.95        # her question (almost) is a variant in meaning: answer it
    emergency: float = 0.8          # the alarm classifier's probability that makes a message an emergency
    lexical_only_answer: float = 0.6
    lexical_only_suggest: float = 0.3


@dataclass(frozen=True)
class Candidate:
    entry: str
    score: float      # probability (with embeddings) or lexical F1 (without)
    dense: float
    lexical: float


@dataclass(frozen=True)
class Decision:
    action: str                      # "answer" | "suggest" | "fallback"
    entry: str | None
    score: float
    candidates: tuple[Candidate, ...] = field(default_factory=tuple)

    @property
    def alternatives(self) -> list[str]:
        return [candidate.entry for candidate in self.candidates if candidate.entry != self.entry]


HUMAN = "action:human"


async def evidence_in_thread(retriever: Retriever, question: str) -> Evidence | None:
    """``retriever.evidence(question)`` in the embedding thread (the engine releases the GIL), so the event
    loop goes on meanwhile."""
    return await asyncio.get_running_loop().run_in_executor(EMBEDDING_THREAD, retriever.evidence, question)


class Retriever:
    def __init__(self, knowledge: KnowledgeBase, embedder: Embedder | None, cache_path: Path | None,
                 thresholds: Thresholds | None = None, flows: dict[str, tuple[str, ...]] | None = None,
                 training: Training = Training(), build: str = "now") -> None:
        """Flows take part as candidates named "flow:<id>", matched on their trigger questions. ``build``: "now"
        builds the embedding index before returning; "background" uses what is on disk or builds the rest in a
        thread while lexical matching answers; "never" only uses what is on disk (`wegwijs check`)."""
        self.thresholds = thresholds or Thresholds()
        self.embedder = embedder
        self._entries: list[str] = []
        texts: list[str] = []
        self._owner: list[int] = []
        self._words: list[frozenset[str]] = []
        targets = [(entry.key, [t for a in entry.answers.values() for t in (a.title, *a.questions)]) for entry in knowledge.entries.values()]
        targets += [(f"flow:{flow_id}", list(triggers)) for flow_id, triggers in (flows or {}).items() if triggers]
        if knowledge.human:  # "I want to talk to a person": the desk
            targets.append((HUMAN, list(knowledge.human)))
        for index, (key, target_texts) in enumerate(targets):
            self._entries.append(key)
            for text in target_texts:
                texts.append(text)
                self._owner.append(index)
                self._words.append(frozenset(normalise(text).split()))
        self._owner_array = np.asarray(self._owner)
        self._postings: dict[str, list[int]] = {}
        for position, words in enumerate(self._words):
            for word in words:
                self._postings.setdefault(word, []).append(position)
        self._variant_weight = [0.0] * len(self._words)
        document_frequency = Counter(word for words in self._words for word in words)
        self._idf = {word: math.log(1 + len(self._words) / count) for word, count in document_frequency.items()}
        self._default_idf = math.log(1 + len(self._words))
        self._variant_weight = [sum(self._idf[word] for word in words) for words in self._words]
        self._offtopic_texts = list(knowledge.offtopic)
        self._smalltalk = knowledge.smalltalk
        rules = knowledge.emergency
        self.emergency_kinds = [kind for kind, found in rules.examples.items() if found] if rules is not None else []
        calm = list(rules.calm_examples) if rules is not None else []
        dangers = [(text, k) for k, kind in enumerate(self.emergency_kinds) for text in rules.examples[kind]]  # type: ignore[union-attr]
        self._cache: OrderedDict[str, Evidence | None] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._dense: Dense | None = None
        self.index: IndexBuilder | None = None
        if embedder is not None and texts:
            safety = knowledge.emergency.entries if knowledge.emergency is not None else set()
            # the alarm also learns that greetings, thanks and goodbyes are no emergency ("mamnunam" scored 0.98)
            talk = [phrase.text for phrase in knowledge.smalltalk.phrases if phrase.kind != "extra"] if dangers else []
            plan = Plan(texts, np.asarray(self._owner + [len(self._entries)] * len(self._offtopic_texts)),  # last class: off-topic
                        len(self._entries) + 1, self._offtopic_texts, calm, [(text, self.emergency_kinds[k]) for text, k in dangers],
                        talk, [i for i, owner in enumerate(self._owner) if self._entries[owner] not in safety])
            self.index = IndexBuilder(plan, embedder, cache_path, training, self._publish)
            if build == "now":
                self.index.build(terminal=True)
            else:
                try:
                    self.index.build(cached_only=True)  # a warm start: everything is on disk (a second or two)
                except NotCached:
                    if build == "background":
                        self.index.start()

    def _publish(self, dense: Dense) -> None:
        """A stage of the index is ready: answer with it from now on (what was remembered without it is forgotten)."""
        with self._cache_lock:
            self._dense = dense
            self._cache.clear()

    @property
    def uses_embeddings(self) -> bool:
        return self._dense is not None

    @property
    def ready(self) -> bool:
        """The whole index is there (or there is none to build: no embedding model)."""
        return self.index is None or self.index.state == "ready"

    def status(self) -> IndexStatus:
        """How far the index is, for /healthz, `wegwijs check` and the terminal."""
        if self.index is None:
            return IndexStatus("lexical" if self.embedder is None else "ready", 0, 0, 0)
        return self.index.status()

    def decide(self, question: str) -> Decision:
        evidence = self.evidence(question)
        return decide(evidence, self.thresholds) if evidence is not None else Decision("fallback", None, 0.0)

    def evidence(self, question: str) -> Evidence | None:
        """Everything a decision needs about one question; None when it has no words. The last
        EVIDENCE_CACHE questions are remembered ("hi", "thanks", a popular question cost no embedding)."""
        with self._cache_lock:
            if question in self._cache:
                self._cache.move_to_end(question)
                return self._cache[question]
            dense = self._dense
        found = self._evidence(question, dense)
        with self._cache_lock:
            if self._dense is dense:  # not while a stage of the index arrived: that evidence is out of date
                self._cache[question] = found
                if len(self._cache) > EVIDENCE_CACHE:
                    self._cache.popitem(last=False)
        return found

    def _evidence(self, question: str, dense: Dense | None) -> Evidence | None:
        words = frozenset(normalise(question).split())
        if not words or not self._entries:
            return None
        lexical = self._lexical(words)
        if dense is None or _is_a_variant(lexical):
            return Evidence(self._entries, None, lexical, -1.0)  # her words are one entry's own variant: no embedding needed
        query = self.embedder.queries([question])[0]  # type: ignore[union-attr]
        similarity = np.full(len(self._entries), -1.0)
        np.maximum.at(similarity, self._owner_array, dense.vectors @ query)
        offtopic = float((dense.offtopic @ query).max()) if len(dense.offtopic) else -1.0
        probability = dense.classifier.probabilities(query)
        alarm, kind = dense.alarm.judge(question, query) if dense.alarm is not None else (0.0, None)
        if alarm and self._smalltalk.match(question) is not None:
            alarm = 0.0  # a goodbye ("خداحافظ") or thanks and nothing else: never an emergency by the classifier alone
        return Evidence(self._entries, similarity, lexical, offtopic, probability[:-1], float(probability[-1]), alarm, kind)

    def _lexical(self, words: frozenset[str]) -> np.ndarray:
        """Per entry: best idf-weighted F1 between the question's words and one variant's words."""
        shared: dict[int, float] = {}
        for word in words:
            for position in self._postings.get(word, ()):
                shared[position] = shared.get(position, 0.0) + self._idf[word]
        best = np.zeros(len(self._entries))
        query_weight = sum(self._idf.get(word, self._default_idf) for word in words)
        for position, weight in shared.items():
            precision, recall = weight / query_weight, weight / self._variant_weight[position]
            score = 2 * precision * recall / (precision + recall)
            owner = self._owner[position]
            if score > best[owner]:
                best[owner] = score
        return best


def _is_a_variant(lexical: np.ndarray) -> bool:
    """Her words are exactly those of one entry's question variant, and of no other entry's."""
    if len(lexical) == 0:
        return False
    top = np.sort(lexical)[-2:]
    return bool(top[-1] >= 0.999 and (len(top) < 2 or top[0] < 0.9))


@dataclass(frozen=True)
class Evidence:
    entries: list[str]
    dense: np.ndarray | None   # best cosine per entry, None without embeddings
    lexical: np.ndarray         # best idf-weighted F1 per entry
    offtopic: float             # best cosine to a labelled off-topic example
    probability: np.ndarray | None = None  # classifier probability per entry (of the answerable classes)
    offtopic_probability: float = 0.0      # classifier probability of "off-topic"
    emergency: float = 0.0                 # classifier probability that she writes about an emergency
    emergency_kind: str | None = None      # ... and of which kind


def decide(evidence: Evidence, t: Thresholds) -> Decision:
    if evidence.dense is None or evidence.probability is None:
        return _decide_lexical(evidence, t)
    probability = evidence.probability
    rank = np.log(probability + 1e-9) + t.lexical_weight * evidence.lexical
    order = np.argsort(-rank)[:3]
    candidates = tuple(Candidate(evidence.entries[i], float(probability[i]), float(evidence.dense[i]), float(evidence.lexical[i]))
                       for i in order)
    best = candidates[0]
    offtopic = evidence.offtopic_probability > best.score or evidence.offtopic > best.dense + t.offtopic_margin
    if offtopic and best.lexical < t.strong_lexical:
        return Decision("fallback", None, best.score, candidates)
    if best.score >= t.answer or best.lexical >= t.echo_lexical or best.dense >= t.echo_dense:
        return Decision("answer", best.entry, best.score, candidates)
    if best.score >= t.suggest:
        return Decision("suggest", None, best.score, tuple(c for c in candidates if c.score >= t.candidate))
    return Decision("fallback", None, best.score, candidates)


def _decide_lexical(evidence: Evidence, t: Thresholds) -> Decision:
    lexical = evidence.lexical
    order = np.argsort(-lexical)[:3]
    candidates = tuple(Candidate(evidence.entries[i], float(lexical[i]), 0.0, float(lexical[i])) for i in order if lexical[i] > 0)
    if not candidates:
        return Decision("fallback", None, 0.0)
    best = candidates[0]
    if best.score >= t.lexical_only_answer and (len(candidates) == 1 or best.score - candidates[1].score >= 0.1):
        return Decision("answer", best.entry, best.score, candidates)
    if best.score >= t.lexical_only_suggest:
        return Decision("suggest", None, best.score, candidates)
    return Decision("fallback", None, best.score, candidates)
