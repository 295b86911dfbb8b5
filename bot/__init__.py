"""Wegwijs: a multilingual chatbot for newcomer women in Flanders."""

__version__ = "0.1.0"
