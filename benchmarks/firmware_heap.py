"""Heap of the lux node firmware on MicroPython's unix port.

Builds the firmware to .mpy for the host (``firmware/build.py --arch host``),
runs it against a real Mosquitto on 127.0.0.1 with the fake ``machine`` and
``network`` (also as .mpy), and

- measures the peak heap: the ``gc.mem_alloc()`` high-water mark that the
  node samples in its ``debug`` mode, run with a large heap (so it includes
  garbage not yet collected: an upper bound), the live heap after each
  report's ``gc.collect()``, and the fakes' share (a board has those in flash);
- bisects the smallest ``-X heapsize`` at which the node still runs N report
  cycles and publishes every state.

The unix port is 64-bit: expect about 1.5x what a 32-bit ESP8266/ESP32 needs.

    python benchmarks/firmware_heap.py [--cycles 3]

Last line: ``RESULT peak_heap_bytes=<n> runs_at_heapsize=<bytes> ...``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import re
import shutil
import sys
import tempfile

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from lux_node import LuxNode, build_firmware, compile_fakes, node_config, run_script  # noqa: E402
from mqtt_broker import Mosquitto, find_mosquitto, recording  # noqa: E402

STATE = "luxnode/test_node/lux"
SCENARIO = {"device": "tsl2591", "lux": [250.0]}


def run_node(
    broker: Mosquitto, work: Path, code: Path, fakes: Path, heap: int, cycles: int
) -> tuple[bool, str]:
    """Run ``cycles`` reports with ``heap`` bytes; True when all states arrived."""
    settings = node_config(broker.port, max_cycles=cycles, debug=True)
    # Files next to the run, so module paths are as short as on a board.
    run = work / f"heap{heap}"
    shutil.copytree(code, run / "lib")
    shutil.copytree(fakes, run / "fakes")
    with recording(broker.host, broker.port, STATE) as rec:
        node = LuxNode(
            run,
            settings,
            SCENARIO,
            code_dir=run / "lib",
            fakes_dir=run / "fakes",
            heapsize=str(heap),
        )
        with node:
            code_ok = node.wait(60) == 0
        try:
            rec.wait_for(STATE, count=cycles, timeout=3)
            states_ok = True
        except TimeoutError:
            states_ok = False
    return code_ok and states_ok, node.output()


def fakes_share(code: Path, fakes: Path) -> int:
    """Heap the fake ``machine``/``network``/chip take (in flash on a board)."""
    done = run_script(
        "import gc\ngc.collect()\na = gc.mem_alloc()\n"
        "import machine, network\nmachine.I2C()\ngc.collect()\n"
        "print('FAKES', gc.mem_alloc() - a)\n",
        code_dir=code,
        fakes_dir=fakes,
        scenario=SCENARIO,
    )
    match = re.search(r"FAKES (\d+)", done.stdout)
    return int(match.group(1)) if match else -1


def main() -> int:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=3)
    args = parser.parse_args()
    binary = find_mosquitto()
    if binary is None:
        print("mosquitto not installed", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        code = build_firmware(work / "build", "host")
        fakes = compile_fakes(work / "fakes")
        broker = Mosquitto(binary, work)
        broker.start()
        try:
            ok, log = run_node(broker, work, code, fakes, 2 * 1024 * 1024, args.cycles)
            if not ok:
                print(log, file=sys.stderr)
                return 1
            peaks = [int(p) for p in re.findall(r"peak (\d+)", log)]
            live = [int(p) for p in re.findall(r"heap (\d+) peak", log)]
            low, high = 8 * 1024, 128 * 1024
            if not run_node(broker, work, code, fakes, high, args.cycles)[0]:
                print(f"does not run even at {high} bytes", file=sys.stderr)
                return 1
            # Smallest heap that works, to 256 bytes.
            while high - low > 256:
                mid = (low + high) // 2 // 16 * 16
                if run_node(broker, work, code, fakes, mid, args.cycles)[0]:
                    high = mid
                else:
                    low = mid
            share = fakes_share(code, fakes)
        finally:
            broker.stop()
    figures = {
        "peak_heap_bytes": max(peaks),
        "runs_at_heapsize": high,
        "live_heap_bytes": max(live),
        "fakes_heap_bytes": share,
        "cycles": args.cycles,
    }
    print(json.dumps(figures))
    print("RESULT " + " ".join(f"{k}={v}" for k, v in figures.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
