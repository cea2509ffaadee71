"""Start the desktop app: ``python main.py [--demo] [--self-test] [--patients N]``.

This module imports no Qt itself: it reads the command line, checks that there is a display,
sets up the log file, and hands over to :mod:`app.ui.app`. Every failure it can foresee ends in
one line (or a message box) and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from core.errors import GlowdeskError

log = logging.getLogger("app.bootstrap")

EXIT_NO_DISPLAY = 2
HEADLESS_PLATFORMS = ("offscreen", "minimal")
LOG_DIR = "logs"
LOG_FILE = "glowdesk.log"
#: benchmarks: a file the app writes one JSON line to once its window is interactive, then quits
#: (see app.ui.app.report_ready); the window may then be offscreen, as for the self-test
READY_FILE_ENV = "GLOWDESK_READY_FILE"

NO_DISPLAY = (
    "Glowdesk needs a display to open its window (none found: set DISPLAY or WAYLAND_DISPLAY; "
    "to check the app without one, run: python main.py --demo --self-test)."
)
OFFSCREEN_ONLY = (
    "Glowdesk would open its window nowhere: QT_QPA_PLATFORM is set to offscreen; unset it to see "
    "the window, or run: python main.py --demo --self-test."
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python main.py", description="Glowdesk, the med-spa desktop.")
    parser.add_argument("--demo", action="store_true",
                        help="open the local demo clinic (GLOWDESK_HOME, or the demo data folder); "
                             "built on first use")
    parser.add_argument("--self-test", action="store_true",
                        help="open the store and the main window offscreen, search, print one line, exit")
    parser.add_argument("--patients", type=_positive, default=2000, metavar="N",
                        help="patients in a newly built demo clinic (default 2000)")
    parser.add_argument("-v", "--verbose", action="store_true", help="also log to stderr")
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def display_problem(env: Mapping[str, str] | None = None, platform: str | None = None, *,
                    self_test: bool = False) -> str | None:
    """Why the window cannot be seen here (one line), or None.

    The self-test runs offscreen and needs no display. A normal run does: on the offscreen or
    minimal platform the window would be drawn nowhere (``make run`` on a headless machine sets
    ``QT_QPA_PLATFORM=offscreen``), so that is refused too rather than left running invisibly.
    """
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    qpa = env.get("QT_QPA_PLATFORM", "").split(":", 1)[0].strip().lower()
    x11_like = platform.startswith("linux") or "bsd" in platform
    if qpa in HEADLESS_PLATFORMS:
        if self_test:
            return None
        if x11_like and not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
            return NO_DISPLAY
        return OFFSCREEN_ONLY
    if not x11_like:
        return None  # Windows and macOS always have their own display
    if qpa == "xcb":
        has_display = bool(env.get("DISPLAY"))
    elif qpa.startswith("wayland"):
        has_display = bool(env.get("WAYLAND_DISPLAY"))
    elif qpa:
        return None  # eglfs, linuxfb, vnc...: they bring their own output
    else:
        has_display = bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))
    return None if has_display else NO_DISPLAY


def setup_logging(home: Path, *, verbose: bool = False) -> Path | None:
    """Log to ``home/logs/glowdesk.log`` (never patient data; see app.ui.errors)."""
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s]: %(message)s")
    path: Path | None = home / LOG_DIR / LOG_FILE
    try:
        assert path is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    except OSError:
        path = None  # a read-only folder is reported by the store with a clear message
        handler = logging.NullHandler()
    handler.setFormatter(fmt)
    root.addHandler(handler)
    if verbose:
        console = logging.StreamHandler(sys.stderr)
        console.setFormatter(fmt)
        root.addHandler(console)
    return path


def _home(demo: bool) -> Path:
    from app.services.workspace import default_demo_home, default_home

    return default_demo_home() if demo else default_home()


def _out(line: str) -> None:
    print(line, flush=True)


def _err(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.self_test:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # a check needs no screen
    ready_file = Path(os.environ[READY_FILE_ENV]) if os.environ.get(READY_FILE_ENV) else None
    problem = display_problem(self_test=args.self_test or ready_file is not None)
    if problem:
        _err(problem)
        return EXIT_NO_DISPLAY
    try:
        home = _home(args.demo)
        setup_logging(home, verbose=args.verbose)
        log.info("starting (demo=%s, self-test=%s)", args.demo, args.self_test)
        from app.ui.app import LaunchOptions, run

        return run(LaunchOptions(home=home, demo=args.demo, self_test=args.self_test,
                                 demo_patients=args.patients, ready_file=ready_file), out=_out, err=_err)
    except GlowdeskError as exc:
        _err(f"Glowdesk could not start: {exc.user_message}")
        return 1
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except ImportError as exc:
        log.error("missing module: %s", exc.name)
        _err(f"Glowdesk is not installed completely (missing module {exc.name}); run `make run` "
             "or reinstall it.")
        return 1
