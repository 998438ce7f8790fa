"""The hotel assistant's action server (`rasa run actions --actions actions`).

rasa-sdk imports every module of this package and registers each `Action` subclass it finds; the pure logic
the actions use (language detection, reading the channel's metadata) lives in modules with no rasa-sdk import.
"""
