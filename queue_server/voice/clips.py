"""The clip set an announcement is stitched from: the bundled placeholders, and a hall's own recordings.

Every clip is a WAV file named after what it says (see CLIPS). A hall replaces any of them by putting
a file of the same name (case does not matter) into the folder its configuration names as
`voice.clips_dir`; the clips it does not replace come from the bundled set, so record them all for
one voice. Clips of another PCM format are converted when the server starts; a file that is not PCM
WAV, or a `.wav` whose name is not a clip's, stops the server with a message naming the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from string import ascii_lowercase

from queue_server.voice.pcm import ClipError, Pcm, read_clip

BUNDLED_DIR = Path(__file__).resolve().parent / "clips"

_DIGITS = ("ling2", "yi1", "er4", "san1", "si4", "wu3", "liu4", "qi1", "ba1", "jiu3")
_DIGITS_ZH = "零一二三四五六七八九"

# name → (what it says, in pinyin for the placeholder voice; the Chinese it stands for)
CLIPS: dict[str, tuple[str, str]] = {
    "chime": ("", "叮咚 (a chime before the call)"),
    "qing": ("qing3", "请"),
    "hao_dao": ("hao4 dao4", "号到"),
    "hao_chuangkou_banli": ("hao4 chuang1 kou3 ban4 li3", "号窗口办理"),
    **{f"letter_{c}": (c.upper(), f"{c.upper()} (the letter's name as said in the hall)") for c in ascii_lowercase},
    **{f"digit_{d}": (_DIGITS[d], f"{_DIGITS_ZH[d]} (a digit of the ticket number)") for d in range(10)},
    **{f"num_{d}": (_DIGITS[d], f"{_DIGITS_ZH[d]} (in a window number)") for d in range(10)},
    "num_10": ("shi2", "十 (in a window number)"),
    "num_100": ("bai3", "百 (in a window number)"),
}


class VoiceError(Exception):
    """A clip set that cannot be used; `problems` has one line per file, each saying how to fix it."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class ClipSet:
    """Every clip of CLIPS as 16 kHz mono 16-bit PCM, and the file each came from."""

    clips: Mapping[str, Pcm]
    sources: Mapping[str, Path]

    def __getitem__(self, name: str) -> Pcm:
        return self.clips[name]

    @classmethod
    def load(cls, clips_dir: Path | None = None, *, what: str = "voice.clips_dir") -> ClipSet:
        """The bundled clips, each replaced by the file of the same name in `clips_dir` when there is one.

        Raises VoiceError listing every unusable file (`what` says where the folder was configured).
        """
        problems: list[str] = []
        files = {name: BUNDLED_DIR / f"{name}.wav" for name in CLIPS}
        if clips_dir is not None:
            if not clips_dir.is_dir():
                raise VoiceError([f"{what}: {clips_dir} is not a folder (a relative path is read from {Path.cwd()})"])
            for path in sorted(clips_dir.iterdir()):
                if path.suffix.lower() != ".wav" or not path.is_file():
                    continue
                name = path.stem.lower()
                if name in CLIPS:
                    files[name] = path
                else:
                    problems.append(f"{what}: {path}: not a clip name; clip names are {', '.join(CLIPS)}")
        clips: dict[str, Pcm] = {}
        for name, path in files.items():
            try:
                clips[name] = read_clip(path)
            except ClipError as error:
                problems.append(f"{what}: {error}" if path.parent != BUNDLED_DIR else str(error))
        if problems:
            raise VoiceError(problems)
        return cls(clips, files)
