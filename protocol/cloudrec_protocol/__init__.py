"""The cloud recording REST protocol: wire models, an async client, callback signing."""
