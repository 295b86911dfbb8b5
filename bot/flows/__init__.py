"""Scripted journeys: the flow files (model, checks, validators), wishes to start one, typed labels, the Babel extractor."""

from bot.flows.extract import BUTTON_NOTE
from bot.flows.extract import extract as extract_flow
from bot.flows.intents import Intents, load_intents, wanted_flow
from bot.flows.model import Flow, Step, ascii_digits, flow_files, load_flow, load_flows, validate
from bot.flows.typed import typed_choice

__all__ = ["BUTTON_NOTE", "Flow", "Intents", "Step", "ascii_digits", "extract_flow", "flow_files", "load_flow", "load_flows",
           "load_intents", "typed_choice", "validate", "wanted_flow"]
