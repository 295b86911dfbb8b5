"""Channels: convert raw payloads to and from core messages; no wording, no decisions."""
