"""Telegram: the 8-hour heartbeat, ops alerts, and the Bot API sender (plain HTTPS with requests).

This top-level package shadows the PyPI package `telegram` (python-telegram-bot) on purpose:
the project talks to the Bot API directly.
"""
