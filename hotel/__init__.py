"""The hotel domain, below both deployables: the hotels' facts (`facts`), reservations behind one
repository with an SQLite and a PMS adapter (`reservations`), what to send for a purpose in or out of the
window (`template_choice`), the guest's language (`language`), the pure answers to guests' questions
(`answers`), and where all of it comes from (`settings`).

The gateway and the action server both import it; it imports neither, and nothing of Rasa or rasa-sdk, only
`cloudapi` (what WhatsApp is). Each module lists its public names in its own `__all__`.
"""

__all__ = ["answers", "facts", "language", "reservations", "settings", "template_choice"]
