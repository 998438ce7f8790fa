"""The WhatsApp Cloud API channel for Rasa.

The modules without a Rasa import (`signatures`, `inbound`, `outbound`, `window`, `errors`) hold the WhatsApp
knowledge as pure functions, so they can be tested on Meta-shaped payloads alone; the Rasa glue builds on them.
"""
