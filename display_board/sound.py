"""Kivy's SoundLoader as the board's `Player`: plays one clip at a time and says when it has finished."""

from __future__ import annotations

import asyncio
from pathlib import Path

from display_board.voice import AudioUnavailable


class KivySoundPlayer:
    """Plays a clip through Kivy's audio provider (SDL2_mixer in the PyPI wheel).

    Without an audio device SDL opens no mixer: SoundLoader then gives a sound of length 0 that
    never plays. That (or no provider at all) raises AudioUnavailable, and the board goes silent.
    """

    async def play(self, path: Path) -> None:
        from kivy.core.audio import SoundLoader

        sound = SoundLoader.load(str(path))
        if sound is None:
            raise AudioUnavailable("Kivy has no audio provider for this file type")
        try:
            if not sound.length or sound.length <= 0:
                raise AudioUnavailable("the audio device could not be opened (see Kivy's AudioSDL2 log line)")
            finished = asyncio.Event()
            sound.bind(on_stop=lambda *_args: finished.set())
            sound.play()
            if sound.state != "play":
                raise AudioUnavailable("the audio device refused to play")
            # on_stop comes from Kivy's clock, which runs in this same loop under App.async_run.
            async with asyncio.timeout(sound.length + 2.0):
                await finished.wait()
        finally:
            sound.stop()
            sound.unload()
