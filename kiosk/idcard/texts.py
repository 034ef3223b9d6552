"""The words of ticketing by ID card on the kiosk, Chinese first and English second."""

from __future__ import annotations

from kiosk.texts import Lang

TEXTS: dict[str, tuple[str, str]] = {
    "home": ("已读取身份证：{name}。请点击要办理的业务取号", "ID card read: {name}. Tap the service you need"),
    "home.reader": ("请点击要办理的业务取号，或刷身份证", "Tap the service you need, or swipe your ID card"),
    "green.body": (
        "{name}，您已年满{age}周岁，可走绿色通道优先办理。请选择业务取号；如不需要，请点击「返回」普通取号。",
        "{name}, you are {age} or older: you may use the priority lane. Choose the service; "
        "tap Back for an ordinary number.",
    ),
    "open.title": ("该身份证已有未办结的号", "This ID card already has a number waiting"),
    "open.body": (
        "{name}在本类业务已取号{number}，请等候叫号；该号办结或过号后才能再取。如有疑问请到综合受理窗口咨询。",
        "{name} already has number {number} for this service: please wait to be called. A new number can be "
        "taken once it is served or missed. Please ask at the general reception window if in doubt.",
    ),
    "banner.reader": ("身份证读卡器未连接：请点击业务取号", "The ID card reader is not connected: tap the service"),
}


def text(key: str, lang: Lang, **values: object) -> str:
    zh, en = TEXTS[key]
    chosen = zh if lang == "zh" else en
    return chosen.format(**values) if values else chosen
