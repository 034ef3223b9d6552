"""Reading WAV clips as 16 kHz mono 16-bit PCM, converting other PCM formats on the way in.

Pure Python with the `array` module (`audioop` is deprecated and gone in Python 3.13). It runs once
per clip when the server starts, so plain loops are fast enough (a 1 s clip at 48 kHz: ~30 ms).
"""

from __future__ import annotations

import io
import sys
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path

RATE = 16_000
WIDTH = 2  # bytes per sample: 16-bit signed little-endian
CHANNELS = 1
MAX_CLIP_S = 10.0  # a clip is a word or two; anything longer is the wrong file
FORMAT_HINT = "save it as WAV, 16-bit PCM, mono, 16000 Hz (e.g. `sox in.wav -r 16000 -c 1 -b 16 out.wav`)"


class ClipError(Exception):
    """A clip file that cannot be used; the message names the file and says how to fix it."""


@dataclass(frozen=True)
class Pcm:
    """Audio as 16 kHz mono 16-bit little-endian frames."""

    frames: bytes

    @property
    def seconds(self) -> float:
        return len(self.frames) / (RATE * WIDTH * CHANNELS)


def silence(seconds: float) -> bytes:
    """`seconds` of silence in the clip format."""
    return bytes(round(seconds * RATE) * WIDTH * CHANNELS)


def read_clip(path: Path) -> Pcm:
    """A WAV file as 16 kHz mono 16-bit PCM; other PCM rates, widths and channel counts are converted."""
    try:
        with wave.open(str(path), "rb") as wav:
            channels, width, rate, count = wav.getnchannels(), wav.getsampwidth(), wav.getframerate(), wav.getnframes()
            raw = wav.readframes(count)
    except (wave.Error, EOFError) as error:
        raise ClipError(f"{path}: not a PCM WAV file ({error}); {FORMAT_HINT}") from None
    except OSError as error:
        raise ClipError(f"{path}: cannot read the file: {error.strerror or error}") from None
    if width not in (1, 2, 3, 4):
        raise ClipError(f"{path}: {8 * width}-bit samples are not supported; {FORMAT_HINT}")
    if not 4_000 <= rate <= 192_000:
        raise ClipError(f"{path}: a sample rate of {rate} Hz is not supported; {FORMAT_HINT}")
    frames_read = len(raw) // (width * channels)
    if frames_read == 0:
        raise ClipError(f"{path}: the clip is empty; {FORMAT_HINT}")
    if frames_read / rate > MAX_CLIP_S:
        raise ClipError(
            f"{path}: the clip is {frames_read / rate:.1f} s long; a clip is one word or two, at most {MAX_CLIP_S:g} s"
        )
    if (channels, width, rate) == (CHANNELS, WIDTH, RATE):
        return Pcm(raw[: frames_read * WIDTH])
    samples = _to_int16(raw[: frames_read * width * channels], width)
    if channels > 1:
        samples = _downmix(samples, channels)
    if rate != RATE:
        samples = _resample(samples, rate, RATE)
    return Pcm(_to_bytes(samples))


def _to_int16(raw: bytes, width: int) -> array[int]:
    """Samples of any PCM width as signed 16-bit values (WAV: 8-bit is unsigned, wider is signed, little-endian)."""
    if width == 1:
        return array("h", ((b - 128) << 8 for b in raw))
    if width == 2:
        samples = array("h", raw)
        if sys.byteorder == "big":
            samples.byteswap()
        return samples
    # 24- and 32-bit: keep the two most significant bytes of each little-endian sample.
    top = (raw[i + width - 2 : i + width] for i in range(0, len(raw), width))
    return array("h", (int.from_bytes(pair, "little", signed=True) for pair in top))


def _downmix(samples: array[int], channels: int) -> array[int]:
    return array("h", (sum(samples[i : i + channels]) // channels for i in range(0, len(samples), channels)))


def _resample(samples: array[int], source_rate: int, target_rate: int) -> array[int]:
    """Linear interpolation: plain, but clean enough for speech clips going down or up to 16 kHz."""
    count = max(1, round(len(samples) * target_rate / source_rate))
    step = source_rate / target_rate
    last = len(samples) - 1
    out = array("h", bytes(2 * count))
    for i in range(count):
        position = i * step
        left = min(int(position), last)
        right = min(left + 1, last)
        fraction = position - left
        out[i] = round(samples[left] + (samples[right] - samples[left]) * fraction)
    return out


def _to_bytes(samples: array[int]) -> bytes:
    if sys.byteorder == "big":
        samples = array("h", samples)
        samples.byteswap()
    return samples.tobytes()


def wav_bytes(frames: bytes) -> bytes:
    """A complete WAV file of 16 kHz mono 16-bit frames."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(CHANNELS)
        wav.setsampwidth(WIDTH)
        wav.setframerate(RATE)
        wav.writeframes(frames)
    return buffer.getvalue()
