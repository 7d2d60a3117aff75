"""The operator's client of the cloud recording REST protocol (aiohttp)."""
