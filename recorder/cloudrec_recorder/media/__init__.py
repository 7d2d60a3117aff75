"""Media: compose, mix, encode and write HLS/MP4 segments to the spool.

Decoded PyAV frames (`av.VideoFrame`, `av.AudioFrame`, what the channel's tracks yield) go in
per uid; files come out in a spool directory per recording. Nothing here knows about Janus or RTP.

- `pipeline`: `MixRecording` and `IndividualRecording`, the entry points (one worker thread each).
- `config`: `MixConfig`, `IndividualConfig`, `RegionSpec`, `OutputFile`, the protocol enums.
- `layout`: Float / BestFit / Vertical / custom region geometry (pure).
- `compose`: the YUV compositor; `audio`: the mixer; `encode`: libx264 + AAC encoders.
- `hls`, `mp4`, `output`, `spool`, `naming`: segments, playlists, MP4 and the spool conventions.

Spool contract: every file is written as `.tmp-<name>` in the spool and `os.replace`d to its
protocol name (`naming`) only when complete; the playlist is rewritten the same way after every
completed segment and lists only completed segments (`#EXT-X-ENDLIST` once the recording
stopped). After each rename `on_file_ready(name)` is called, from the worker thread.
"""
