"""Voice calling: what is said for a call, the clips it is stitched from, and the WAV the server serves."""

from __future__ import annotations

import asyncio
import io
import math
import struct
import wave
from collections.abc import Callable
from pathlib import Path

import pytest
from websockets.sync.client import connect

from config.schema import HallConfig
from queue_server.api.app import create_app
from queue_server.protocol import CallMessage, parse_server_message
from queue_server.server import open_store
from queue_server.voice.clips import BUNDLED_DIR, CLIPS, ClipSet, VoiceError
from queue_server.voice.make_placeholder_clips import chime_frames
from queue_server.voice.pcm import RATE, ClipError, read_clip, silence
from queue_server.voice.service import VoiceService
from queue_server.voice.speech import announcement_path, number_clips, phrase_clips, valid_number, window_clips
from queue_server.voice.stitch import CHIME_GAP_S, REPEAT_PAUSE_S, announcement_parts, stitch
from tests.queue_server.conftest import Api, Board
from tests.support.server import HALL, RunningServer

BYTES_PER_S = RATE * 2


@pytest.fixture
def backend() -> str:
    """SQLite only: an announcement is made from the configuration and the clips; the store plays no part."""
    return "sqlite"


def bundled(name: str) -> bytes:
    """A bundled clip's frames, read with nothing but the wave module."""
    with wave.open(str(BUNDLED_DIR / f"{name}.wav"), "rb") as wav:
        return wav.readframes(wav.getnframes())


def gap(seconds: float) -> bytes:
    return bytes(round(seconds * RATE) * 2)


def parse_wav(data: bytes) -> tuple[tuple[int, int, int], bytes]:
    with wave.open(io.BytesIO(data), "rb") as wav:
        return (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()), wav.readframes(wav.getnframes())


def with_voice(config: HallConfig, **voice: object) -> HallConfig:
    hall = config.halls[0]
    new_voice = hall.voice.model_copy(update=voice)
    return config.model_copy(update={"halls": [hall.model_copy(update={"voice": new_voice})]})


def tone(path: Path, *, rate: int = RATE, channels: int = 1, width: int = 2, seconds: float = 0.1) -> None:
    """A 440 Hz tone in any PCM format (the same signal on every channel)."""
    count = round(rate * seconds)
    frames = bytearray()
    for i in range(count):
        value = math.sin(2 * math.pi * 440 * i / rate) * 0.5
        if width == 1:
            sample = bytes([round(128 + 127 * value)])
        else:
            sample = round(value * (2 ** (8 * width - 1) - 1)).to_bytes(width, "little", signed=True)
        frames += sample * channels
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(bytes(frames))


def float_wav(path: Path) -> None:
    """A 32-bit float WAV (format 3), which the `wave` module cannot read."""
    data = struct.pack("<100f", *([0.25] * 100))
    fmt = struct.pack("<HHIIHH", 3, 1, RATE, RATE * 4, 4, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


# -- what is said ---------------------------------------------------------------------------------


def test_a_ticket_number_is_read_letter_by_letter_and_digit_by_digit() -> None:
    assert number_clips("A001") == ["letter_a", "digit_0", "digit_0", "digit_1"]
    assert number_clips("Z1000") == ["letter_z", "digit_1", "digit_0", "digit_0", "digit_0"]


@pytest.mark.parametrize(
    ("window", "said"),
    [
        (1, "1"),
        (3, "3"),
        (10, "10"),
        (11, "10 1"),
        (12, "10 2"),
        (20, "2 10"),
        (99, "9 10 9"),
        (100, "1 100"),
        (105, "1 100 0 5"),
        (110, "1 100 1 10"),
        (200, "2 100"),
        (999, "9 100 9 10 9"),
    ],
)
def test_a_window_number_is_read_as_a_chinese_number(window: int, said: str) -> None:
    # 十二号窗口, 二十, 一百零五, 一百一十: the num_* clips, so digit_1 may be recorded as 幺 for tickets only.
    assert window_clips(window) == [f"num_{part}" for part in said.split()]


@pytest.mark.parametrize("number", ["A000", "a001", "A01", "A0001", "A10000", "AB01", "A00x", "", "１001"])
def test_a_malformed_number_is_not_said(number: str) -> None:
    assert not valid_number(number)
    with pytest.raises(ValueError, match="not a ticket number"):
        number_clips(number)


@pytest.mark.parametrize("window", [0, -1, 1000])
def test_a_window_out_of_range_is_not_said(window: int) -> None:
    with pytest.raises(ValueError, match="from 1 to 999"):
        window_clips(window)


def test_a_call_is_the_chime_then_the_phrase_said_repeat_times() -> None:
    phrase = phrase_clips("A001", 3)
    assert phrase == ["qing", "letter_a", "digit_0", "digit_0", "digit_1", "hao_dao", "num_3", "hao_chuangkou_banli"]
    assert announcement_parts("A001", 3, repeat=1) == ["chime", CHIME_GAP_S, *phrase]
    assert announcement_parts("A001", 3, repeat=2, chime=False) == [*phrase, REPEAT_PAUSE_S, *phrase]
    with pytest.raises(ValueError, match="at least once"):
        announcement_parts("A001", 3, repeat=0)


# -- the clips ------------------------------------------------------------------------------------


def test_the_bundled_clips_are_small_16_khz_mono_16_bit_and_complete() -> None:
    files = {path.stem: path for path in BUNDLED_DIR.glob("*.wav")}
    assert set(files) == set(CLIPS)
    for name, path in files.items():
        with wave.open(str(path), "rb") as wav:
            assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, RATE), name
            assert 0.1 < wav.getnframes() / RATE < 2.0, name
    assert sum(path.stat().st_size for path in files.values()) < 1_000_000
    assert bundled("chime") == chime_frames()  # the chime is synthesized, so it is exactly reproducible


def test_clips_of_other_pcm_formats_are_converted_when_read(tmp_path: Path) -> None:
    for rate, channels, width in [(44_100, 2, 2), (48_000, 1, 3), (8_000, 1, 1), (22_050, 2, 4), (RATE, 1, 2)]:
        path = tmp_path / f"{rate}-{channels}-{width}.wav"
        tone(path, rate=rate, channels=channels, width=width, seconds=0.5)
        clip = read_clip(path)
        assert abs(clip.seconds - 0.5) < 0.001, path.name
        peak = max(abs(v) for v in struct.unpack(f"<{len(clip.frames) // 2}h", clip.frames))
        assert 14_000 < peak < 17_000, (path.name, peak)  # the 0.5-amplitude tone survives each conversion


@pytest.mark.parametrize(
    ("write", "message"),
    [
        (float_wav, "not a PCM WAV file"),
        (lambda path: path.write_text("not audio"), "not a PCM WAV file"),
        (lambda path: tone(path, seconds=11), "at most 10 s"),
        (lambda path: tone(path, seconds=0), "the clip is empty"),
    ],
)
def test_an_unusable_clip_is_refused_naming_the_file(
    tmp_path: Path, write: Callable[[Path], None], message: str
) -> None:
    path = tmp_path / "qing.wav"
    write(path)
    with pytest.raises(ClipError, match=message) as error:
        read_clip(path)
    assert str(path) in str(error.value)


def test_a_halls_clip_folder_replaces_clips_by_name_and_lists_every_problem_at_once(tmp_path: Path) -> None:
    good = tmp_path / "good"
    good.mkdir()
    tone(good / "QING.wav", rate=44_100, channels=2)  # the name's case does not matter; converted on load
    (good / "notes.txt").write_text("ignored: not a .wav")
    clips = ClipSet.load(good)
    assert clips.sources["qing"] == good / "QING.wav"
    assert clips["qing"] == read_clip(good / "QING.wav")
    assert clips["hao_dao"].frames == bundled("hao_dao")  # the rest stay the bundled ones

    bad = tmp_path / "bad"
    bad.mkdir()
    float_wav(bad / "digit_1.wav")
    tone(bad / "hello.wav")
    with pytest.raises(VoiceError) as error:
        ClipSet.load(bad, what="halls[0].voice.clips_dir")
    problems = error.value.problems
    assert len(problems) == 2, problems
    assert any("digit_1.wav" in p and "not a PCM WAV file" in p for p in problems)
    assert any("hello.wav" in p and "not a clip name" in p for p in problems)

    with pytest.raises(VoiceError, match="is not a folder"):
        ClipSet.load(tmp_path / "missing")


def test_a_server_with_a_bad_clip_folder_does_not_start(tmp_path: Path, hall_config: HallConfig) -> None:
    bad = tmp_path / "clips"
    bad.mkdir()
    float_wav(bad / "chime.wav")
    config = with_voice(hall_config, clips_dir=str(bad))
    with pytest.raises(VoiceError, match=r"chime\.wav"):
        VoiceService.load(config)
    store = open_store(config, tmp_path / "queue.db")
    app = create_app(store)

    async def start_up() -> None:
        async with app.router.lifespan_context(app):
            pass

    try:
        with pytest.raises(VoiceError, match=r"halls\[0\]\.voice\.clips_dir.*chime\.wav"):
            asyncio.run(start_up())  # what uvicorn runs before it serves anything
    finally:
        store.close()


def test_stitched_announcements_are_kept_in_a_bounded_lru(hall_config: HallConfig) -> None:
    voice = VoiceService.load(hall_config, cache_size=2)
    hall = hall_config.halls[0]
    first = voice.audio(hall, "A001", "1")
    assert voice.audio(hall, "A001", "1") is first
    voice.audio(hall, "A002", "1")
    voice.audio(hall, "A003", "1")
    assert voice.cached() == 2
    assert voice.audio(hall, "A001", "1") is not first  # evicted, stitched again
    assert voice.audio(hall, "A001", "1") == first


# -- the served audio -----------------------------------------------------------------------------


def announcement_url(number: str, window: int | str, query: str = "") -> str:
    return f"/api/v1/halls/{HALL}/announcements/{number}/{window}.wav{query}"


def test_the_audio_of_a_call_is_the_chime_and_the_clips_of_the_call(api: Api, server: RunningServer) -> None:
    response = api.http.get(f"{server.url}{announcement_url('A001', 3)}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    params, frames = parse_wav(response.content)
    assert params == (1, 2, RATE)
    phrase = b"".join(bundled(name) for name in phrase_clips("A001", 3))
    assert frames == bundled("chime") + gap(CHIME_GAP_S) + phrase
    expected_s = (len(bundled("chime")) + len(phrase)) / BYTES_PER_S + CHIME_GAP_S
    assert len(frames) / BYTES_PER_S == pytest.approx(expected_s, abs=1e-3)
    assert 2.5 < expected_s < 8

    twice = api.http.get(f"{server.url}{announcement_url('A001', 3, '?repeat=2')}")
    _, frames = parse_wav(twice.content)
    assert frames == bundled("chime") + gap(CHIME_GAP_S) + phrase + gap(REPEAT_PAUSE_S) + phrase


def test_window_ten_is_said_shi(api: Api, server: RunningServer) -> None:
    _, frames = parse_wav(api.http.get(f"{server.url}{announcement_url('Z1000', 10)}").content)
    said = ["qing", "letter_z", "digit_1", "digit_0", "digit_0", "digit_0", "hao_dao", "num_10", "hao_chuangkou_banli"]
    assert frames == bundled("chime") + gap(CHIME_GAP_S) + b"".join(bundled(n) for n in said)


@pytest.mark.parametrize(
    ("number", "window"),
    [
        ("a001", "1"),
        ("A000", "1"),
        ("A01", "1"),
        ("Q001", "1"),  # the demo hall has no category with prefix Q
        ("A10000", "1"),
        ("A001", "99"),  # no such window
        ("A001", "0"),
        ("A001", "03"),
        ("A001", "x"),
        ("A001", "-1"),
    ],
)
def test_a_number_or_window_the_hall_cannot_have_is_404(
    api: Api, server: RunningServer, number: str, window: str
) -> None:
    response = api.http.get(f"{server.url}{announcement_url(number, window)}")
    Api.error(response, 404, "not_found")


def test_an_unknown_hall_is_404_and_a_bad_repeat_is_422(api: Api, server: RunningServer) -> None:
    Api.error(api.http.get(f"{server.url}/api/v1/halls/nohall/announcements/A001/1.wav"), 404, "not_found")
    for repeat in ("0", "6", "two"):
        Api.error(api.http.get(f"{server.url}{announcement_url('A001', 1, f'?repeat={repeat}')}"), 422)


def test_a_call_message_carries_the_audio_url_and_the_halls_repeat(
    api: Api, server: RunningServer, board: Callable[..., Board]
) -> None:
    clerk = api.open("liuxia", 1)
    api.issue("jisheng")
    watcher = board()
    assert watcher.recv().type == "snapshot"
    api.ok(clerk, 1, "call-next")
    call = next(m for m in iter(watcher.recv, None) if isinstance(m, CallMessage))
    assert call.announcement.audio_url == announcement_path(HALL, "A001", 1) == announcement_url("A001", 1)
    assert call.announcement.repeat == 2
    assert call.announcement.text_zh == "请A001号到1号窗口办理"
    response = api.http.get(f"{server.url}{call.announcement.audio_url}")
    assert response.status_code == 200


def test_a_halls_own_clips_and_voice_settings_are_used(
    tmp_path: Path,
    hall_config: HallConfig,
    start_hall: Callable[..., RunningServer],
    make_api: Callable[[RunningServer], Api],
) -> None:
    folder = tmp_path / "voice"
    folder.mkdir()
    tone(folder / "qing.wav", rate=48_000, width=3)  # a hall's recording, converted on load
    server = start_hall(with_voice(hall_config, clips_dir=str(folder), chime=False, repeat=3))
    api = make_api(server)
    _, frames = parse_wav(api.http.get(f"{server.url}{announcement_url('A001', 3)}").content)
    mine = read_clip(folder / "qing.wav").frames
    rest = b"".join(bundled(name) for name in phrase_clips("A001", 3)[1:])
    assert frames == mine + rest  # no chime, and the hall's 请
    assert mine != bundled("qing")

    clerk = api.open("liuxia", 1)
    api.issue("jisheng")
    with connect(f"{server.ws_url}/ws/halls/{HALL}/board", open_timeout=5, proxy=None, compression=None) as ws:
        assert parse_server_message(ws.recv(timeout=5)).type == "snapshot"
        api.ok(clerk, 1, "call-next")
        call = next(m for m in (parse_server_message(ws.recv(timeout=5)) for _ in range(10)) if m.type == "call")
    assert isinstance(call, CallMessage)
    assert call.announcement.repeat == 3


def test_stitching_is_plain_concatenation() -> None:
    clips = ClipSet.load()
    parts = announcement_parts("B012", 12, repeat=1, chime=False)
    assert stitch(clips, parts) == b"".join(bundled(p) for p in parts if isinstance(p, str))
    assert stitch(clips, [0.5]) == silence(0.5) == gap(0.5)
