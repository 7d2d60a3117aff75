"""Joining channels: the Janus VideoRoom client."""
