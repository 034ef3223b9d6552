"""Command line: print a test page to a configured printer, or preview a receipt or notice as PNG."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from config.schema import Hall, HallConfig, PrinterDevice
from printer.layout import raster
from printer.layout.render import Rendered, render_notice, render_receipt, render_test_page
from printer.layout.testpage import test_page
from printer.model import Paper, QrMode, ReceiptData, ReceiptLayout, TextMode, notice_data, receipt_data
from printer.status import StatusReplyError
from printer.transports import TransportError, transport_for

SAMPLE_TRACK_PATH = "/t/SAMPLE-TRACKING-TOKEN"


def _load(config_path: Path | None) -> HallConfig:
    from config.loader import ConfigError, default_config_path, load_config

    try:
        return load_config(config_path or default_config_path())
    except ConfigError as error:
        raise click.ClickException(str(error)) from error


def _hall(config: HallConfig, hall_id: str | None) -> Hall:
    if hall_id is None:
        return config.halls[0]
    try:
        return config.hall(hall_id)
    except KeyError:
        known = ", ".join(hall.id for hall in config.halls)
        raise click.BadParameter(f"no hall {hall_id!r}; the configuration has {known}", param_hint="--hall") from None


def _printer(config: HallConfig, printer_id: str | None) -> tuple[Hall, PrinterDevice]:
    printers = [(hall, device) for hall in config.halls for device in hall.devices if isinstance(device, PrinterDevice)]
    for hall, device in printers:
        if printer_id is None or device.id == printer_id:
            return hall, device
    known = ", ".join(device.id for _hall, device in printers) or "none"
    what = f"no printer {printer_id!r}" if printer_id else "no printer"
    raise click.BadParameter(f"{what} in the configuration (printers: {known})", param_hint="--printer")


@click.command("print-test")
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="hall configuration (default: the bundled demo hall)",
)
@click.option("--printer", "printer_id", help="printer device id (default: the first printer configured)")
@click.option(
    "--virtual-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("var") / "printer",
    show_default=True,
    help="where a virtual printer writes its jobs",
)
def print_test(config_path: Path | None, printer_id: str | None, virtual_dir: Path) -> None:
    """Print a test page (Chinese, full-width punctuation, ￥, rare characters, QR) on a configured printer."""
    config = _load(config_path)
    hall, device = _printer(config, printer_id)
    now = dt.datetime.now(ZoneInfo(hall.timezone))
    url = hall.public_url or "https://example.invalid/bianmin-print-test"
    rendered = render_test_page(device.name, url, now, device.paper_mm, device.text_mode, device.qr_mode)
    if device.text_mode == "raster":
        missing = raster.missing_glyphs(test_page(device.name, "", url, now))
        if missing:
            click.echo(
                f"warning: no installed font has {' '.join(missing)}; they print as boxes in raster mode "
                "(install fonts-hanazono or another font with CJK Extension A/B)",
                err=True,
            )
    transport = transport_for(device, virtual_dir)
    try:
        with transport:
            try:
                before = transport.status() if transport.has_status else None
            except StatusReplyError as error:
                raise click.ClickException(
                    f"{transport.description} does not answer status queries: {error}"
                    ' (a printer without status replies needs confirm = "none")'
                ) from error
            if before is not None and not before.state.can_print:
                raise click.ClickException(f"{transport.description}: {before.state.value} ({before.state.label_zh})")
            transport.write(rendered.data)
            transport.finish()
    except TransportError as error:
        raise click.ClickException(str(error)) from error
    state = before.state.value if before is not None else "status not readable on this connection"
    click.echo(f"sent the test page ({len(rendered.data)} bytes, {device.text_mode}) to {transport.description}")
    click.echo(f"printer status: {state}")


@click.command("print-preview")
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="hall configuration (default: the bundled demo hall)",
)
@click.option("--hall", "hall_id", help="hall id (default: the first hall)")
@click.option("--item", "item_id", help="preview the one-time notice of this service item")
@click.option("--ticket", "number", help="preview a sample receipt for this ticket number, e.g. A001")
@click.option("--paper", type=click.Choice(["58", "80"]), default="80", show_default=True, help="paper width in mm")
@click.option("--mode", type=click.Choice(["raster", "native"]), default="raster", show_default=True)
@click.option("--qr", "qr_mode", type=click.Choice(["image", "native"]), default="image", show_default=True)
@click.option(
    "--layout", type=click.Choice(["compact", "full"]), default="compact", show_default=True, help="receipt layout"
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="PNG file to write")
@click.option("--bin", "bin_path", type=click.Path(dir_okay=False, path_type=Path), help="also write the ESC/POS bytes")
def print_preview(
    config_path: Path | None,
    hall_id: str | None,
    item_id: str | None,
    number: str | None,
    paper: str,
    mode: str,
    qr_mode: str,
    layout: str,
    out: Path,
    bin_path: Path | None,
) -> None:
    """Write a PNG preview of an item's one-time notice (--item) or of a sample receipt (--ticket)."""
    if (item_id is None) == (number is None):
        raise click.UsageError("give exactly one of --item ID or --ticket NUMBER")
    config = _load(config_path)
    hall = _hall(config, hall_id)
    width: Paper = 58 if paper == "58" else 80
    text_mode: TextMode = "native" if mode == "native" else "raster"
    qr: QrMode = "native" if qr_mode == "native" else "image"
    now = dt.datetime.now(ZoneInfo(hall.timezone))
    if item_id is not None:
        try:
            item = hall.item(item_id)
        except KeyError:
            raise click.BadParameter(f"no service item {item_id!r} in hall {hall.id}", param_hint="--item") from None
        rendered = render_notice(notice_data(item, hall, now.date()), width, text_mode, qr)
    else:
        assert number is not None
        receipt_layout: ReceiptLayout = "full" if layout == "full" else "compact"
        rendered = render_receipt(_sample_receipt(hall, number, now), width, text_mode, qr, receipt_layout)
    out.parent.mkdir(parents=True, exist_ok=True)
    rendered.preview.save(out)
    if bin_path is not None:
        bin_path.write_bytes(rendered.data)
    _report(rendered, out)


def _sample_receipt(hall: Hall, number: str, now: dt.datetime) -> ReceiptData:
    prefix = number[:1].upper()
    category = next((c for c in hall.categories if c.prefix == prefix), None)
    if category is None:
        letters = ", ".join(c.prefix for c in hall.categories)
        raise click.BadParameter(f"no category has the prefix {prefix!r} (prefixes: {letters})", param_hint="--ticket")
    item = next((i for i in hall.items if i.category == category.code), None)
    base = (hall.public_url or "http://localhost:8000").rstrip("/")
    return receipt_data(
        hall,
        number=number.upper(),
        category=category.code,
        item_id=item.id if item else None,
        ahead=3,
        estimated_wait_s=round(3 * category.service_minutes * 60),
        issued_at=now,
        priority="ordinary",
        track_url=base + SAMPLE_TRACK_PATH,
    )


def _report(rendered: Rendered, out: Path) -> None:
    width, height = rendered.preview.size
    click.echo(f"{rendered.title}: {len(rendered.data)} bytes ({rendered.mode}, {rendered.paper} mm)")
    click.echo(f"preview {width}x{height} written to {out}")
