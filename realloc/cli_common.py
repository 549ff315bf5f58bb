"""What every ``realloc`` command shares: exit codes, the stderr voice, and the error handling
that turns domain errors and signals into one clean line and an exit code.

It lives apart from realloc/cli.py so that the command modules (realloc/sweep_cli.py) can use it
without importing the main group that imports them: the import graph stays a tree.

Exit codes: 0 done, 2 bad input (or an --out realloc must not replace), 3 plan unfunded or
infeasible (for a sweep or breakeven: no plan at all), 4 the time limit struck before any plan
was found, 5 the output could not be written (disk full, permission, read-only: the message
names the path; the old output is intact), 1 internal error, 130 interrupted by Ctrl-C (SIGINT),
143 stopped by SIGTERM. Tracebacks never reach the user (set REALLOC_DEBUG=1 to see them).
"""

from __future__ import annotations

import errno
import functools
import os
import signal
import sys
import threading

import click

from realloc.output_cli import say, what_was_left

EXIT_BAD_INPUT = 2
EXIT_UNFUNDED = 3
EXIT_NO_PLAN = 3
"""A sweep where no variant produced a plan, or a breakeven search that found no flip."""
EXIT_NO_PLAN_IN_TIME = 4
EXIT_WRITE_FAILED = 5


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM: unwinds like Ctrl-C (staged output folders are removed on the way)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _on_signal(signum: int, frame) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):  # a second signal must not cut the clean-up
        signal.signal(sig, signal.SIG_IGN)
    raise Interrupted(signum)


def handle_errors(fn):
    """Turn domain errors into clean messages and exit codes; SIGTERM is handled like Ctrl-C."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from realloc.inputs import InputError
        from realloc.reports.atomic import OutputRefused, OutputWriteError, committed_count

        previous = {}
        committed = committed_count()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, _on_signal)
        try:
            return fn(*args, **kwargs)
        except (InputError, OutputRefused) as e:
            say(f"error: {e}")
            sys.exit(EXIT_BAD_INPUT)
        except OutputWriteError as e:
            say(f"error: {e}")
            sys.exit(EXIT_WRITE_FAILED)
        except KeyboardInterrupt as e:
            signum = getattr(e, "signum", signal.SIGINT)
            say(f"interrupted ({signal.Signals(signum).name}): {what_was_left(committed)}")
            sys.exit(128 + signum)
        except (click.exceptions.Exit, click.ClickException):
            raise  # click prints these itself (usage errors exit 2)
        except Exception as e:
            if isinstance(e, OSError) and e.errno in (errno.ENAMETOOLONG, errno.ELOOP):
                # a path the user gave that the system cannot even look up (a name over 255
                # bytes, a symlink loop): Path.exists() raises these rather than answering
                # False, anywhere in any command; bad input (exit 2), not a bug in realloc
                name = str(e.filename or "a path")
                name = name if len(name) <= 80 else name[:80] + "…"
                say(f"error: {name}: {e.strerror}; give another path")
                sys.exit(EXIT_BAD_INPUT)
            if os.environ.get("REALLOC_DEBUG"):
                raise
            say(
                f"internal error: {type(e).__name__}: {e}\n"
                "This is a bug in realloc; rerun with REALLOC_DEBUG=1 for the traceback."
            )
            sys.exit(1)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    return wrapper
