"""What runs on its own: rounds, the delivery outbox, the clock.

Composes web's app and models with ``pairing`` and ``integrations``; nothing in ``web`` imports
this package at module level.
"""
