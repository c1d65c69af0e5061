"""The claims board: a folder where workers take the plan's items one at a time and record how each ended.

``plan.json`` lists the items in claiming order. A worker owns item *i* once it has created
``i.claim`` (``O_CREAT | O_EXCL``: exactly one worker succeeds, on any POSIX file system) and
reports it with ``i.done`` (written to a temporary name and renamed, so it is never read half
written). ``serial.claim`` is taken by the one worker that runs the disruptive items once every
other item is done; ``stop`` asks every worker to claim nothing more.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from crucible.parallel.plan import Item

ENV = "CRUCIBLE_CLAIMS"
WORKER_ENV = "CRUCIBLE_WORKER"
POLL_S = 0.2


@dataclass(frozen=True)
class Done:
    """How one item ended: behave's status, seconds it took, the worker that ran it."""

    index: int
    status: str
    seconds: float
    worker: str


class Board:
    """One run's claims folder."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    @classmethod
    def create(cls, folder: Path, items: list[Item]) -> "Board":
        """A new board holding the plan (the folder must be empty or new)."""
        folder.mkdir(parents=True, exist_ok=True)
        board = cls(folder)
        board._write("plan.json", {"items": [item.to_dict() for item in items]})
        return board

    @property
    def items(self) -> list[Item]:
        """The plan, in claiming order."""
        data = json.loads((self.folder / "plan.json").read_text(encoding="utf-8"))
        return [Item.from_dict(item) for item in data["items"]]

    def _take(self, name: str, owner: str) -> bool:
        """Create ``name`` if nobody has; True if we did."""
        try:
            handle = os.open(self.folder / name, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(handle, "w") as out:
            out.write(owner)
        return True

    def claim(self, index: int, worker: str) -> bool:
        """Take item ``index`` for ``worker``; False if another worker has it."""
        return self._take(f"{index:05d}.claim", worker)

    def claim_serial(self, worker: str) -> bool:
        """Become the one worker that runs the disruptive items; False if another is."""
        return self._take("serial.claim", worker)

    def claimed_by(self) -> dict[int, str]:
        """Item index -> worker, for every claimed item."""
        return {int(path.stem): path.read_text() for path in self.folder.glob("[0-9]*.claim")}

    def finish(self, index: int, status: str, seconds: float, worker: str) -> None:
        """Record how item ``index`` ended (atomically)."""
        self._write(f"{index:05d}.done", {"status": status, "seconds": round(seconds, 3), "worker": worker})

    def done(self) -> dict[int, Done]:
        """Every item recorded as finished."""
        found = {}
        for path in self.folder.glob("[0-9]*.done"):
            data = json.loads(path.read_text(encoding="utf-8"))
            found[int(path.stem)] = Done(int(path.stem), data["status"], data["seconds"], data["worker"])
        return found

    def ready(self, run_id: str) -> None:
        """Tell the workers the stack is up, and its run id."""
        self._write("ready", {"run_id": run_id})

    def wait_ready(self, give_up: Callable[[], bool] = lambda: False) -> str | None:
        """Wait until the stack is up; its run id, or None if a stop was asked (or ``give_up()``) first."""
        while not self.stopped and not give_up():
            if (self.folder / "ready").exists():
                return json.loads((self.folder / "ready").read_text(encoding="utf-8"))["run_id"]
            time.sleep(POLL_S)
        return None

    def stop(self) -> None:
        """Ask every worker to claim nothing more."""
        (self.folder / "stop").touch()

    @property
    def stopped(self) -> bool:
        """True once someone asked the workers to stop (or the board is gone with its coordinator)."""
        return (self.folder / "stop").exists() or not (self.folder / "plan.json").exists()

    def wait_until_done(self, indices: list[int], give_up: Callable[[], bool] = lambda: False) -> bool:
        """Wait until every one of ``indices`` is done; False if a stop was asked (or ``give_up()``) first."""
        while not self.stopped and not give_up():
            if all((self.folder / f"{index:05d}.done").exists() for index in indices):
                return True
            time.sleep(POLL_S)
        return False

    def _write(self, name: str, data: dict) -> None:
        """Write JSON under a temporary name, then rename it into place."""
        temporary = self.folder / f".{name}.{os.getpid()}"
        temporary.write_text(json.dumps(data), encoding="utf-8")
        os.replace(temporary, self.folder / name)
