"""The SQLite manifest: schema, migrations, and the only code in the project that writes SQL.

One database (WAL mode) holds every item and every decision. Stages never see it: the runner asks
`pending_<stage>()` for work and hands each result to `record_<stage>()`, committing in small
batches so a run killed at any moment loses at most the results of the batch in flight.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.errors import UserError
from pipeline.stages import ITEM_FIELDS as STAGE_ITEM_FIELDS

# Each entry migrates the schema from version i to i + 1. Never edit a released entry; append.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE items (
        id              INTEGER PRIMARY KEY,
        source          TEXT NOT NULL,
        object_id       TEXT,
        url             TEXT NOT NULL UNIQUE,
        page_url        TEXT,
        title           TEXT,
        license         TEXT,
        classification  TEXT,
        local_path      TEXT,     -- folder ingest: read from here instead of fetching url
        scraped_at      TEXT,
        added_at        TEXT NOT NULL,
        -- download: pending | ok | duplicate | failed
        download_status TEXT NOT NULL DEFAULT 'pending',
        download_reason TEXT,
        http_status     INTEGER,
        attempts        INTEGER NOT NULL DEFAULT 0,
        sha256          TEXT,
        bytes           INTEGER,
        width           INTEGER,
        height          INTEGER,
        format          TEXT,
        path            TEXT,     -- the original, relative to the data dir
        duplicate_of    INTEGER REFERENCES items(id),
        downloaded_at   TEXT,
        -- detect: pending | ok | no_object | failed
        detect_status   TEXT NOT NULL DEFAULT 'pending',
        detect_reason   TEXT,
        detected_at     TEXT
    );
    CREATE INDEX items_download_status ON items(download_status, download_reason);
    CREATE INDEX items_detect_status ON items(detect_status);
    CREATE INDEX items_sha256 ON items(sha256);

    CREATE TABLE detections (
        id          INTEGER PRIMARY KEY,
        item_id     INTEGER NOT NULL REFERENCES items(id),
        class_name  TEXT NOT NULL,
        confidence  REAL NOT NULL,
        x0 REAL NOT NULL, y0 REAL NOT NULL, x1 REAL NOT NULL, y1 REAL NOT NULL,
        model       TEXT NOT NULL
    );
    CREATE INDEX detections_item ON detections(item_id);

    CREATE TABLE crops (
        id            INTEGER PRIMARY KEY,
        item_id       INTEGER NOT NULL REFERENCES items(id),
        detection_id  INTEGER NOT NULL REFERENCES detections(id),
        resolution    INTEGER NOT NULL,
        status        TEXT NOT NULL,   -- ok | failed
        reason        TEXT,
        path          TEXT,            -- relative to the data dir
        dhash         INTEGER,         -- 64-bit hash stored as a signed integer
        created_at    TEXT NOT NULL,
        UNIQUE (detection_id, resolution)
    );
    CREATE INDEX crops_item ON crops(item_id);

    -- Append-only: the latest row for a crop wins, so undo is one more row
    -- ('pending' clears an earlier decision).
    CREATE TABLE decisions (
        id          INTEGER PRIMARY KEY,
        crop_id     INTEGER NOT NULL REFERENCES crops(id),
        decision    TEXT NOT NULL CHECK (decision IN ('keep', 'reject', 'pending')),
        reason      TEXT,
        decided_at  TEXT NOT NULL
    );
    CREATE INDEX decisions_crop ON decisions(crop_id, id);

    CREATE TABLE dupes (
        crop_id            INTEGER PRIMARY KEY REFERENCES crops(id),
        cluster_id         INTEGER NOT NULL,
        representative_id  INTEGER NOT NULL REFERENCES crops(id)
    );
    CREATE INDEX dupes_cluster ON dupes(cluster_id);

    CREATE TABLE runs (
        id           INTEGER PRIMARY KEY,
        stage        TEXT NOT NULL,
        started_at   TEXT NOT NULL,
        finished_at  TEXT,
        settings     TEXT,
        counts       TEXT
    );
    """,
    # 2: a 4×4 RGB thumbnail per crop (48 bytes) that confirms dHash matches by colour.
    "ALTER TABLE crops ADD COLUMN colour BLOB",
]

SCHEMA_VERSION = len(MIGRATIONS)

# What "kept" means everywhere (export, report, review): a crop that is ok, is not a duplicate
# of another crop, and whose latest decision is not a rejection. Use with LATEST_DECISION joined.
LATEST_DECISION = (
    "LEFT JOIN decisions dec ON dec.id = (SELECT MAX(id) FROM decisions WHERE crop_id = c.id)"
)
UNIQUE = (
    "c.status = 'ok' AND NOT EXISTS (SELECT 1 FROM dupes u"
    " WHERE u.crop_id = c.id AND u.representative_id != c.id)"
)
KEPT = f"({UNIQUE} AND COALESCE(dec.decision, 'pending') != 'reject')"

ITEM_FIELDS = (*STAGE_ITEM_FIELDS, "local_path")  # local_path: folder ingest reads files from it


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Manifest:
    """An open manifest database. Use as a context manager, or call close()."""

    def __init__(self, path: str | Path, *, readonly: bool = False):
        self.path = Path(path)
        if not readonly:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.path.exists():
            raise UserError(
                f"no manifest at {self.path}; run `curate ingest` or `curate scrape` first."
            )
        try:
            # Autocommit mode: transactions are explicit (BEGIN IMMEDIATE … COMMIT) below.
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA busy_timeout = 30000")
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise UserError(f"{self.path} is not a usable manifest database ({exc}).") from None

    def __enter__(self) -> Manifest:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; IMMEDIATE takes the write lock up front so it cannot deadlock."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise UserError(
                f"{self.path} was written by a newer vessel-curate (schema {version}, this one "
                f"knows {SCHEMA_VERSION}); upgrade vessel-curate to open it."
            )
        for target in range(version, SCHEMA_VERSION):
            with self.transaction() as db:
                for statement in MIGRATIONS[target].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {target + 1}")

    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    # --- ingest ------------------------------------------------------------------------------

    def add_items(self, rows: Iterable[dict[str, Any]]) -> int:
        """Insert new items in one transaction; a URL already present is left as it is.

        Returns how many rows were new.
        """
        stamp = now()
        values = [tuple(row.get(name) for name in ITEM_FIELDS) + (stamp,) for row in rows]
        if not values:
            return 0
        columns = ", ".join(ITEM_FIELDS)
        marks = ", ".join("?" * (len(ITEM_FIELDS) + 1))
        with self.transaction() as db:
            before = db.total_changes
            db.executemany(
                f"INSERT OR IGNORE INTO items ({columns}, added_at) VALUES ({marks})", values
            )
            return db.total_changes - before

    # --- stage work --------------------------------------------------------------------------
    # A stage's pending work is a query paged by a key column (so a huge backlog never sits in
    # memory and rows recorded meanwhile are not revisited); its results are written by
    # `_record_<stage>`. Each stage adds one entry to PENDING below and one writer method.

    def pending(
        self, stage: str, limit: int | None = None, **filters: Any
    ) -> tuple[int, Iterator[dict]]:
        """How many items `stage` has to do, and an iterator over them (at most `limit`)."""
        if stage not in PENDING:
            raise KeyError(f"no pending-work query for stage {stage!r}")
        select, where, params, key = PENDING[stage](**filters)
        count = self.db.execute(
            f"SELECT COUNT(*) FROM ({select} WHERE {where})", params
        ).fetchone()[0]
        if limit is not None:
            count = min(count, limit)
        return count, self._pages(select, where, params, key, count)

    def _pages(
        self, select: str, where: str, params: tuple, key: str, count: int
    ) -> Iterator[dict]:
        last, left = -1, count
        while left > 0:
            rows = self.db.execute(
                f"{select} WHERE ({where}) AND {key} > ? ORDER BY {key} LIMIT ?",
                (*params, last, min(500, left)),
            ).fetchall()
            if not rows:
                return
            for row in rows:
                yield dict(row)
            last = rows[-1]["id"]
            left -= len(rows)

    def record(self, stage: str, results: Iterable[Any]) -> list[tuple[str, str]]:
        """Store a batch of one stage's results in one transaction.

        A writer may store other statuses than the stage gave (the download writer turns "ok"
        into "duplicate" when the bytes are already known); it returns those changes as
        (given, stored) pairs so the run's summary counts what was stored.
        """
        writer = getattr(self, f"_record_{stage}")
        changed: list[tuple[str, str]] = []
        with self.transaction() as db:
            for result in results:
                changed += writer(db, result) or []
        return changed

    # --- download -----------------------------------------------------------------------------
    # (download stage writers)

    def _record_download(self, db: sqlite3.Connection, result: Any) -> list[tuple[str, str]]:
        data = result.data
        status = result.status
        duplicate_of = None
        changes = []
        if status == "ok":
            # Equal bytes mean an exact duplicate. The lowest item id keeps the file whatever the
            # order downloads finish in, so a resumed run ends exactly like an uninterrupted one
            # (unless the other item has already gone on to detection).
            first = db.execute(
                """SELECT MIN(id), detect_status FROM items
                   WHERE sha256 = ? AND download_status = 'ok' AND id != ?""",
                (data["sha256"], result.item_id),
            ).fetchone()
            if first[0] is not None and (first[0] < result.item_id or first[1] != "pending"):
                status, duplicate_of = "duplicate", first[0]
                changes.append(("ok", "duplicate"))
            elif first[0] is not None:
                changes.append(("ok", "duplicate"))  # the item that held the bytes until now
                db.execute(
                    """UPDATE items SET download_status = 'duplicate', duplicate_of = ?
                       WHERE sha256 = ? AND id != ? AND download_status IN ('ok', 'duplicate')""",
                    (result.item_id, data["sha256"], result.item_id),
                )
        db.execute(
            """UPDATE items SET download_status = ?, download_reason = ?, http_status = ?,
                   attempts = attempts + ?, sha256 = ?, bytes = ?, width = ?, height = ?, format = ?,
                   path = ?, duplicate_of = ?, downloaded_at = ?
               WHERE id = ?""",
            (
                status,
                result.reason,
                data.get("http_status"),
                data.get("attempts") or 0,
                data.get("sha256"),
                data.get("bytes"),
                data.get("width"),
                data.get("height"),
                data.get("format"),
                data.get("path"),
                duplicate_of,
                now(),
                result.item_id,
            ),
        )
        return changes

    # --- detect -------------------------------------------------------------------------------
    # (detect stage writers)

    def _record_detect(self, db: sqlite3.Connection, result: Any) -> None:
        model = result.data.get("model", "")
        db.executemany(
            """INSERT INTO detections (item_id, class_name, confidence, x0, y0, x1, y1, model)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                (
                    result.item_id,
                    d["class_name"],
                    d["confidence"],
                    d["x0"],
                    d["y0"],
                    d["x1"],
                    d["y1"],
                    model,
                )
                for d in result.data.get("detections", [])
            ],
        )
        db.execute(
            "UPDATE items SET detect_status = ?, detect_reason = ?, detected_at = ? WHERE id = ?",
            (result.status, result.reason, now(), result.item_id),
        )

    def reset_detect(self) -> None:
        """Forget every detection and crop row (files stay) so detection runs again (--force)."""
        with self.transaction() as db:
            db.execute("DELETE FROM dupes")
            db.execute("DELETE FROM decisions")
            db.execute("DELETE FROM crops")
            db.execute("DELETE FROM detections")
            db.execute(
                "UPDATE items SET detect_status = 'pending', detect_reason = NULL, detected_at = NULL"
            )

    # --- crop ---------------------------------------------------------------------------------
    # (crop stage writers)

    def _record_crop(self, db: sqlite3.Connection, result: Any) -> None:
        db.execute(
            """INSERT OR REPLACE INTO crops (item_id, detection_id, resolution, status, reason, path, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            (
                result.data["item_id"],
                result.item_id,
                result.data["resolution"],
                result.status,
                result.reason,
                result.data.get("path"),
                now(),
            ),
        )

    # --- dedupe -------------------------------------------------------------------------------
    # (dedupe stage writers and queries)

    def _record_dedupe(self, db: sqlite3.Connection, result: Any) -> None:
        if result.ok:
            db.execute(
                "UPDATE crops SET dhash = ?, colour = ? WHERE id = ?",
                (result.data["dhash"], result.data["colour"], result.item_id),
            )

    def hashed_crops(self) -> list[dict[str, Any]]:
        """Every ok crop with a hash, with what choosing a representative needs."""
        rows = self.db.execute(
            """SELECT c.id, c.dhash, c.colour, i.width * i.height AS pixels, d.confidence
               FROM crops c JOIN items i ON i.id = c.item_id JOIN detections d ON d.id = c.detection_id
               WHERE c.status = 'ok' AND c.dhash IS NOT NULL ORDER BY c.id"""
        )
        return [dict(row) for row in rows]

    def replace_dupes(self, rows: list[tuple[int, int, int]]) -> None:
        """Clusters are global, so each dedupe run replaces them all in one transaction."""
        with self.transaction() as db:
            db.execute("DELETE FROM dupes")
            db.executemany(
                "INSERT INTO dupes (crop_id, cluster_id, representative_id) VALUES (?, ?, ?)", rows
            )

    def set_representative(self, crop_id: int) -> bool:
        """Make `crop_id` the kept member of its duplicate cluster (review's swap key)."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT cluster_id FROM dupes WHERE crop_id = ?", (crop_id,)
            ).fetchone()
            if row is None:
                return False
            db.execute(
                "UPDATE dupes SET representative_id = ? WHERE cluster_id = ?", (crop_id, row[0])
            )
            return True

    # --- review -------------------------------------------------------------------------------
    # (review queries and decisions)

    def review_rows(self, limit: int = -1) -> list[dict[str, Any]]:
        """Ok crops (the first `limit`, or all) with what the review grid filters and sorts on."""
        rows = self.db.execute(
            f"""SELECT c.id, d.class_name AS class, i.source, round(d.confidence, 3) AS confidence,
                       COALESCE(dec.decision, 'pending') AS decision, dec.reason,
                       u.cluster_id AS cluster, (u.representative_id = c.id) AS representative
                FROM crops c JOIN detections d ON d.id = c.detection_id JOIN items i ON i.id = c.item_id
                {LATEST_DECISION} LEFT JOIN dupes u ON u.crop_id = c.id
                WHERE c.status = 'ok' ORDER BY c.id LIMIT ?""",
            (limit,),
        )
        return [dict(row) for row in rows]

    def crop_detail(self, crop_id: int) -> dict[str, Any] | None:
        row = self.db.execute(
            f"""SELECT c.id, c.path, c.item_id, d.class_name, d.confidence, d.x0, d.y0, d.x1, d.y1,
                       i.source, i.object_id, i.title, i.url, i.page_url, i.license, i.path AS original,
                       i.width, i.height, COALESCE(dec.decision, 'pending') AS decision, dec.reason,
                       u.cluster_id AS cluster, u.representative_id AS representative
                FROM crops c JOIN detections d ON d.id = c.detection_id JOIN items i ON i.id = c.item_id
                {LATEST_DECISION} LEFT JOIN dupes u ON u.crop_id = c.id WHERE c.id = ? AND c.status = 'ok'""",
            (crop_id,),
        ).fetchone()
        if row is None:
            return None
        detail = dict(row)
        detail["members"] = (
            [
                r[0]
                for r in self.db.execute(
                    "SELECT crop_id FROM dupes WHERE cluster_id = ? ORDER BY crop_id",
                    (detail["cluster"],),
                )
            ]
            if detail["cluster"] is not None
            else []
        )
        return detail

    def decide(self, decisions: list[tuple[int, str, str | None]]) -> int:
        """Append (crop_id, decision, reason) rows in one transaction; unknown ids are ignored.

        Returns how many were stored. Committed before returning, so a reply means it is saved.
        """
        stamp = now()
        with self.transaction() as db:
            known = (
                {
                    r[0]
                    for r in db.execute(
                        f"SELECT id FROM crops WHERE id IN ({','.join('?' * len(decisions))})",
                        [d[0] for d in decisions],
                    )
                }
                if decisions
                else set()
            )
            rows = [
                (crop, decision, reason, stamp)
                for crop, decision, reason in decisions
                if crop in known
            ]
            db.executemany(
                "INSERT INTO decisions (crop_id, decision, reason, decided_at) VALUES (?, ?, ?, ?)",
                rows,
            )
        return len(rows)

    def file_of(self, crop_id: int, original: bool = False) -> str | None:
        """The crop's file (or its original's), relative to the data dir; by id only."""
        column = "i.path" if original else "c.path"
        row = self.db.execute(
            f"SELECT {column} FROM crops c JOIN items i ON i.id = c.item_id WHERE c.id = ? AND c.status = 'ok'",
            (crop_id,),
        ).fetchone()
        return row[0] if row else None

    # --- export -------------------------------------------------------------------------------
    # (export queries)

    def exportable(self) -> list[dict[str, Any]]:
        """Kept crops (ok, not a non-representative duplicate, not rejected) with provenance.

        `n` numbers all ok crops of one object by crop id, kept or not, so export names are stable.
        """
        rows = self.db.execute(
            f"""SELECT * FROM (
                   SELECT c.id AS crop_id, c.path, c.item_id, d.class_name, d.confidence,
                          d.x0, d.y0, d.x1, d.y1, i.source, i.object_id, i.url, i.page_url,
                          i.license, i.title, i.sha256,
                          ROW_NUMBER() OVER (PARTITION BY i.source, COALESCE(i.object_id, i.id)
                                             ORDER BY c.id) AS n,
                          {KEPT} AS kept
                   FROM crops c JOIN detections d ON d.id = c.detection_id
                   JOIN items i ON i.id = c.item_id {LATEST_DECISION}
                   WHERE c.status = 'ok')
               WHERE kept ORDER BY crop_id"""
        )
        return [dict(row) for row in rows]

    # --- report -----------------------------------------------------------------------------
    # (what `curate report` shows)

    def report_data(
        self, sample: int = 48, per_reason: int = 8, clusters: int = 6
    ) -> dict[str, Any]:
        """The numbers and file lists behind data/report.html."""
        q = self.db.execute
        latest, unique, kept = LATEST_DECISION, UNIQUE, KEPT
        funnel = {
            "URLs": q("SELECT COUNT(*) FROM items").fetchone()[0],
            "downloaded": q(
                "SELECT COUNT(*) FROM items WHERE download_status IN ('ok', 'duplicate')"
            ).fetchone()[0],
            "with object": q("SELECT COUNT(*) FROM items WHERE detect_status = 'ok'").fetchone()[0],
            "cropped": q("SELECT COUNT(*) FROM crops c WHERE status = 'ok'").fetchone()[0],
            "unique": q(f"SELECT COUNT(*) FROM crops c WHERE {unique}").fetchone()[0],
            "kept": q(f"SELECT COUNT(*) FROM crops c {latest} WHERE {kept}").fetchone()[0],
        }
        failures = [
            dict(row)
            for row in q(
                """SELECT 'download' AS stage, source, download_reason AS reason, COUNT(*) AS n
                   FROM items WHERE download_status = 'failed' GROUP BY source, download_reason
                   UNION ALL
                   SELECT 'detect', source, COALESCE(detect_reason, detect_status), COUNT(*)
                   FROM items WHERE detect_status IN ('failed', 'no_object') GROUP BY 2, 3
                   UNION ALL
                   SELECT 'crop', i.source, c.reason, COUNT(*) FROM crops c JOIN items i ON i.id = c.item_id
                   WHERE c.status = 'failed' GROUP BY 2, 3
                   ORDER BY n DESC"""
            )
        ]
        classes = dict(
            q(
                f"""SELECT d.class_name, COUNT(*) FROM crops c JOIN detections d ON d.id = c.detection_id
                    {latest} WHERE {kept} GROUP BY 1 ORDER BY 2 DESC"""
            ).fetchall()
        )
        confidences = [row[0] for row in q("SELECT confidence FROM detections")]
        kept_sample = [
            row[0]
            for row in q(
                f"SELECT c.path FROM crops c {latest} WHERE {kept} ORDER BY c.id LIMIT ?", (sample,)
            )
        ]
        rejected: dict[str, list[str]] = {}
        for reason, path in q(
            f"""SELECT COALESCE(dec.reason, 'no reason'), c.path FROM crops c {latest}
                WHERE dec.decision = 'reject' ORDER BY c.id"""
        ):
            if len(rejected.setdefault(reason, [])) < per_reason:
                rejected[reason].append(path)
        rejected_counts = dict(
            q(
                f"""SELECT COALESCE(dec.reason, 'no reason'), COUNT(*) FROM crops c {latest}
                    WHERE dec.decision = 'reject' GROUP BY 1 ORDER BY 2 DESC"""
            ).fetchall()
        )
        biggest = q(
            """SELECT cluster_id FROM dupes GROUP BY cluster_id HAVING COUNT(*) > 1
               ORDER BY COUNT(*) DESC, cluster_id LIMIT ?""",
            (clusters,),
        ).fetchall()
        duplicate_clusters = [
            [
                {"path": row["path"], "kept": bool(row["kept"])}
                for row in q(
                    """SELECT c.path, u.crop_id = u.representative_id AS kept FROM dupes u
                       JOIN crops c ON c.id = u.crop_id WHERE u.cluster_id = ?
                       ORDER BY kept DESC, c.id""",
                    (cluster[0],),
                )
            ]
            for cluster in biggest
        ]
        return {
            "funnel": funnel,
            "failures": failures,
            "classes": classes,
            "confidences": confidences,
            "kept_sample": kept_sample,
            "rejected": rejected,
            "rejected_counts": rejected_counts,
            "duplicate_clusters": duplicate_clusters,
        }

    # --- runs --------------------------------------------------------------------------------

    def start_run(self, stage: str, settings: dict[str, Any] | None = None) -> int:
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO runs (stage, started_at, settings) VALUES (?, ?, ?)",
                (stage, now(), json.dumps(settings or {}, sort_keys=True, default=str)),
            )
            return cursor.lastrowid

    def finish_run(self, run_id: int, counts: dict[str, Any]) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE runs SET finished_at = ?, counts = ? WHERE id = ?",
                (now(), json.dumps(counts, sort_keys=True), run_id),
            )

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [
            {
                **dict(row),
                "settings": json.loads(row["settings"] or "{}"),
                "counts": json.loads(row["counts"] or "{}"),
            }
            for row in rows
        ]

    # --- reading -----------------------------------------------------------------------------

    def item(self, item_id: int) -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchone()
        return dict(row) if row else None

    def find_item_by_file(self, relative: str, sha256: str | None) -> int | None:
        """The item a file on disk belongs to: an original, a crop, a local source file, or bytes."""
        row = self.db.execute(
            """SELECT id FROM items WHERE path = ? OR local_path = ?
               UNION ALL SELECT item_id FROM crops WHERE path = ?
               UNION ALL SELECT id FROM items WHERE sha256 = ? LIMIT 1""",
            (relative, relative, relative, sha256),
        ).fetchone()
        return row[0] if row else None

    def item_details(self, item_id: int) -> dict[str, Any] | None:
        """Everything known about one item: its row, detections, crops, decisions, duplicates."""
        item = self.item(item_id)
        if item is None:
            return None
        rows = self.db.execute
        item["detections"] = [
            dict(r)
            for r in rows("SELECT * FROM detections WHERE item_id = ? ORDER BY id", (item_id,))
        ]
        item["crops"] = [
            dict(r) for r in rows("SELECT * FROM crops WHERE item_id = ? ORDER BY id", (item_id,))
        ]
        for crop in item["crops"]:
            crop["decisions"] = [
                dict(r)
                for r in rows(
                    "SELECT decision, reason, decided_at FROM decisions WHERE crop_id = ? ORDER BY id",
                    (crop["id"],),
                )
            ]
            dupe = rows(
                "SELECT cluster_id, representative_id FROM dupes WHERE crop_id = ?", (crop["id"],)
            ).fetchone()
            crop["duplicate_cluster"] = dict(dupe) if dupe else None
        return item

    def status_counts(self) -> dict[str, Any]:
        """Counts per stage and status, failures grouped by reason, for `curate status`."""
        q = self.db.execute

        def grouped(sql: str) -> dict[str, int]:
            return {str(key): count for key, count in q(sql).fetchall()}

        return {
            "items": q("SELECT COUNT(*) FROM items").fetchone()[0],
            "sources": grouped(
                "SELECT source, COUNT(*) FROM items GROUP BY source ORDER BY source"
            ),
            "download": grouped(
                "SELECT download_status, COUNT(*) FROM items GROUP BY 1 ORDER BY 1"
            ),
            "download_failures": grouped(
                "SELECT download_reason, COUNT(*) FROM items WHERE download_status = 'failed' GROUP BY 1 ORDER BY 2 DESC"
            ),
            "detect": grouped(
                "SELECT detect_status, COUNT(*) FROM items WHERE download_status = 'ok' GROUP BY 1 ORDER BY 1"
            ),
            "detect_failures": grouped(
                "SELECT detect_reason, COUNT(*) FROM items WHERE detect_status = 'failed' GROUP BY 1 ORDER BY 2 DESC"
            ),
            "detections": grouped(
                "SELECT class_name, COUNT(*) FROM detections GROUP BY 1 ORDER BY 1"
            ),
            "crop": grouped("SELECT status, COUNT(*) FROM crops GROUP BY 1 ORDER BY 1"),
            "crop_failures": grouped(
                "SELECT reason, COUNT(*) FROM crops WHERE status = 'failed' GROUP BY 1 ORDER BY 2 DESC"
            ),
            "duplicates": q(
                "SELECT COUNT(*) FROM dupes WHERE crop_id != representative_id"
            ).fetchone()[0],
            "review": grouped(
                """SELECT COALESCE(d.decision, 'pending'), COUNT(*) FROM crops c
                   LEFT JOIN decisions d ON d.id = (SELECT MAX(id) FROM decisions WHERE crop_id = c.id)
                   WHERE c.status = 'ok' GROUP BY 1 ORDER BY 1"""
            ),
        }


# Pending work per stage: a function of the stage's filters giving (select, where, params, key).
# The select must expose the item's key as `id`.
PENDING: dict[str, Any] = {}

# download: pending work


def _pending_download(retry_failed: bool = False, reason: str | None = None, force: bool = False):
    select = "SELECT id, url, local_path FROM items"
    if force:
        return select, "1", (), "id"
    if retry_failed:
        if reason:
            return select, "download_status = 'failed' AND download_reason = ?", (reason,), "id"
        return select, "download_status = 'failed'", (), "id"
    return select, "download_status = 'pending'", (), "id"


PENDING["download"] = _pending_download


# detect: pending work


def _pending_detect():
    return (
        "SELECT id, path FROM items",
        "download_status = 'ok' AND detect_status = 'pending'",
        (),
        "id",
    )


PENDING["detect"] = _pending_detect


# crop: pending work


def _pending_crop(resolution: int, retry_failed: bool = False):
    select = """SELECT d.id AS id, d.item_id, d.class_name, d.confidence, d.x0, d.y0, d.x1, d.y1,
                       i.path, i.width, i.height, i.source, i.object_id, i.url, i.page_url, i.title,
                       i.license, i.sha256
                FROM detections d JOIN items i ON i.id = d.item_id"""
    done = "c.status = 'ok'" if retry_failed else "1"
    where = f"NOT EXISTS (SELECT 1 FROM crops c WHERE c.detection_id = d.id AND c.resolution = ? AND {done})"
    return select, where, (resolution,), "d.id"


PENDING["crop"] = _pending_crop


# dedupe: pending work


def _pending_dedupe(force: bool = False):
    where = "status = 'ok'" if force else "status = 'ok' AND (dhash IS NULL OR colour IS NULL)"
    return "SELECT id, path FROM crops", where, (), "id"


PENDING["dedupe"] = _pending_dedupe
