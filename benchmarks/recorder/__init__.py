"""End-to-end recorder benchmark: the real recorder process recording a real Janus room."""
