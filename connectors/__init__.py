"""Rasa channel packages of the hotel gateway."""
