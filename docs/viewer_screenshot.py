"""Take the can-viewer screenshot of docs/scripts.rst: run the real viewer in a pseudo-terminal
(tmux), read its screen with ``tmux capture-pane``, and write that text, with its colours, as SVG.

    python docs/viewer_screenshot.py      # needs tmux and the package importable (make package)

The viewer runs on the virtual interface, started through ``can.viewer.main`` exactly as the
``can-viewer`` command starts it; a thread of the same process sends the frames it shows (the
virtual interface connects the buses of one process), among them an error frame. Nothing on
the picture is typed by hand: it is the terminal's text and colours.
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent
OUT = DOCS / "_static" / "viewer.svg"
COLUMNS, ROWS = 112, 10
SESSION = "shot"
# A tmux server of its own (its own socket), started with this process's environment.
TMUX = ["tmux", "-L", "can-docs-viewer-shot"]
ARGS = ["-i", "virtual", "-c", "viewer-shot", "-d", "100:<BHL", "101:<BHL:1:10.0:100.0"]


def _feed() -> None:
    """In the pane: send frames on the virtual channel while the viewer shows them."""
    import can
    import can.viewer

    def send() -> None:
        time.sleep(0.5)  # the viewer's bus is open by then
        with can.Bus("viewer-shot", interface="virtual") as bus:
            frames = [
                can.Message(arbitration_id=0x100, data=[7, 0x34, 0x12, 0x40, 0xE2, 1, 0]),
                can.Message(arbitration_id=0x101, data=[7, 0x34, 0x12, 0x40, 0xE2, 1, 0]),
                can.Message(arbitration_id=0x7E8, data=[2, 0x41, 0x0C, 0x1A, 0xF8, 0, 0, 0]),
                can.Message(arbitration_id=0x18DAF110, data=b"hello"),
                can.Message(arbitration_id=0x123, is_remote_frame=True, dlc=4),
            ]
            for n in range(40):
                for i, msg in enumerate(frames):
                    if n % (i + 1) == 0:
                        msg.is_extended_id = msg.arbitration_id > 0x7FF
                        bus.send(msg)
                time.sleep(0.02)
            error = can.Message(is_error_frame=True, arbitration_id=0x4, data=[0, 0x10] + [0] * 6)
            bus.send(error)
            time.sleep(60)

    threading.Thread(target=send, daemon=True).start()
    can.viewer.main(ARGS)


_SGR = re.compile(r"\x1b\[([\d;]*)m")
_PALETTE = ["#000000", "#cd3131", "#0dbc79", "#c8a000", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5"]
FG, BG = "#1e1e1e", "#fafafa"


def to_svg(screen: str) -> str:
    """The text of ``tmux capture-pane -e -p`` (ANSI colours) as an SVG picture."""
    char_w, line_h, pad = 7.8, 16.0, 10.0
    width = COLUMNS * char_w + 2 * pad
    height = ROWS * line_h + 2 * pad
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="DejaVu Sans Mono, monospace" '
        f'font-size="13">',
        f'<rect width="100%" height="100%" rx="6" fill="{BG}"/>',
    ]
    for row, line in enumerate(screen.splitlines()[:ROWS]):
        fg, bg, bold, reverse, col = FG, None, False, False, 0
        y = pad + row * line_h
        for piece in re.split(r"(\x1b\[[\d;]*m)", line):
            match = _SGR.fullmatch(piece)
            if match:
                for code in [int(c) if c else 0 for c in match.group(1).split(";")]:
                    if code == 0:
                        fg, bg, bold, reverse = FG, None, False, False
                    elif code == 1:
                        bold = True
                    elif code == 7:
                        reverse = True
                    elif code == 27:
                        reverse = False
                    elif 30 <= code <= 37:
                        fg = _PALETTE[code - 30]
                    elif code == 39:
                        fg = FG
                    elif 40 <= code <= 47:
                        bg = _PALETTE[code - 40]
                    elif code == 49:
                        bg = None
                continue
            if not piece:
                continue
            text_fg, text_bg = (bg or BG, fg) if reverse else (fg, bg)
            x = pad + col * char_w
            if text_bg:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{len(piece) * char_w:.1f}" '
                    f'height="{line_h:.1f}" fill="{text_bg}"/>'
                )
            if piece.strip():
                weight = ' font-weight="bold"' if bold else ""
                parts.append(
                    f'<text x="{x:.1f}" y="{y + line_h - 4:.1f}" fill="{text_fg}"{weight} '
                    f'xml:space="preserve">{html.escape(piece)}</text>'
                )
            col += len(piece)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--feed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.feed:
        _feed()
        return 0
    if shutil.which("tmux") is None:
        print("viewer_screenshot: needs tmux", file=sys.stderr)
        return 1
    command = f"{sys.executable} {Path(__file__).resolve()} --feed"
    subprocess.run([*TMUX, "kill-session", "-t", SESSION], capture_output=True, check=False)
    subprocess.run(
        [*TMUX, "new-session", "-d", "-s", SESSION, "-x", str(COLUMNS), "-y", str(ROWS), command],
        check=True,
    )
    try:
        time.sleep(4.0)  # the frames are sent within about 2 s
        screen = subprocess.run(
            [*TMUX, "capture-pane", "-p", "-e", "-t", SESSION],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        subprocess.run([*TMUX, "send-keys", "-t", SESSION, "q"], check=False)
        time.sleep(0.5)
        subprocess.run([*TMUX, "kill-session", "-t", SESSION], capture_output=True, check=False)
    if "Count" not in screen:
        print(f"viewer_screenshot: the viewer did not start:\n{screen}", file=sys.stderr)
        return 1
    OUT.write_text(to_svg(screen), encoding="utf-8")
    print(f"wrote {OUT.relative_to(DOCS.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
