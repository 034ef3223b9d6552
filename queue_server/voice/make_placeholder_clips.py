"""Regenerate the bundled placeholder clips (clips/*.wav); a maintainer's tool, never run by the server.

    python -m queue_server.voice.make_placeholder_clips [--out DIR]

Needs Debian's `espeak-ng` and `sox`. The words are spoken by espeak-ng's Mandarin voice from pinyin
(`-v cmn-latn-pinyin`: the plain `cmn` voice reads 请 as English), the letters by `-v cmn`, which says
them the way Chinese halls do (A "ei", B "bi"); sox trims the silence, resamples to 16 kHz mono 16-bit
and evens the loudness. The chime is synthesized here. The voice is robotic: a hall should record its
own clips (see clips/README.md).
"""

from __future__ import annotations

import argparse
import math
import shutil
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

from queue_server.voice.clips import BUNDLED_DIR, CLIPS
from queue_server.voice.pcm import CHANNELS, RATE, WIDTH

SPEED_WPM = 175  # espeak-ng's default pace; slower made a call last 6 s
LEAD_S, TAIL_S = 0.01, 0.04  # silence kept around each word so that stitched words do not run together


def chime_frames(rate: int = RATE) -> bytes:
    """A two-tone 叮咚 (E5 then C5), each note a struck bell: fast attack, exponential decay, a soft overtone."""
    frames = bytearray()
    for frequency, seconds in ((659.25, 0.42), (523.25, 0.62)):
        count = round(seconds * rate)
        for i in range(count):
            t = i / rate
            envelope = min(1.0, t / 0.005) * math.exp(-4.5 * t)
            wave_value = math.sin(2 * math.pi * frequency * t) + 0.25 * math.sin(4 * math.pi * frequency * t)
            sample = round(0.45 * 32767 * envelope * wave_value / 1.25)
            frames += sample.to_bytes(2, "little", signed=True)
    return bytes(frames)


def write_wav(path: Path, frames: bytes) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(CHANNELS)
        wav.setsampwidth(WIDTH)
        wav.setframerate(RATE)
        wav.writeframes(frames)


def speak(text: str, voice: str, out: Path, scratch: Path) -> None:
    raw = scratch / "raw.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(SPEED_WPM), "-w", str(raw), text], check=True)
    # Trim leading silence, reverse, trim again (the tail), reverse back; then format, loudness, padding.
    # -D: no dither, so that running this again writes the same bytes (dither is random noise).
    subprocess.run(
        ["sox", "-D", str(raw), "-r", str(RATE), "-c", str(CHANNELS), "-b", str(8 * WIDTH), "-e", "signed-integer",
         str(out), "silence", "1", "0.01", "0.5%", "reverse", "silence", "1", "0.01", "0.5%", "reverse",
         "gain", "-n", "-3", "pad", str(LEAD_S), str(TAIL_S)],
        check=True,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=BUNDLED_DIR, help=f"folder to write to (default {BUNDLED_DIR})")
    args = parser.parse_args(argv)
    missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
    if missing:
        print(f"needs {' and '.join(missing)}: apt-get install espeak-ng sox", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        for name, (text, _meaning) in CLIPS.items():
            target = args.out / f"{name}.wav"
            if name == "chime":
                write_wav(target, chime_frames())
            else:
                voice = "cmn" if name.startswith("letter_") else "cmn-latn-pinyin"
                speak(text, voice, target, Path(scratch))
    total = sum(f.stat().st_size for f in args.out.glob("*.wav"))
    print(f"wrote {len(CLIPS)} clips to {args.out} ({total // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
