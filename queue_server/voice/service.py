"""The server's voice: each hall's clip set, loaded once at start-up, and an LRU of stitched announcements."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from config.schema import Hall, HallConfig
from queue_server.errors import BadRequest, NotFound
from queue_server.voice.clips import ClipSet, VoiceError
from queue_server.voice.pcm import wav_bytes
from queue_server.voice.speech import valid_number
from queue_server.voice.stitch import announcement_parts, stitch

CACHE_SIZE = 64  # a WAV of a call said once is ~110 KB; boards fetch a call (and its recalls) within minutes
MAX_REPEAT = 5


@dataclass(frozen=True)
class HallVoice:
    clips: ClipSet
    chime: bool


class VoiceService:
    """Announcement audio for every hall of the configuration."""

    def __init__(self, halls: dict[str, HallVoice], cache_size: int = CACHE_SIZE) -> None:
        self._halls = halls
        self._cache: OrderedDict[tuple[str, str, int, int], bytes] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    @classmethod
    def load(cls, config: HallConfig, cache_size: int = CACHE_SIZE) -> VoiceService:
        """Read every hall's clips; raise VoiceError listing every unusable file of every hall."""
        sets: dict[str | None, ClipSet] = {}  # halls naming the same folder share one clip set
        failed: set[str | None] = set()
        problems: list[str] = []
        halls: dict[str, HallVoice] = {}
        for index, hall in enumerate(config.halls):
            folder = hall.voice.clips_dir
            if folder in failed:
                continue  # its problems are listed once, under the first hall that names it
            if folder not in sets:
                try:
                    where = f"halls[{index}].voice.clips_dir (hall {hall.id})"
                    sets[folder] = ClipSet.load(Path(folder) if folder else None, what=where)
                except VoiceError as error:
                    problems.extend(error.problems)
                    failed.add(folder)
                    continue
            halls[hall.id] = HallVoice(sets[folder], hall.voice.chime)
        if problems:
            raise VoiceError(problems)
        return cls(halls, cache_size)

    def audio(self, hall: Hall, number: str, window: str, repeat: int = 1) -> bytes:
        """The WAV of the call of `number` to `window` in `hall`, said `repeat` times after one chime.

        NotFound for a number or window the hall cannot have (a prefix it does not use, a window it lacks).
        """
        prefixes = {category.prefix for category in hall.categories}
        if not valid_number(number) or number[0] not in prefixes:
            raise NotFound(f"{number[:8]!r} is not a ticket number of hall {hall.id} (没有该号码)")
        if not (window.isdigit() and window == str(int(window)) and int(window) in {w.number for w in hall.windows}):
            raise NotFound(f"hall {hall.id} has no window {window[:8]!r} (没有该窗口)")
        if not 1 <= repeat <= MAX_REPEAT:
            raise BadRequest(f"repeat is from 1 to {MAX_REPEAT}, got {repeat}")
        key = (hall.id, number, int(window), repeat)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        voice = self._halls[hall.id]
        wav = wav_bytes(stitch(voice.clips, announcement_parts(number, int(window), repeat, voice.chime)))
        with self._lock:
            self._cache[key] = wav
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return wav

    def cached(self) -> int:
        """How many stitched announcements the LRU holds (for tests and diagnostics)."""
        with self._lock:
            return len(self._cache)
