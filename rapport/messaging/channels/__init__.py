"""Channels behind one interface: each `channels/<kind>/transport.py` sends outbox rows and raises `DeliveryError`."""
