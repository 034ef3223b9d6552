"""An announcement's audio: the chime, then the call said `repeat` times with a pause between; pure."""

from __future__ import annotations

from collections.abc import Sequence

from queue_server.voice.clips import ClipSet
from queue_server.voice.pcm import silence
from queue_server.voice.speech import phrase_clips

CHIME_GAP_S = 0.3  # between the chime and the first saying
REPEAT_PAUSE_S = 0.8  # between two sayings

Part = str | float  # a clip name, or seconds of silence


def announcement_parts(number: str, window: int, repeat: int = 2, chime: bool = True) -> list[Part]:
    """[chime, gap,] the phrase, then (pause, phrase) for each repeat: what the audio is made of, in order."""
    if repeat < 1:
        raise ValueError(f"an announcement is said at least once, got repeat={repeat}")
    phrase = phrase_clips(number, window)
    parts: list[Part] = ["chime", CHIME_GAP_S] if chime else []
    for saying in range(repeat):
        if saying:
            parts.append(REPEAT_PAUSE_S)
        parts.extend(phrase)
    return parts


def stitch(clips: ClipSet, parts: Sequence[Part]) -> bytes:
    """The 16 kHz mono 16-bit frames of `parts` one after another (~1 ms for a whole announcement)."""
    return b"".join(clips[part].frames if isinstance(part, str) else silence(part) for part in parts)
