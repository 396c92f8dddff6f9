"""Notebook maintenance for course authors.

  python tools/nbtool.py run NB...          execute in quick mode, then keep outputs only in checked cells
  python tools/nbtool.py time --full NB...  execute in full mode (what a learner runs), print times, write nothing
  python tools/nbtool.py strip NB...        keep outputs only in cells marked '# NBVAL_CHECK_OUTPUT'

Checked cells keep their output and an execution count (nbval compares nothing for a cell whose count is null);
every other cell is stored empty, so diffs stay readable and the notebooks small.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

CHECK_MARK = "# NBVAL_CHECK_OUTPUT"


def strip(nb) -> None:
    count = 0
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        if CHECK_MARK in cell.source and cell.get("outputs"):
            count += 1
            cell.execution_count = count
            for output in cell.outputs:
                if "execution_count" in output:
                    output["execution_count"] = count
        else:
            cell.outputs = []
            cell.execution_count = None
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def execute(path: Path, quick: bool, timeout: int) -> tuple:
    nb = nbformat.read(path, as_version=4)
    os.environ["GAN_COURSE_QUICK"] = "1" if quick else "0"
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    timings = []
    original = client.async_execute_cell

    async def timed(cell, index, **kwargs):
        start = time.perf_counter()
        result = await original(cell, index, **kwargs)
        timings.append((index, time.perf_counter() - start))
        return result

    client.async_execute_cell = timed
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start, timings


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("run", "time", "strip"))
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--full", action="store_true", help="full mode (only with 'time')")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    parser.add_argument("--slowest", type=int, default=5, help="how many slowest cells to list")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        if args.command == "strip":
            nb = nbformat.read(path, as_version=4)
            strip(nb)
            nbformat.write(nb, path)
            continue
        quick = not args.full
        nb, seconds, timings = execute(path, quick, args.timeout)
        mode = "quick" if quick else "full"
        print(f"{path.name}: {seconds:.1f} s in {mode} mode")
        for index, cell_seconds in sorted(timings, key=lambda t: -t[1])[:args.slowest]:
            first = nb.cells[index].source.strip().splitlines()[0][:70] if nb.cells[index].source.strip() else ""
            print(f"    cell {index:3d}: {cell_seconds:6.1f} s  {first}")
        if args.command == "run":
            strip(nb)
            nbformat.write(nb, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
