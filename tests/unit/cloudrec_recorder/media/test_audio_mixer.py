"""The audio mixer: resampling, summing with clipping, jitter buffer, silence."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
from tests.unit.cloudrec_recorder.media.synth import tone_frame, tone_peaks

from cloudrec_recorder.media.audio import AudioMixer


def _constant(value: float, samples: int = 960, rate: int = 48_000) -> av.AudioFrame:
    frame = av.AudioFrame.from_ndarray(
        np.full((1, samples), value, np.float32), format="fltp", layout="mono"
    )
    frame.sample_rate = rate
    frame.pts = 0
    frame.time_base = Fraction(1, rate)
    return frame


def test_nobody_sending_gives_silence() -> None:
    mixer = AudioMixer(1)
    assert not mixer.pull(1024).any()


def test_two_senders_are_summed() -> None:
    mixer = AudioMixer(1, prime_samples=0)
    mixer.push("a", _constant(0.25))
    mixer.push("b", _constant(0.5))
    assert np.allclose(mixer.pull(960), 0.75, atol=1e-3)


def test_the_sum_is_clipped() -> None:
    mixer = AudioMixer(1, prime_samples=0)
    mixer.push("a", _constant(0.75))
    mixer.push("b", _constant(0.75))
    assert np.allclose(mixer.pull(960), 1.0)


def test_a_sender_starts_once_its_cushion_is_buffered() -> None:
    mixer = AudioMixer(1, prime_samples=1920)
    mixer.push("a", _constant(0.5))
    assert not mixer.pull(480).any()
    mixer.push("a", _constant(0.5))
    assert np.allclose(mixer.pull(480), 0.5, atol=1e-3)


def test_other_rates_and_layouts_are_resampled_to_48k_stereo() -> None:
    mixer = AudioMixer(2, prime_samples=0)
    for n in range(50):
        frame = tone_frame(1000, n * 320, samples=320, rate=16_000)
        mixer.push("a", frame)
    out = mixer.pull(24_000)
    assert out.shape == (2, 24_000)
    peaks = tone_peaks(out[0, 4_000:20_000])
    assert any(abs(p - 1000) < 5 for p in peaks), peaks


def test_a_runaway_sender_is_trimmed_to_the_buffer_limit() -> None:
    mixer = AudioMixer(1, prime_samples=0, max_samples=1920)
    for _ in range(10):
        mixer.push("a", _constant(0.5))
    assert np.allclose(mixer.pull(1920), 0.5, atol=1e-3)
    assert not mixer.pull(960).any()


def test_a_removed_sender_is_no_longer_mixed() -> None:
    mixer = AudioMixer(1, prime_samples=0)
    mixer.push("a", _constant(0.5))
    mixer.remove("a")
    assert not mixer.pull(960).any()
    assert mixer.uids() == []


def _noise(layout: str, seed: int) -> av.AudioFrame:
    channels = 1 if layout == "mono" else 2
    samples = np.random.default_rng(seed).uniform(-0.6, 0.6, (channels, 960)).astype(np.float32)
    frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout=layout)
    frame.sample_rate = 48_000
    return frame


def _resampled(frame: av.AudioFrame, layout: str) -> np.ndarray:
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=48_000)
    return np.concatenate([piece.to_ndarray() for piece in resampler.resample(frame)], axis=1)


def test_what_webrtc_senders_give_is_mixed_as_swresample_would_convert_it() -> None:
    for sent in ("mono", "stereo"):
        for channels, layout in ((1, "mono"), (2, "stereo")):
            mixer = AudioMixer(channels, prime_samples=0)
            frame = _noise(sent, seed=channels)
            mixer.push("a", frame)
            expected = _resampled(_noise(sent, seed=channels), layout)
            assert np.allclose(mixer.pull(960), np.clip(expected, -1, 1), atol=1e-6), (
                sent,
                layout,
            )
