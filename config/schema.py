"""Typed schema of a hall configuration: halls, categories, windows, items, devices."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,47}$"
PHONE_PATTERN = r"^[0-9+][0-9 ()+-]{4,30}$"
COLOUR_PATTERN = r"^#[0-9A-Fa-f]{6}$"
HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")

Slug = Annotated[str, Field(pattern=ID_PATTERN)]
Phone = Annotated[str, Field(pattern=PHONE_PATTERN)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
ShortText = Annotated[str, Field(min_length=1, max_length=120)]


class Strict(BaseModel):
    """Base of every config table: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Session(Strict):
    """One opening session of the hall, e.g. 08:30–12:00."""

    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not HHMM.match(value):
            raise ValueError("expected a time of day as HH:MM, e.g. 08:30")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Session:
        if self.start >= self.end:
            raise ValueError(f"session start {self.start} must be before its end {self.end}")
        return self

    @property
    def start_time(self) -> dt.time:
        return dt.time.fromisoformat(self.start)

    @property
    def end_time(self) -> dt.time:
        return dt.time.fromisoformat(self.end)


class QueueRules(Strict):
    """The hall's queueing rules (defaults suit a township center)."""

    priority_streak_max: int = Field(
        2, ge=1, le=20, description="at most this many priority calls in a row while an ordinary ticket waits"
    )
    recall_limit: int = Field(3, ge=0, le=10, description="how many times a called ticket may be recalled")
    no_show_after_s: int = Field(
        120,
        ge=0,
        le=3600,
        description="after the last allowed recall, a citizen who has not come within this many seconds is marked"
        " a no-show (过号) by the system; 0: only the clerk marks no-shows",
    )
    no_show_requeue_behind: int = Field(
        3, ge=0, le=100, description="a no-show ticket re-queued at the kiosk goes behind this many waiting tickets"
    )
    pause_alert_minutes: int = Field(15, ge=1, le=480)
    service_target_minutes: int = Field(
        15, ge=1, le=240, description="the service level: the share of citizens called within this many minutes"
    )


class Category(Strict):
    """A business category (业务类别) with its ticket prefix letter."""

    code: Slug
    prefix: Annotated[str, Field(pattern=r"^[A-Z]$")]
    name_zh: ShortText
    name_en: ShortText
    colour: Annotated[str, Field(pattern=COLOUR_PATTERN)] = "#2E7D32"
    daily_cap: int = Field(300, ge=1, le=9999)
    service_minutes: float = Field(8.0, gt=0, le=240, description="typical handling time before real ones are known")
    wait_alert_minutes: int = Field(30, ge=1, le=600)


class Window(Strict):
    """A service window (窗口): the categories it serves in priority order, and its A/B posts."""

    number: int = Field(ge=1, le=999)
    name_zh: ShortText
    name_en: ShortText
    categories: list[Slug] = Field(min_length=1)
    a_post: Slug | None = Field(None, description="username of the clerk on the A post (主岗)")
    b_post: Slug | None = Field(None, description="username of the clerk on the B post (备岗)")

    @field_validator("categories")
    @classmethod
    def _no_repeats(cls, value: list[str]) -> list[str]:
        repeated = sorted({code for code in value if value.count(code) > 1})
        if repeated:
            raise ValueError(f"category listed twice: {', '.join(repeated)}")
        return value


class MaterialForm(StrEnum):
    ORIGINAL = "original"
    COPY = "copy"
    ORIGINAL_AND_COPY = "original_and_copy"

    @property
    def label_zh(self) -> str:
        return {"original": "原件", "copy": "复印件", "original_and_copy": "原件及复印件"}[self.value]

    @property
    def label_en(self) -> str:
        return {"original": "original", "copy": "copy", "original_and_copy": "original and copy"}[self.value]


class Material(Strict):
    """One required material (申报材料) of a service item."""

    name: Text
    form: MaterialForm = MaterialForm.ORIGINAL
    copies: int = Field(1, ge=1, le=20)
    notes: str = Field("", max_length=500)


class Fee(Strict):
    """Fees (收费标准): free, or an amount in yuan with its legal basis."""

    free: bool
    amount_yuan: Decimal | None = Field(None, ge=0, max_digits=10, decimal_places=2)
    basis: str = Field("", max_length=500)

    @model_validator(mode="after")
    def _consistent(self) -> Fee:
        if self.free and self.amount_yuan is not None:
            raise ValueError("a free item must not give amount_yuan")
        if not self.free and (self.amount_yuan is None or not self.basis):
            raise ValueError("a charged item needs amount_yuan and basis")
        return self


class CaseKind(StrEnum):
    """The default case kind of an item: done on the spot, or promised within N working days."""

    IMMEDIATE = "immediate"  # 即办件
    PROMISED = "promised"  # 承诺件


class ServiceItem(Strict):
    """A service item (事项) with the eight published facts (办事八公开)."""

    id: Slug
    category: Slug
    name_zh: ShortText
    name_en: ShortText
    legal_basis: list[Text] = Field(min_length=1)
    conditions: list[Text] = Field(min_length=1)
    procedure: list[Text] = Field(min_length=1)
    materials: list[Material] = Field(min_length=1)
    case_kind: CaseKind
    promised_days: int = Field(0, ge=0, le=365, description="working days for a promised (承诺) item")
    fee: Fee
    department: ShortText
    supervision_phone: Phone | None = None
    appointment: bool = True
    guide_url: Annotated[str, Field(pattern=r"^https?://\S+$")] | None = None

    @model_validator(mode="after")
    def _time_limit(self) -> ServiceItem:
        if self.case_kind is CaseKind.PROMISED and self.promised_days < 1:
            raise ValueError("a promised item needs promised_days of at least 1")
        if self.case_kind is CaseKind.IMMEDIATE and self.promised_days != 0:
            raise ValueError("an immediate item must not give promised_days")
        return self


class PrinterTransport(StrEnum):
    NETWORK = "network"
    USB = "usb"
    SERIAL = "serial"
    FILE = "file"
    CUPS = "cups"
    VIRTUAL = "virtual"


class PrinterDevice(Strict):
    """A thermal receipt printer and how to reach it."""

    kind: Literal["printer"]
    id: Slug
    name: ShortText
    transport: PrinterTransport = PrinterTransport.VIRTUAL
    paper_mm: Literal[58, 80] = 80
    text_mode: Literal["raster", "native"] = "raster"
    qr_mode: Literal["image", "native"] = "image"
    confirm: Literal["status", "none"] = Field(
        "status",
        description=(
            "how a job is known to be printed: status = the printer answers DLE EOT status queries before and"
            " after each job (a job is retried or reported when not confirmed); none = for a printer that never"
            " answers them: a job is done when every byte is written and the connection closed cleanly, and the"
            " kiosk says it was sent, not that it was printed"
        ),
    )
    receipt_layout: Literal["compact", "full"] = Field(
        "compact",
        description="compact: a short ticket (Chinese first, English in short lines); full: every line in both",
    )
    host: str | None = None
    port: int = Field(9100, ge=1, le=65535)
    timeout_s: float = Field(3.0, gt=0, le=60)
    usb_vendor: int | None = Field(None, ge=0, le=0xFFFF)
    usb_product: int | None = Field(None, ge=0, le=0xFFFF)
    serial_port: str | None = None
    baudrate: int = Field(9600, ge=1200, le=921600)
    path: str | None = None
    cups_queue: str | None = None

    @model_validator(mode="after")
    def _transport_settings(self) -> PrinterDevice:
        needed = {
            PrinterTransport.NETWORK: ("host",),
            PrinterTransport.USB: ("usb_vendor", "usb_product"),
            PrinterTransport.SERIAL: ("serial_port",),
            PrinterTransport.FILE: ("path",),
            PrinterTransport.CUPS: ("cups_queue",),
            PrinterTransport.VIRTUAL: (),
        }[self.transport]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.transport.value} printer needs {', '.join(missing)}")
        return self


class IdReader(Strict):
    """The kiosk's second-generation ID card reader (二代证读卡器, docs/id-card.md): a GA 467 reader on a serial
    port (USB readers show as /dev/ttyUSB0 or /dev/ttyACM0) or behind a serial-to-Ethernet converter (tcp), or
    `simulated` for demos and tests. None on the kiosk (the default): no reader, the kiosk works without one."""

    type: Literal["serial", "tcp", "simulated"]
    port: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        None, description="serial: the port, e.g. /dev/ttyUSB0 or COM3"
    )
    baudrate: Literal[9600, 19200, 38400, 57600, 115200] = Field(115200, description="serial: GA 467 readers: 115200")
    host: Annotated[str, Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.:-]+$")] | None = Field(
        None, description="tcp: the converter's address"
    )
    tcp_port: int | None = Field(None, ge=1, le=65535, description="tcp: the converter's port")

    @model_validator(mode="after")
    def _what_each_type_needs(self) -> IdReader:
        given = {"port": self.port, "host": self.host, "tcp_port": self.tcp_port}
        needed = {"serial": {"port"}, "tcp": {"host", "tcp_port"}, "simulated": set()}[self.type]
        missing = sorted(k for k in needed if given[k] is None)
        extra = sorted(k for k, v in given.items() if v is not None and k not in needed)
        if missing:
            raise ValueError(f"a {self.type} ID card reader needs {' and '.join(missing)}")
        if extra:
            raise ValueError(f"a {self.type} ID card reader takes no {' or '.join(extra)}")
        return self


class KioskDevice(Strict):
    """A touch-screen ticket kiosk (取号机)."""

    kind: Literal["kiosk"]
    id: Slug
    name: ShortText
    printer: Slug | None = None
    id_reader: IdReader | None = Field(None, description="its ID card reader (none: the kiosk has no reader)")


class BoardDevice(Strict):
    """A display board: the hall board or a window-top board.

    A hall board may differ from the hall's `[halls.board]` in its notice zone (its page: `/board/{hall}?board=ID`).
    """

    kind: Literal["board"]
    id: Slug
    name: ShortText
    window: int | None = Field(None, ge=1, le=999, description="set for a window-top board")
    notice_zone: bool | None = Field(None, description="show the notice zone on this hall board (none: as the hall)")
    featured_items: list[Slug] | None = Field(
        None, max_length=20, description="the items whose 办事八公开 this hall board shows (none: the hall's)"
    )

    @model_validator(mode="after")
    def _hall_board_only(self) -> BoardDevice:
        if self.window is not None and (self.notice_zone is not None or self.featured_items is not None):
            raise ValueError(
                "a window-top board has no notice zone: notice_zone and featured_items are for hall boards"
            )
        return self


class LedStripDevice(Strict):
    """A window LED strip (条屏) over serial, RS485 or TCP, driven by `bianmin devices` (docs/devices.md)."""

    kind: Literal["led_strip"]
    id: Slug
    name: ShortText
    window: int = Field(ge=1, le=999, description="the window whose calls the strip shows")


class CallerDevice(Strict):
    """A hardware caller keypad (呼叫器) at a window, driven by `bianmin devices` with its own device token.

    Its keys act on its window as the clerk who opened the window, and only while that clerk's login is
    valid (docs/devices.md): the window routes accept its token for call-next, recall, start, finish,
    pause and resume of that window and nothing else.
    """

    kind: Literal["caller"]
    id: Slug
    name: ShortText
    window: int = Field(ge=1, le=999, description="the window the keypad acts on")


class PadDevice(Strict):
    """A window's evaluator pad (评价器): a tablet showing /rate/{hall}/window/{n}, registered with its own device
    token so that only the pad at window n rates the visits finished there (docs/devices.md)."""

    kind: Literal["pad"]
    id: Slug
    name: ShortText
    window: int = Field(ge=1, le=999, description="the window whose visits the pad rates")


Device = Annotated[
    PrinterDevice | KioskDevice | BoardDevice | LedStripDevice | CallerDevice | PadDevice, Field(discriminator="kind")
]
WINDOW_DEVICES = (LedStripDevice, CallerDevice)  # the devices of one window that `bianmin devices` drives
#: The devices that have a token of their own (`bianmin device add`).
TOKEN_DEVICES = (KioskDevice, LedStripDevice, CallerDevice, PadDevice)


class Voice(Strict):
    """Voice calling (语音叫号): the call is stitched from recorded clips and said `repeat` times."""

    clips_dir: str | None = Field(
        None,
        min_length=1,
        max_length=500,
        description=(
            "folder of WAV clips replacing the bundled placeholders by file name (qing.wav, letter_a.wav,"
            " digit_1.wav, ...; see queue_server/voice/clips/README.md); an absolute path, or relative to"
            " the folder the server is started from"
        ),
    )
    repeat: int = Field(2, ge=1, le=5, description="how many times the call is said")
    chime: bool = Field(True, description="a chime (叮咚) before the call")


class Announcement(Strict):
    """A hall announcement (大厅公告) shown in turn in the hall board's notice zone."""

    zh: Annotated[str, Field(min_length=1, max_length=300)]
    en: str = Field("", max_length=600)


class BoardSettings(Strict):
    """The web hall board (`/board/{hall}`): its notice zone (公告栏) and how it pages windows and queues.

    The notice zone shows the announcements and the eight published facts (办事八公开) of the featured
    items, one after the other; it has a place of its own and never takes room from the calls.
    """

    notice_zone: bool = Field(True, description="show the notice zone when there is something to show in it")
    announcements: list[Announcement] = Field(default_factory=list, max_length=20)
    featured_items: list[Slug] = Field(
        default_factory=list, max_length=20, description="service items whose 办事八公开 the notice zone shows"
    )
    notice_seconds: int = Field(12, ge=3, le=300, description="how long each announcement or page of facts stays")
    page_seconds: int = Field(
        8, ge=2, le=120, description="how long a page of windows or queues stays when they do not all fit"
    )
    window_rows: int = Field(2, ge=1, le=4, description="rows of windows on a landscape board; more windows page")


class AppointmentRules(Strict):
    """Appointments (办事预约): slots on working days within the sessions, a capacity per slot and category."""

    enabled: bool = True
    slot_minutes: int = Field(30, ge=5, le=240, description="length of a slot; slots start at each session's start")
    capacity: int = Field(4, ge=0, le=500, description="appointments per slot and category")
    category_capacity: dict[Slug, Annotated[int, Field(ge=0, le=500)]] = Field(
        default_factory=dict, description="a different capacity per slot for some categories (category code: n)"
    )
    days_ahead: int = Field(7, ge=0, le=90, description="book from today up to this many calendar days ahead")
    check_in_early_minutes: int = Field(30, ge=0, le=240, description="check in at the kiosk from this long before")
    check_in_late_minutes: int = Field(
        15, ge=0, le=240, description="and until this long after the slot's start; later the appointment is missed"
    )

    def capacity_of(self, category: str) -> int:
        return self.category_capacity.get(category, self.capacity)


class RemoteRules(Strict):
    """远程取号: a place in today's queue taken from the phone (`/join/{hall}`), kept until the citizen checks in at
    the kiosk (the appointment code's screen) within the time to arrive; docs/remote-tickets.md."""

    enabled: bool = Field(False, description="take remote tickets (off: /join says the hall takes none)")
    quota: int = Field(20, ge=0, le=5000, description="remote tickets per category and day")
    category_quota: dict[Slug, Annotated[int, Field(ge=0, le=5000)]] = Field(
        default_factory=dict, description="a different daily quota for some categories (category code: n)"
    )
    arrive_within_minutes: int = Field(60, ge=10, le=240, description="check in at the kiosk within this long")
    grace_minutes: int = Field(10, ge=0, le=60, description="and this much later at most; then it is a no-show")
    stop_before_close_minutes: int = Field(
        30, ge=0, le=240, description="no remote ticket this long before a session ends"
    )
    no_show_limit: int = Field(3, ge=1, le=20, description="this many no-shows of one phone within no_show_days …")
    no_show_days: int = Field(30, ge=1, le=365, description="… refuse its remote tickets for ban_days")
    ban_days: int = Field(7, ge=1, le=90, description="how long remote tickets are refused after the limit")

    def quota_of(self, category: str) -> int:
        return self.category_quota.get(category, self.quota)


class ComplaintRules(Strict):
    """投诉举报 (public supervision): how many working days the hall has to answer a complaint."""

    enabled: bool = True
    answer_working_days: int = Field(
        5,
        ge=1,
        le=60,
        description="a complaint is answered within this many working days of the hall's calendar after the day it"
        " is filed (限时办结: at most 5 working days)",
    )


class DefaultRating(Strict):
    """默认好评: a finished visit nobody rated within `after_days` days gets this rating from the system (off by
    default). It is marked as the system's (source "default"), listed and exported as such, and never counted
    in the 满意率 or the levels of the citizens' ratings (docs/haocha.md)."""

    enabled: bool = False
    after_days: int = Field(15, ge=1, le=30, description="days after the visit's service day, calendar days")
    level: Literal["very_satisfied", "satisfied"] = "satisfied"


class RatingRules(Strict):
    """好差评 (国办发〔2019〕51号, GB/T 39735-2020): the locality's rectification deadline and the default rating."""

    rectify_working_days: int = Field(
        15,
        ge=1,
        le=15,
        description="a 差评 is verified, rectified and answered within this many working days of the hall's calendar"
        " after its service day: the national rule allows at most 15; localities set 5 or 7 (docs/haocha.md)",
    )
    default_rating: DefaultRating = DefaultRating()


class IdCardRules(Strict):
    """Tickets by the second-generation ID card at the kiosk (docs/id-card.md)."""

    senior_age: int = Field(
        60, ge=50, le=100, description="a card holder this old or older is offered the green channel (绿色通道)"
    )
    one_open_per_category: bool = Field(
        True, description="one waiting or called ticket per ID card per category (against 黄牛 scalping)"
    )
    key_file: Annotated[str, Field(min_length=1, max_length=500)] | None = Field(
        None,
        exclude=True,  # the server's own business: never sent to a kiosk, never in a dump of the configuration
        description="file of the hall's key of the ID card hashes, made (mode 600) on first use; relative to the"
        " folder the server is started from (none: idcard-<hall>.key beside the SQLite file, ./var/ on PostgreSQL);"
        " every server process of the hall must read the same file",
    )


class Link(Strict):
    """Link up (联动上报): where the hall ships its event log (its county server) and how it proves who it is.

    The credential is never written here: give the file holding it, or the environment variable's name.
    """

    url: Annotated[str, Field(pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$", max_length=500)] = Field(
        description="the county server's base URL, e.g. https://county.example.gov.cn (or behind a path prefix)"
    )
    token_file: Annotated[str, Field(min_length=1, max_length=500)] | None = Field(
        None, description="file holding the hall's link token (from `bianmin link add HALL` at the county)"
    )
    token_env: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")] | None = Field(
        None, description="name of the environment variable holding the hall's link token"
    )
    ca_file: Annotated[str, Field(min_length=1, max_length=500)] | None = Field(
        None, description="PEM file of the certificate authority of an https county (default: the system's)"
    )
    batch_size: int = Field(500, ge=1, le=5000, description="events per request")
    interval_s: float = Field(5.0, ge=0.05, le=3600, description="how often an idle link looks for new events")
    timeout_s: float = Field(15.0, gt=0, le=300, description="one request's time limit")
    retry_min_s: float = Field(1.0, ge=0.01, le=3600, description="first wait after a failed request")
    retry_max_s: float = Field(300.0, ge=0.01, le=86400, description="longest wait between retries (back-off cap)")
    conflict_retry_s: float = Field(
        900.0, ge=0.1, le=86400, description="wait after the county refused a batch (409): a person has to look"
    )
    documents_dir: Annotated[str, Field(min_length=1, max_length=500)] = Field(
        "var/link",
        description="folder of the county's documents (catalogue, calendar) the hall fetches and runs; "
        "relative to this configuration file's folder",
    )
    documents_interval_s: float = Field(
        300.0, ge=0.05, le=86400, description="how often the hall asks its county for new documents (link down)"
    )

    @model_validator(mode="after")
    def _credential(self) -> Link:
        if (self.token_file is None) == (self.token_env is None):
            raise ValueError("give the link token as exactly one of token_file or token_env (never the token itself)")
        if self.retry_min_s > self.retry_max_s:
            raise ValueError(f"retry_min_s {self.retry_min_s} must not exceed retry_max_s {self.retry_max_s}")
        return self


class Notify(Strict):
    """Phone reminders (快到您了, the call) through the hall's SMS gateway or WeChat bridge: an HTTP webhook.

    Sent only to citizens who ticked the reminder on their phone page (docs/notify.md has the JSON body). The
    secret is never written here: give the environment variable's name.
    """

    url: Annotated[str, Field(pattern=r"^https?://[^\s/?#]+(/[^\s#]*)?$", max_length=500)] = Field(
        description="the webhook's URL, e.g. http://sms-gateway.lan:8080/bianmin"
    )
    secret_header: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9-]{0,63}$")] = Field(
        "X-Bianmin-Secret", description="the header that carries the secret"
    )
    secret_env: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")] | None = Field(
        None, description="name of the environment variable holding the secret (none: no secret header)"
    )
    timeout_s: float = Field(5.0, gt=0, le=60, description="one request's time limit")
    remind_ahead: int = Field(3, ge=1, le=50, description="快到您了 when this many people or fewer are ahead")
    attempts: int = Field(5, ge=1, le=20, description="tries of one message before it is given up")
    retry_min_s: float = Field(2.0, ge=0.01, le=3600, description="first wait after a failed try (doubles)")
    retry_max_s: float = Field(60.0, ge=0.01, le=3600, description="longest wait between tries")

    @model_validator(mode="after")
    def _retries(self) -> Notify:
        if self.retry_min_s > self.retry_max_s:
            raise ValueError(f"retry_min_s {self.retry_min_s} must not exceed retry_max_s {self.retry_max_s}")
        return self


class AgentPoint(Strict):
    """A village agent point (村级代办点) of a township hall, or a village's sit-in desk (坐班点) at its center.

    Its agents (staff role `agent`, bound to the point) take cases for villagers on `/agent/{hall}`; each case
    enters the hall's ledger as a 代理件 with the point recorded (docs/agent-points.md).
    """

    id: Slug
    name_zh: ShortText
    name_en: ShortText
    village: ShortText = Field(description="the village (村) the point serves, e.g. 青山村")
    sit_in: bool = Field(False, description="a sit-in desk (坐班点) of the village's staff at the township center")


class Hall(Strict):
    """One service hall: its identity, hours, categories, windows, items and devices."""

    id: Slug
    name_zh: ShortText
    name_en: ShortText
    address: ShortText
    phone: Phone
    supervision_phone: Phone
    timezone: str = "Asia/Shanghai"
    notice_zh: str = Field("", max_length=1000)
    notice_en: str = Field("", max_length=1000)
    public_url: Annotated[str, Field(pattern=r"^https?://\S+$")] | None = Field(
        None, description="base URL citizens' phones reach the server at (for QR codes)"
    )
    sessions: list[Session] = Field(min_length=1)
    queue: QueueRules = QueueRules()
    voice: Voice = Voice()
    appointments: AppointmentRules = AppointmentRules()
    remote: RemoteRules = RemoteRules()
    board: BoardSettings = BoardSettings()
    complaints: ComplaintRules = ComplaintRules()
    ratings: RatingRules = RatingRules()
    id_card: IdCardRules = IdCardRules()
    categories: list[Category] = Field(min_length=1)
    windows: list[Window] = Field(min_length=1)
    devices: list[Device] = []
    items: list[ServiceItem] = []
    agent_points: list[AgentPoint] = Field([], max_length=500, description="its village agent points (代办点)")
    link: Link | None = Field(None, description="ship the event log up to the county (none: the hall does not)")
    notify: Notify | None = Field(None, description="phone reminders through a webhook (none: the hall sends none)")

    @model_validator(mode="after")
    def _appointment_categories(self) -> Hall:
        unknown = sorted(set(self.appointments.category_capacity) - {c.code for c in self.categories})
        if unknown:
            raise ValueError(f"appointments.category_capacity names unknown categories: {', '.join(unknown)}")
        unknown = sorted(set(self.remote.category_quota) - {c.code for c in self.categories})
        if unknown:
            raise ValueError(f"remote.category_quota names unknown categories: {', '.join(unknown)}")
        return self

    def category(self, code: str) -> Category:
        for category in self.categories:
            if category.code == code:
                return category
        raise KeyError(code)

    def window(self, number: int) -> Window:
        for window in self.windows:
            if window.number == number:
                return window
        raise KeyError(number)

    def item(self, item_id: str) -> ServiceItem:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def agent_point(self, point_id: str) -> AgentPoint:
        for point in self.agent_points:
            if point.id == point_id:
                return point
        raise KeyError(point_id)


class Holiday(Strict):
    """A public holiday period and the make-up working days (调休) that go with it."""

    name_zh: ShortText
    name_en: ShortText
    start: dt.date
    end: dt.date
    makeup_workdays: list[dt.date] = []

    @model_validator(mode="after")
    def _ordered(self) -> Holiday:
        if self.start > self.end:
            raise ValueError(f"holiday start {self.start} is after its end {self.end}")
        return self


class CalendarYear(Strict):
    """The official holiday schedule of one year."""

    year: int = Field(ge=2000, le=2100)
    holidays: list[Holiday] = []


class TownshipRef(Strict):
    """A township reporting to this county center: its hall id, and its own hall configuration file."""

    id: Slug
    config: Annotated[str, Field(min_length=1, max_length=500)] = Field(
        description="the township's hall configuration (TOML), relative to this file: the same file the township runs"
    )


class County(Strict):
    """The county this server is the center of (县政务中心): its halls are the local halls and the townships.

    `catalog` (file patterns, read by the loader into `items`): the service-item catalogue the county publishes
    to its townships (`bianmin link publish`); without it, the items of the county's first hall.
    """

    id: Slug
    name_zh: ShortText
    name_en: ShortText
    items: list[ServiceItem] = []
    stale_minutes: int = Field(
        10, ge=1, le=10080, description="the county dashboard marks a hall stale when not heard from for this long"
    )
    link: Link | None = Field(
        None, description="relay every hall of the county (its own halls and its townships) up to its city"
    )


class CountyRef(Strict):
    """A county of this city: its id, and the county center's own configuration file."""

    id: Slug
    config: Annotated[str, Field(min_length=1, max_length=500)] = Field(
        description="the county center's configuration (TOML), relative to this file: the same file the county runs"
    )


class City(Strict):
    """The city this server rolls up (市级汇总): its halls are every hall of its counties, from their relayed events."""

    id: Slug
    name_zh: ShortText
    name_en: ShortText


class CityCounty(Strict):
    """A county of the city as the loader read it from the county's own configuration: its name and its halls."""

    id: Slug
    name_zh: ShortText
    name_en: ShortText
    halls: list[Slug]  # the county's own halls, then its townships, in its configuration's order


class LinkDocument(Strict):
    """A county document a hall runs (联动下发), found by the loader in the link's documents folder."""

    kind: Literal["catalogue", "calendar"]
    hall: Slug  # the hall whose link fetched it (a calendar serves the whole configuration)
    version: int
    sha256: str
    file: str
    replaced: list[str] = []  # local item ids (or calendar years) the county's document takes the place of


class HallConfig(Strict):
    """The whole configuration: one or more halls, the townships reporting here, and the working-day calendar.

    `county` (at a county center): the county's identity, for its dashboard `/county/{id}` and county managers.

    `documents` (at a township): the county's catalogue and calendar versions the configuration includes.

    `townships`: remote halls whose event logs are shipped here (link up): at a county center its townships,
    at a city every hall of its counties (relayed by each county). Nothing of theirs is served here (no kiosks,
    windows or boards); their reports are, from the shipped events.

    `city` (at a city server): the city's identity, for its rollup `/city/{id}` and city managers; `counties`
    its counties. A city serves no hall itself (it may have no `halls`); every other configuration has one.
    """

    county: County | None = None
    city: City | None = None
    halls: list[Hall] = []
    townships: list[Hall] = []
    #: At a city: its counties (from `[[counties]]`, read by the loader); their halls are in `townships`.
    counties: list[CityCounty] = []
    calendar: list[CalendarYear] = []
    #: Set by the loader (the county's documents in use), never by hand: not a key a file may give.
    documents: list[LinkDocument] = Field(default_factory=list, json_schema_extra={"loader_only": True})

    @model_validator(mode="after")
    def _level(self) -> HallConfig:
        if self.city is None:
            if not self.halls:
                raise ValueError("a configuration serves at least one hall ([[halls]]); only a city's configuration "
                                 "([city]) may have none")  # fmt: skip
            if self.counties:
                raise ValueError("counties ([[counties]]) belong to a city's configuration: add [city]")
        else:
            if self.county is not None:
                raise ValueError("a configuration is a county's ([county]) or a city's ([city]), not both")
            if not self.counties:
                raise ValueError("a city's configuration lists its counties ([[counties]], each with id and config)")
        if self.county is not None and self.county.link is not None:
            linked = sorted(hall.id for hall in self.halls if hall.link is not None)
            if linked:
                raise ValueError(f"[county.link] relays every hall of the county to the city; the hall(s) "
                                 f"{', '.join(linked)} cannot have a [halls.link] of their own as well")  # fmt: skip
        return self

    @model_validator(mode="after")
    def _distinct_townships(self) -> HallConfig:
        local = {hall.id for hall in self.halls}
        both = sorted(local & {hall.id for hall in self.townships})
        if both:
            raise ValueError(f"a hall cannot be both served here and a township reporting here: {', '.join(both)}")
        ids = [hall.id for hall in self.townships]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"township listed twice: {', '.join(repeated)}")
        return self

    def township(self, hall_id: str) -> Hall:
        for hall in self.townships:
            if hall.id == hall_id:
                return hall
        raise KeyError(hall_id)

    def hall(self, hall_id: str) -> Hall:
        for hall in self.halls:
            if hall.id == hall_id:
                return hall
        raise KeyError(hall_id)

    def has_hall(self, hall_id: str) -> bool:
        return any(hall.id == hall_id for hall in self.halls)

    def county_of(self, hall_id: str) -> CityCounty | None:
        """At a city: the county a hall belongs to (None: no county of the city has it)."""
        return next((county for county in self.counties if hall_id in county.halls), None)

    def relayed(self) -> list[Hall]:
        """At a county with `[county.link]`: every hall it relays to its city (its own, then its townships)."""
        if self.county is None or self.county.link is None:
            return []
        return [*self.halls, *self.townships]

    def document(self, kind: str, hall_id: str) -> LinkDocument | None:
        """The county's document of this kind the hall runs (the calendar: whichever hall fetched it)."""
        for document in self.documents:
            if document.kind == kind and (kind == "calendar" or document.hall == hall_id):
                return document
        return None
