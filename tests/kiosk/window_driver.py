"""Runs the real Kivy kiosk in this (child) process and plays a script of touches; reports on stdout.

    python -m tests.kiosk.window_driver --server URL --token-file F --script steps.json --out DIR
        [--size 1080x1920] [--virtual-root DIR]

The parent (test_kiosk_window.py, bench/kiosk_tap.py) sets SDL_VIDEODRIVER, KIVY_NO_ARGS and
KIVY_HOME before starting us. The script is a JSON list of steps, each a list `[op, args...]`:

- `["wait_screen", NAME]`   until the view-model is on screen NAME (home, category, item, ticket, error, ...)
- `["wait_live"]`           until the home tiles show the queues from the websocket
- `["wait_text", TEXT]`     until a label on screen contains TEXT
- `["wait_print", STATE]`   until the receipt's print state is STATE (printing, done, waiting, failed)
- `["tap", TEXT]`           a real touch (down, up) at the centre of the button showing TEXT
- `["take", TEXT]`          tap TEXT (取号) and time it until a frame shows the issued number (`take_ms`, `set_ms`)
- `["shot", NAME]`          screenshot to DIR/NAME.png, and what the screen shows (texts, cut-off texts, small targets)
- `["parent", TAG]`         print `WAIT TAG` and read one line from stdin (the parent acts meanwhile)
- `["frame_cost", N]`       redraw the unchanged screen N times and report what each frame cost (`frame_ms`)
- `["rss", LABEL]`          this process's resident memory now, after a full garbage collection (`rss[LABEL]`)
- `["trace", "start"|"top"]` tracemalloc: start tracing, or report the 15 biggest growths since the start (`trace`)
- `["repeat", N, STEPS]`    the steps N times (the benchmark)

Lines we print: `NO-WINDOW <reason>` (exit 77: no GL driver), `WAIT <tag>`, `RESULT <json>` at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import json
import re
import sys
import time
import traceback
import tracemalloc
from pathlib import Path
from typing import Any

from tests.support.kivy_window import chinese_renders, run_driver, say

STEP_TIMEOUT_S = 30.0
MIN_TARGET = 120  # design pixels: the smallest touch target allowed


def plain(text: str) -> str:
    return re.sub(r"\[/?[a-z]+(=[^\]]*)?\]", "", text)


def label_text(label: Any) -> str:
    """What a label says: a WrappedLabel's text before it was broken into lines, else its text."""
    source = getattr(label, "source", None)
    return plain(source if isinstance(source, str) and source else label.text)


def layout_lines(label: Any) -> list[str]:
    """The lines Kivy laid the label's text out in (after any wrapping of its own)."""
    label.texture_update()
    return ["".join(word.text for word in line.words) for line in label._label._cached_lines]


def visible(widget: Any) -> bool:
    return bool(widget.opacity > 0 and widget.width > 1 and widget.height > 1 and not widget.disabled)


def walk(widget: Any) -> list[Any]:
    """Widgets on screen (the ScreenManager holds only the current screen), in drawing order."""
    if not visible(widget):
        return []
    found = [widget]
    for child in reversed(widget.children):
        found.extend(walk(child))
    return found


def labels(root: Any) -> list[Any]:
    from kivy.uix.label import Label

    return [w for w in walk(root) if isinstance(w, Label) and w.text.strip()]


def inside_view(widget: Any, root: Any) -> bool:
    """Is the widget's centre within the window (not scrolled out of a ScrollView)?"""
    from kivy.uix.scrollview import ScrollView

    x, y = widget.to_window(*widget.center)
    parent = widget.parent
    while parent is not None and parent is not root:
        if isinstance(parent, ScrollView):
            px, py = parent.to_window(parent.x, parent.y)
            if not (px <= x <= px + parent.width and py <= y <= py + parent.height):
                return False
        parent = parent.parent
    return 0 <= x <= root.width and 0 <= y <= root.height


def cut_off(label: Any) -> bool:
    """Is the text bigger than its box: shortened with "…" by Kivy, or wrapped to more lines than fit?"""
    from kivy.core.text import Label as CoreLabel
    from kivy.core.text.markup import MarkupLabel

    if label.text_size[0] is None:
        return False
    label.texture_update()
    if label.shorten:
        shown = "".join(word.text for line in label._label._cached_lines for word in line.words)
        return shown.replace("\n", "") != plain(label.text).replace("\n", "")
    core = (MarkupLabel if label.markup else CoreLabel)(
        text=label.text, font_size=label.font_size, font_name=label.font_name, bold=label.bold,
        markup=label.markup, line_height=label.line_height, text_size=(label.text_size[0], None),
        halign=label.halign, padding=label.padding,
    )  # fmt: skip
    _width, height = core.render()  # lays the text out without drawing it
    split = [w for w in plain(label.text).split() if w.isascii() and core.get_extents(w)[0] > label.text_size[0]]
    return bool(height > label.height + 2 or split)  # lines dropped, or a Latin word broken in two


class Driver:
    def __init__(self, app: Any, controller: Any, out: Path) -> None:
        self.app, self.controller, self.out = app, controller, out
        self.vm = controller.vm
        self.result: dict[str, Any] = {"shots": {}, "take_ms": [], "taps": [], "number": None, "track_url": ""}
        self.frames = 0
        self.flip_times: list[float] = []  # when each frame had been drawn
        self.released_at = 0.0
        self.gc_pauses: list[tuple[float, float, int]] = []  # (start, ms, generation) of each collection
        self._gc_start = 0.0
        gc.callbacks.append(self._gc)
        from kivy.core.window import Window

        Window.bind(on_flip=self._flipped)

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self.gc_pauses.append((self._gc_start, (time.perf_counter() - self._gc_start) * 1000, info["generation"]))

    def _flipped(self, *_args: Any) -> None:
        # Offscreen, nothing waits for a frame to be drawn: Mesa's software renderer queues frames
        # and draws them all at the next texture upload, which then takes seconds. Finishing each
        # frame here makes every frame cost what it costs, when it is shown, as a real display does.
        from kivy.graphics.opengl import glFinish

        glFinish()
        self.flip_times.append(time.perf_counter())
        self.frames += 1

    async def until(self, what: str, predicate: Any, timeout_s: float = STEP_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout_s:.0f} s for {what}; screen: {self.vm.state.screen.value}, "
                                   f"texts: {self.texts()[:40]}")  # fmt: skip
            await asyncio.sleep(0.02)

    async def frame(self, count: int = 2) -> None:
        """Let Kivy lay out and draw `count` more frames (Kivy draws only when something changed: ask it)."""
        from kivy.core.window import Window

        for _ in range(count):
            target = self.frames + 1
            Window.canvas.ask_update()
            await self.until("a frame", lambda target=target: self.frames >= target, 10)

    def texts(self) -> list[str]:
        return [label_text(label) for label in labels(self.app.root)]

    def find_button(self, text: str) -> Any:
        from kivy.uix.behaviors import ButtonBehavior
        from kivy.uix.label import Label

        root = self.app.root
        for widget in walk(root):
            if not isinstance(widget, ButtonBehavior):
                continue
            own = [widget] if isinstance(widget, Label) else []
            shown = [plain(w.text) for w in own + [w for w in walk(widget) if isinstance(w, Label)]]
            matches = any(text == s or s.startswith(text + "\n") or s == text + "  ›" for s in shown)
            if matches and inside_view(widget, root):
                return widget
        return None

    async def touch(self, text: str) -> None:
        from kivy.base import EventLoop
        from kivy.input.motionevent import MotionEvent

        await self.until(f"a button {text!r}", lambda: self.find_button(text) is not None, 10)
        # Wait until the button stands still (a scroll view may still be settling after the screen changed).
        where = None
        for _ in range(30):
            button = self.find_button(text)
            now = button.to_window(*button.center) if button is not None else None
            if now is not None and now == where:
                break
            where = now
            await self.frame(1)
        assert button is not None and where is not None
        x, y = where
        window = EventLoop.window

        class Finger(MotionEvent):
            def __init__(self) -> None:
                super().__init__("kiosk-test", 1, {"x": x / (window.width - 1.0), "y": y / (window.height - 1.0)},
                                 is_touch=True, type_id="touch")  # fmt: skip
                self.profile = ["pos"]

            def depack(self, args: dict[str, float]) -> None:
                self.sx, self.sy = args["x"], args["y"]
                super().depack(args)

        finger = Finger()
        EventLoop.post_dispatch_input("begin", finger)
        await asyncio.sleep(0.05)  # a finger rests a moment on the glass
        self.released_at = time.perf_counter()
        EventLoop.post_dispatch_input("end", finger)
        self.result["taps"].append(text)

    async def take(self, text: str) -> None:
        """Tap 取号 and time it: from the finger lifting (the button acts on release) to the number set on its
        label (`set_ms`: the app's own work and the network) and to the end of the frame that shows it
        (`take_ms`: what the citizen sees)."""
        number = self.app.root.ids.ticket.ids.number
        marks: dict[str, float] = {}

        def on_number(_label: Any, value: str) -> None:
            if value and "set" not in marks:
                marks["set"], marks["frames"] = time.perf_counter(), self.frames

        number.bind(text=on_number)
        try:
            before = self.vm.state.ticket
            await self.touch(text)
            await self.until("the ticket screen", lambda: self.vm.state.ticket is not before
                             and self.vm.state.ticket is not None and "set" in marks)  # fmt: skip
            await self.until("the frame that shows it", lambda: self.frames > marks["frames"], 10)
        finally:
            number.unbind(text=on_number)
        shown = self.flip_times[int(marks["frames"])]
        self.result["take_ms"].append((shown - self.released_at) * 1000)
        during = [ms for start, ms, _gen in self.gc_pauses if self.released_at <= start <= shown]
        self.result.setdefault("gc_in_take_ms", []).append(sum(during))
        self.result.setdefault("set_ms", []).append((marks["set"] - self.released_at) * 1000)
        ticket = self.vm.state.ticket
        assert ticket is not None and number.text == ticket.number
        self.result["number"], self.result["track_url"] = ticket.number, self.vm.state.track_url

    async def shot(self, name: str) -> None:
        await asyncio.sleep(0.3)
        await self.frame(3)
        root = self.app.root
        path = self.out / f"{name}.png"
        root.export_to_png(str(path))
        from kivy.uix.behaviors import ButtonBehavior

        u = self.app.u
        small = []
        for widget in walk(root):
            if isinstance(widget, ButtonBehavior) and (widget.height < MIN_TARGET * u or widget.width < MIN_TARGET * u):
                small.append(f"{plain(getattr(widget, 'text', '')) or type(widget).__name__} "
                             f"{widget.width:.0f}x{widget.height:.0f}")  # fmt: skip
        on_screen = labels(root)
        self.result["shots"][name] = {
            "png": str(path),
            "screen": self.vm.state.screen.value,
            "texts": [label_text(label) for label in on_screen],
            "cut_off": [label_text(label) for label in on_screen if inside_view(label, root) and cut_off(label)],
            "lines": [
                [label_text(label), layout_lines(label)]
                for label in on_screen
                if label.text_size[0] is not None and not label.shorten
            ],
            "small_targets": small,
            "size": list(root.size),
        }

    async def step(self, op: str, *args: Any) -> None:
        vm = self.vm
        if op == "wait_screen":
            await self.until(f"screen {args[0]}", lambda: vm.state.screen.value == args[0] and not vm.state.busy)
        elif op == "wait_live":
            await self.until("live queues", lambda: bool(vm.state.queues) and vm.state.online)
        elif op == "wait_text":
            await self.until(f"text {args[0]!r}", lambda: any(args[0] in text for text in self.texts()))
        elif op == "wait_print":
            await self.until(f"print {args[0]}", lambda: vm.state.receipt.state.value == args[0])
        elif op == "tap":
            await self.frame()
            await self.touch(args[0])
        elif op == "take":
            await self.take(args[0])
        elif op == "type":  # a USB scanner (a keyboard) types the text, then Enter if asked
            from kivy.core.window import Window

            await self.frame()
            for symbol in args[0]:
                Window.dispatch("on_textinput", symbol)
            if len(args) > 1 and args[1]:
                Window.dispatch("on_key_down", 13, 40, "\r", [])
        elif op == "shot":
            await self.shot(args[0])
        elif op in ("card", "card_off"):  # a card put on (its fields) or lifted off the simulated ID card reader
            from kiosk.idcard.reader import IdCard
            from kiosk.idcard.simulated import SimulatedReader

            await self.until("the ID card reader", lambda: self.controller.id_reader is not None)
            reader = self.controller.id_reader
            assert isinstance(reader, SimulatedReader)
            if op == "card":
                fields = dict(args[0])
                reader.present(IdCard(**{**fields, "birth": dt.date.fromisoformat(fields["birth"])}))
            else:
                reader.remove()
        elif op == "parent":
            say(f"WAIT {args[0]}")
            await asyncio.to_thread(sys.stdin.readline)
        elif op == "frame_cost":
            # What one frame of the current screen costs to draw, nothing having changed (the floor of any change).
            costs = []
            for _ in range(int(args[0])):
                start = time.perf_counter()
                await self.frame(1)
                costs.append((self.flip_times[-1] - start) * 1000)
            self.result.setdefault("frame_ms", []).extend(costs)
        elif op == "rss":
            await self.frame(2)
            gc.collect()
            self.result.setdefault("rss", {})[args[0]] = rss_kb()
        elif op == "trace":
            self.trace(args[0])
        elif op == "repeat":
            for _ in range(int(args[0])):
                for inner in args[1]:
                    await self.step(*inner)
        else:
            raise ValueError(f"unknown step {op!r}")

    def trace(self, what: str) -> None:
        """Where the memory that stays goes (a diagnosis aid of bench/kiosk_memory.py --trace)."""
        gc.collect()
        if what == "start":
            tracemalloc.start(12)
            self._traced = tracemalloc.take_snapshot()
            self._types = object_counts()
            return
        counts = object_counts()
        grown = sorted(((counts[k] - self._types.get(k, 0), k) for k in counts), reverse=True)[:15]
        self.result["types"] = [[name, n] for n, name in grown if n > 0]
        growth = tracemalloc.take_snapshot().compare_to(self._traced, "traceback")
        self.result["trace"] = [
            {"kib": round(stat.size_diff / 1024, 1), "count": stat.count_diff,
             "where": [f"{frame.filename}:{frame.lineno}" for frame in stat.traceback][-6:]}
            for stat in growth[:15]
        ]  # fmt: skip

    def finish(self) -> None:
        state = self.vm.state
        if state.ticket is not None and not self.result["track_url"]:  # a ticket no `take` step timed (a retry)
            self.result["number"], self.result["track_url"] = state.ticket.number, state.track_url
        self.result.update(
            screen=state.screen.value,
            receipt=state.receipt.state.value,
            online=state.online,
            chinese_renders=chinese_renders(),
            window_size=list(self.app.root.size),
            rss_kb=rss_kb(),
            gc_ms={str(gen): sorted(ms for _s, ms, g in self.gc_pauses if g == gen)[-5:] for gen in (0, 1, 2)},
        )


def object_counts() -> dict[str, int]:
    """How many objects of each type the garbage collector tracks (an objgraph-like census)."""
    counts: dict[str, int] = {}
    for thing in gc.get_objects():
        name = type(thing).__qualname__
        counts[name] = counts.get(name, 0) + 1
    return counts


def rss_kb() -> dict[str, int]:
    """This process's resident memory now and at its peak (Linux /proc)."""
    fields: dict[str, int] = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0])
    except OSError:
        pass
    return fields


async def drive(args: argparse.Namespace) -> dict[str, Any]:
    from kiosk.app import KioskApp
    from kiosk.client import RetryPolicy
    from kiosk.controller import KioskController, KioskOptions
    from printer.spooler import RetryPolicy as PrintRetry

    steps = json.loads(Path(args.script).read_text())
    options = KioskOptions(
        server=args.server,
        device=args.device,
        token=Path(args.token_file).read_text().strip(),
        retry=RetryPolicy(attempts=3, initial_s=0.2, max_s=0.5, connect_timeout_s=1, read_timeout_s=3),
        print_retry=PrintRetry(initial_s=0.2, max_s=1.0, confirm_timeout_s=3),
        printer_poll_s=1.0,
        virtual_root=Path(args.virtual_root),
    )
    app = KioskApp()
    controller = KioskController(options, app.show, app.post)
    app.vm = controller.vm
    driver: Driver | None = None

    async def script() -> None:
        nonlocal driver
        try:
            while app.root is None:
                await asyncio.sleep(0.02)
            driver = Driver(app, controller, Path(args.out))
            for index, step in enumerate(steps):
                say(f"STEP {index} {step[0]}")  # progress: the parent's silence timeout counts from each step
                await driver.step(*step)
            driver.finish()
        except Exception as error:  # reported to the parent, which fails the test with it
            traceback.print_exc()
            if driver is not None:
                driver.result["error"] = f"{type(error).__name__}: {error}"
            else:
                raise
        finally:
            app.stop()

    controller_task = asyncio.create_task(controller.run())
    script_task = asyncio.create_task(script())
    await app.async_run(async_lib="asyncio")
    say("APP-STOPPED")  # progress: a hang after this is in the script's end or the controller's shutdown
    try:
        await script_task
    except Exception as error:
        return {"error": f"{type(error).__name__}: {error}"}
    controller_task.cancel()
    say("CONTROLLER-CANCELLED")
    with contextlib.suppress(asyncio.CancelledError):
        await controller_task
    assert driver is not None
    return driver.result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--device", default="kiosk-1")
    parser.add_argument("--token-file", required=True)
    parser.add_argument("--script", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--size", default="1080x1920")
    parser.add_argument("--virtual-root", default="var/printer")
    args = parser.parse_args()
    width, height = (int(part) for part in args.size.split("x"))

    from kiosk.kivy_setup import prepare_kivy

    return run_driver(lambda: prepare_kivy(width, height), lambda: drive(args))


if __name__ == "__main__":
    sys.exit(main())
