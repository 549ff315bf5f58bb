"""The results store of a sweep: one folder of Parquet files, written so that a kill loses nothing.

Layout of ``DIR``::

    variants.parquet    one row per variant: id, name, group, its parameters (one column per
                         swept path), status, reason, value, baseline, uplift, it_mw_<site>, ...
    plan.parquet         long tables of every solved variant, keyed by variant_id
    treasury.parquet
    conversions.parquet
    contracts.parquet
    sweep.json           what was run: portfolio, variant file, solver settings, counts
    parts/<key>/         one folder per solved variant (row.parquet and its tables)

Each variant's part is written into a temporary folder and renamed into place, so a part is
either complete or absent, whatever moment the sweep is killed at. The consolidated files are
rebuilt from the parts (as one set, swapped in at once) at the end of every run, after an interrupt
and on every rerun; a rerun solves only the variants whose key has no part yet (and retries
those whose part records an ``error``). Parts are named by content key, not variant id, so an
edited variant is solved again and renaming a variant is free.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import socket
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from realloc.reports.atomic import OutputSpec, folder_mode, staged_dir

TABLES = ("plan", "treasury", "conversions", "contracts")
VARIANTS_FILE = "variants.parquet"
LEGACY_VARIANTS_FILE = "scenarios.parquet"
"""The name of variants.parquet in stores written before "scenario" came to mean only a market
path: ``compare`` reads it, and a rerun of the sweep replaces it with variants.parquet."""
LEGACY_KEY = "scenarios"
"""The group of named variants in such stores (today ``variants``)."""
PARTS = "parts"
ROW_FILE = "row.parquet"
RETRIED = ("error",)
"""Statuses solved again by a rerun (a worker died, an unexpected exception)."""
META_COLUMNS = ["id", "name", "group"]
RESULT_COLUMNS = [
    "status",
    "reason",
    "value_usd",
    "baseline_value_usd",
    "uplift_usd",
    "it_mw_total",
]
TAIL_COLUMNS = [
    "btc_sold",
    "usd_raised",
    "min_cash_usd",
    "funding_gap_usd",
    "first_conversion_month",
    "solve_seconds",
    "seconds",
    "cpu_seconds",
    "reused_phases",
    "key",
]


@dataclass
class StoredVariant:
    """A variant as the store lists it; ``key`` is None for one that never reached a solver."""

    id: str
    name: str
    group: str
    params: dict[str, Any]
    key: str | None
    invalid_reason: str | None = None
    site_names: list[str] = field(default_factory=list)


class StoreBusy(RuntimeError):
    """Another live sweep holds the folder's lock."""


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` via a temporary file in the same folder, then rename."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class SweepStore:
    """The results folder of one sweep."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.parts = self.root / PARTS

    def prepare(self) -> None:
        """Create the folder; drop half-written parts and parts whose status is retried."""
        if self.root.exists() and not self.root.is_dir():
            raise NotADirectoryError(f"{self.root} exists and is not a folder")
        self.parts.mkdir(parents=True, exist_ok=True)
        for p in self.parts.iterdir():
            if p.name.startswith("."):
                shutil.rmtree(p, ignore_errors=True)
        for leftover in self.root.glob(".*.tmp"):
            leftover.unlink(missing_ok=True)
        for key, row in self.rows().items():
            if row.get("status") in RETRIED:
                shutil.rmtree(self.parts / key, ignore_errors=True)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold an exclusive ``flock`` on ``DIR/.lock`` while sweeping: two sweeps must not
        write one folder at once. Taking the lock is one atomic step, and the kernel drops it
        when its process ends however it ends, so a killed sweep never leaves a lock behind.
        The file itself stays (deleting it would let a waiting sweep lock a file no newer one
        sees); what it says (process, host, start) only names the holder in the message."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o666)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 200, 0).decode(errors="replace").strip()
                raise StoreBusy(
                    f"another sweep ({holder or 'a running process'}) is writing {self.root}; "
                    "wait for it or give another --out"
                ) from None
            os.ftruncate(fd, 0)
            started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            os.pwrite(fd, f"process {os.getpid()} on {socket.gethostname()} since {started}\n"
                      .encode(), 0)  # fmt: skip
            yield
        finally:
            os.close(fd)

    def done_keys(self) -> set[str]:
        """Keys of the variants with a complete part.

        A part whose parquet files do not open (truncated, overwritten by hand, a disk error)
        is removed here, before any solve, so its variant is solved again: it used to stop the
        resumed sweep with an internal error from pyarrow when the store was consolidated.
        """
        if not self.parts.is_dir():
            return set()
        done = set()
        for part in self.parts.iterdir():
            if not (part / ROW_FILE).is_file() or part.name.startswith("."):
                continue
            if _readable_part(part):
                done.add(part.name)
            else:
                shutil.rmtree(part, ignore_errors=True)
        return done

    def rows(self) -> dict[str, dict]:
        """Every stored part's headline row, by key."""
        out = {}
        for key in sorted(self.done_keys()):
            frame = pd.read_parquet(self.parts / key / ROW_FILE)
            out[key] = frame.iloc[0].to_dict() if len(frame) else {}
        return out

    def write_part(self, key: str, row: dict, tables: dict[str, pd.DataFrame]) -> Path:
        """Store one variant's result all at once (temporary folder, then rename)."""
        self.parts.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=self.parts))
        try:
            os.chmod(stage, folder_mode())  # mkdtemp's 0700 widened as the umask allows
            pd.DataFrame([{**row, "key": key}]).to_parquet(stage / ROW_FILE, index=False)
            for name, frame in tables.items():
                frame.to_parquet(stage / f"{name}.parquet", index=False)
            final = self.parts / key
            if final.exists():
                shutil.rmtree(final)
            stage.rename(final)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        return final

    def consolidate(self, variants: list[StoredVariant], manifest: dict) -> dict[str, Path]:
        """Rebuild variants.parquet, the long tables and sweep.json from the parts."""
        rows = self.rows()
        param_columns: list[str] = []
        site_columns: list[str] = []
        for s in variants:
            param_columns += [c for c in s.params if c not in param_columns]
            site_columns += [f"it_mw_{n}" for n in s.site_names if f"it_mw_{n}" not in site_columns]
        records = []
        for s in variants:
            rec: dict[str, Any] = {"id": s.id, "name": s.name, "group": s.group}
            rec |= {c: s.params.get(c) for c in param_columns}
            if s.invalid_reason is not None:
                rec |= {"status": "invalid", "reason": s.invalid_reason}
            elif s.key in rows:
                rec |= {k: v for k, v in rows[s.key].items() if k not in ("id", "name", "group")}
            else:
                rec |= {"status": "pending", "reason": "not solved yet; rerun the sweep to finish"}
            rec["key"] = s.key
            records.append(rec)
        frame = pd.DataFrame(records)
        extra = [
            c
            for c in frame.columns
            if c not in META_COLUMNS + param_columns + RESULT_COLUMNS + TAIL_COLUMNS
            and c not in site_columns
        ]
        columns = META_COLUMNS + param_columns + RESULT_COLUMNS + site_columns + extra
        columns += TAIL_COLUMNS
        frame = frame.reindex(columns=columns)
        for c in param_columns:
            frame[c] = _param_column(frame[c])
        for c in RESULT_COLUMNS[2:] + site_columns + TAIL_COLUMNS:
            if c not in ("first_conversion_month", "key"):
                frame[c] = pd.to_numeric(frame[c], errors="coerce")
        frame["reason"] = frame["reason"].fillna("").astype(str)
        frame["first_conversion_month"] = frame["first_conversion_month"].astype("string")
        frame["key"] = frame["key"].astype("string")
        counts = frame["status"].value_counts().to_dict()
        manifest = manifest | {"variants": len(frame), "status_counts": counts}
        return self._write_set(frame, variants, rows, manifest)

    def _write_set(
        self, frame: pd.DataFrame, variants: list[StoredVariant], rows: dict, manifest: dict
    ) -> dict[str, Path]:
        """Write variants.parquet, the long tables and sweep.json as one set: into a linked
        copy of the folder swapped in at once (reports/atomic.py), so a reader or a kill sees
        the previous set or the new one, never a mix. The caller holds the store's lock."""
        consolidated = {VARIANTS_FILE, LEGACY_VARIANTS_FILE, "sweep.json"}
        consolidated |= {f"{n}.parquet" for n in TABLES}
        with staged_dir(self.root, OutputSpec("sweep"), True, consolidated) as stage:
            _write_parquet(frame, stage / VARIANTS_FILE)
            for name in TABLES:  # one long table in memory at a time
                _write_parquet(self._long_table(name, variants, rows), stage / f"{name}.parquet")
            text = json.dumps(manifest, indent=2, default=str) + "\n"
            (stage / "sweep.json").write_text(text)
        files = {"variants": self.root / VARIANTS_FILE}
        files |= {name: self.root / f"{name}.parquet" for name in TABLES}
        return files | {"manifest": self.root / "sweep.json"}

    def _long_table(
        self, name: str, variants: Iterable[StoredVariant], rows: dict[str, dict]
    ) -> pd.DataFrame:
        pieces = []
        for s in variants:
            path = self.parts / str(s.key) / f"{name}.parquet"
            if s.key in rows and path.is_file():
                part = pd.read_parquet(path)
                if len(part):
                    part.insert(0, "variant_id", s.id)
                    pieces.append(part)
        if not pieces:
            return pd.DataFrame({"variant_id": pd.Series(dtype="string")})
        return pd.concat(pieces, ignore_index=True)


def _param_column(col: pd.Series) -> pd.Series:
    """Numbers stay numbers; a column mixing kinds becomes text (Parquet needs one type)."""
    values = [v for v in col if v is not None and not (isinstance(v, float) and pd.isna(v))]
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return pd.to_numeric(col, errors="coerce")
    return col.map(lambda v: None if v is None or (isinstance(v, float) and pd.isna(v)) else str(v))


def _readable_part(part: Path) -> bool:
    """Every parquet file of a stored part opens (its footer and schema read)."""
    import pyarrow.parquet as pq

    try:
        for f in part.glob("*.parquet"):
            if f.is_symlink() or not f.is_file():
                return False
            pq.read_metadata(f)
    except (OSError, ValueError):  # pyarrow's ArrowInvalid is a ValueError
        return False
    return True


def read_variants(root: Path | str) -> pd.DataFrame:
    """``variants.parquet`` of a sweep folder, or the ``scenarios.parquet`` of a store written
    before the rename (its named variants' group ``scenarios`` read as ``variants``)."""
    root = Path(root)
    path = root / VARIANTS_FILE
    if path.is_file():
        return pd.read_parquet(path)
    legacy = root / LEGACY_VARIANTS_FILE
    if not legacy.is_file():
        raise FileNotFoundError(path)
    frame = pd.read_parquet(legacy)
    if "group" in frame.columns:
        frame["group"] = frame["group"].replace(LEGACY_KEY, "variants")
    return frame


def is_store(root: Path | str) -> bool:
    """Whether ``root`` holds a sweep's consolidated table (either name)."""
    root = Path(root)
    return (root / VARIANTS_FILE).is_file() or (root / LEGACY_VARIANTS_FILE).is_file()


def read_manifest(root: Path | str) -> dict:
    """``sweep.json`` of a sweep folder ({} when absent)."""
    path = Path(root) / "sweep.json"
    return json.loads(path.read_text()) if path.is_file() else {}
