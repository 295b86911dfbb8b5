"""The knowledge base: loading knowledge/ (entries, topics, places, emergencies, small talk) and hybrid retrieval."""

from bot.knowledge.embedder import Embedder, load_embedder
from bot.knowledge.emergency import KINDS, Detection, Rules, detect, load_rules
from bot.knowledge.entries import (
    EMERGENCY_EXAMPLES_FILE,
    EMERGENCY_FILE,
    ENTRY_FILE,
    HUMAN_FILE,
    OFFTOPIC_FILE,
    REPLIES_DIR,
    TOPIC_FILE,
    Answer,
    Entry,
    KnowledgeBase,
    Topic,
    emergency_rules,
    load_answer,
    load_emergency_examples,
    load_examples,
    load_topic,
    read_front_matter,
    topic_folders,
)
from bot.knowledge.places import DAYS, PLACES_FILE, Nearby, Places, geo_area, load_places
from bot.knowledge.retrieval import HUMAN, Decision, Evidence, Retriever, decide, evidence_in_thread
from bot.knowledge.smalltalk import REPLY_KEYS, SMALLTALK_FILE, load_smalltalk
from bot.knowledge.smalltalk import fold as smalltalk_fold
from bot.knowledge.smalltalk import problems as smalltalk_problems

__all__ = [
    "DAYS", "EMERGENCY_EXAMPLES_FILE", "EMERGENCY_FILE", "ENTRY_FILE", "HUMAN", "HUMAN_FILE", "KINDS", "OFFTOPIC_FILE", "PLACES_FILE", "REPLIES_DIR",
    "REPLY_KEYS", "SMALLTALK_FILE", "TOPIC_FILE", "Answer", "Decision", "Detection", "Embedder", "Entry", "Evidence",
    "KnowledgeBase", "Nearby", "Places", "Retriever", "Rules", "Topic", "decide", "detect", "emergency_rules",
    "evidence_in_thread", "geo_area", "load_answer", "load_embedder", "load_emergency_examples", "load_examples", "load_places", "load_rules", "load_smalltalk",
    "load_topic", "read_front_matter", "smalltalk_fold", "smalltalk_problems", "topic_folders",
]
