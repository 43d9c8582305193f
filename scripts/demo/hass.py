"""Start Home Assistant on the demo folder, wait for it, stop it cleanly."""

from __future__ import annotations

from pathlib import Path
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

#: The first start installs the frontend package; allow for a slow network.
START_TIMEOUT_S = 600.0
#: Home Assistant writes its databases and storage when it stops.
STOP_TIMEOUT_S = 90.0


class HassExited(RuntimeError):
    """Home Assistant ended before it answered."""


def start(config_dir: Path) -> subprocess.Popen[bytes]:
    """Start Home Assistant (the interpreter running this) on `config_dir`.

    It gets its own session, so a Ctrl-C in the terminal reaches only the
    demo command, which then stops Home Assistant exactly once.
    """
    return subprocess.Popen(
        [sys.executable, "-m", "homeassistant", "-c", str(config_dir)],
        start_new_session=True,
    )


def http_answers(base_url: str) -> bool:
    """Return whether Home Assistant's web server answers.

    Asks for the login providers, which needs no login: a request to the API
    without a token would be reported as a failed login attempt.
    """
    try:
        with urllib.request.urlopen(  # noqa: S310 (http to 127.0.0.1)
            f"{base_url}/auth/providers", timeout=5
        ):
            return True
    except urllib.error.HTTPError:
        return False
    except OSError:
        return False


def wait_until_up(
    process: subprocess.Popen[bytes],
    base_url: str,
    timeout_s: float = START_TIMEOUT_S,
) -> float:
    """Wait until the web server answers; return the seconds it took."""
    began = time.monotonic()
    while time.monotonic() - began < timeout_s:
        if process.poll() is not None:
            raise HassExited(f"Home Assistant exited with code {process.returncode}")
        if http_answers(base_url):
            return time.monotonic() - began
        time.sleep(0.5)
    raise TimeoutError(f"Home Assistant did not answer within {timeout_s:.0f} s")


def stop(process: subprocess.Popen[bytes], timeout_s: float = STOP_TIMEOUT_S) -> int:
    """Stop Home Assistant like Ctrl-C does; harder only if it hangs."""
    if process.poll() is not None:
        return process.returncode
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.terminate()
    try:
        return process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()
