"""Media: decode, compose, mix, encode, write HLS/MP4 segments to the spool."""
