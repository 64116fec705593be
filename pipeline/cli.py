"""The `curate` command. Commands are thin: parse options, build a stage, run it, print a summary."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import click
import yaml

from pipeline import __version__, config
from pipeline.errors import UserError
from pipeline.manifest import Manifest
from pipeline.runner import RunSummary, run_stage

MANIFEST_NAME = "curate.db"


@dataclass
class Context:
    """What every command may need, loaded only when a command asks for it."""

    config_path: str | None
    data_dir_option: str | None
    quiet: bool
    engine: str | None = None  # --engine (default pipeline.scale.engine)
    address: str | None = None  # --address of a Ray cluster
    _settings: config.Settings | None = None
    _ray: Any = None

    @property
    def settings(self) -> config.Settings:
        if self._settings is None:
            self._settings = config.load(self.config_path)
        return self._settings

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir(self.data_dir_option)

    def weights(self) -> str:
        """The detector weights: a path relative to the settings file if one exists there, else
        the name as given (a weights name ultralytics downloads, or a path)."""
        model = self.settings.pipeline.detector.model
        base = self.settings.path.parent if self.settings.path else Path.cwd()
        local = base / model
        return str(local) if local.exists() else model

    def manifest(self, *, readonly: bool = False) -> Manifest:
        return Manifest(self.data_dir / MANIFEST_NAME, readonly=readonly)

    def ray(self):
        """The Ray engine when --engine ray (or pipeline.scale.engine: ray) asks for it, else None."""
        scale = self.settings.pipeline.scale
        if (self.engine or scale.engine) != "ray":
            return None
        if self._ray is None:
            from pipeline.ray_engine import RayEngine

            self._ray = RayEngine(scale, self.address)
        return self._ray

    def say(self, message: str) -> None:
        """Human-readable output; silenced by --quiet."""
        if not self.quiet:
            click.echo(message)


pass_context = click.make_pass_decorator(Context)


def engine_options(command):
    """--engine and --address, for the stages that can run on Ray (download, detect, crop, run)."""

    def remember(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
        if value is not None:
            setattr(ctx.find_object(Context), param.name, value)

    command = click.option(
        "--address",
        expose_value=False,
        callback=remember,
        help="With --engine ray: the cluster to join (default pipeline.scale.address, else a local Ray).",
    )(command)
    return click.option(
        "--engine",
        type=click.Choice(["local", "ray"]),
        expose_value=False,
        callback=remember,
        help="Run here (local) or as Ray Data pipelines (ray); default pipeline.scale.engine.",
    )(command)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def finish(summary: RunSummary, as_json: bool) -> None:
    """The end of every stage command: one summary line, or JSON for scripts."""
    if as_json:
        emit_json(summary.as_dict())
    else:
        click.echo(summary.line())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Settings file (default ./sources.yaml; built-in defaults when there is none).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Working data folder (overrides $CURATE_DATA_DIR and pipeline.data_dir).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bars or chatter; errors still show.")
@click.version_option(__version__, prog_name="curate")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, data_dir: str | None, quiet: bool) -> None:
    """Curate image datasets of vessels from museum collections, then train a small GAN.

    The usual flow: scrape → run (download, detect, crop, dedupe, export) → review → train.
    """
    ctx.obj = Context(config_path, data_dir, quiet)


# --- config ----------------------------------------------------------------------------------


@cli.group("config")
def config_group() -> None:
    """Inspect the settings file."""


@config_group.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print the effective settings as JSON.")
@pass_context
def config_check(obj: Context, as_json: bool) -> None:
    """Validate the settings file and print the effective settings (defaults filled in)."""
    settings = obj.settings
    effective = config.effective(settings)
    effective["pipeline"]["data_dir"] = str(obj.data_dir)
    if as_json:
        emit_json(effective)
        return
    click.echo(yaml.safe_dump(effective, sort_keys=False, allow_unicode=True).rstrip())
    enabled = sum(source.enabled for source in settings.sources)
    where = settings.path or "built-in defaults (no sources.yaml here)"
    click.echo(f"# OK: {where}: {len(settings.sources)} sources ({enabled} enabled).")


# --- ingest ----------------------------------------------------------------------------------


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--source", help="Source name for rows that carry none (default: the file or folder name)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_context
def ingest(obj: Context, paths: tuple[Path, ...], source: str | None, as_json: bool) -> None:
    """Load image URLs into the manifest from spider JSONL, plain URL lists, or image folders.

    A URL already in the manifest is kept once; bad lines are reported with file and line number
    and the rest goes in.
    """
    from pipeline.stages import ingest as reader

    summary = ingest_paths(obj, paths, source, reader)
    if as_json:
        emit_json(summary)
    else:
        click.echo(
            f"ingest: {summary['new']} new, {summary['known']} already known, "
            f"{summary['bad']} bad lines from {len(paths)} input(s)."
        )


def ingest_paths(
    obj: Context, paths: tuple[Path, ...] | list[Path], source: str | None, reader: Any
) -> dict:
    """Read every path in batches of 500 rows, each batch one transaction."""
    new = seen = 0
    problems: list[str] = []
    with obj.manifest() as manifest:
        batch: list[dict] = []
        for path in paths:
            for row in reader.read(path, source):
                if isinstance(row, reader.Problem):
                    problems.append(str(row))
                    continue
                batch.append(row)
                if len(batch) >= 500:
                    new += manifest.add_items(batch)
                    seen += len(batch)
                    batch = []
        new += manifest.add_items(batch)
        seen += len(batch)
    for line in problems[:20]:
        click.echo(f"skipped {line}", err=True)
    if len(problems) > 20:
        click.echo(f"… and {len(problems) - 20} more bad lines", err=True)
    return {"new": new, "known": seen - new, "bad": len(problems), "problems": problems}


# --- status / inspect ------------------------------------------------------------------------


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@pass_context
def status(obj: Context, as_json: bool) -> None:
    """Counts per stage and status, with failures grouped by reason."""
    with obj.manifest(readonly=True) as manifest:
        counts = manifest.status_counts()
        runs = manifest.runs(limit=5)
    if as_json:
        emit_json({**counts, "recent_runs": runs})
        return
    click.echo(f"manifest: {obj.data_dir / MANIFEST_NAME}")
    click.echo(f"items: {counts['items']}  ({_pairs(counts['sources'])})")
    for stage in ("download", "detect", "crop"):
        if counts[stage]:
            click.echo(f"{stage}: {_pairs(counts[stage])}")
            failures = counts.get(f"{stage}_failures") or {}
            for reason, count in failures.items():
                click.echo(f"    {reason}: {count}")
    if counts["detections"]:
        click.echo(f"detections: {_pairs(counts['detections'])}")
    if counts["crop"]:
        click.echo(f"near-duplicates: {counts['duplicates']}")
        click.echo(f"review: {_pairs(counts['review'])}")
    for run in runs:
        state = "finished" if run["finished_at"] else "interrupted or running"
        click.echo(f"run {run['id']}: {run['stage']} {run['started_at']} {state}")


def _pairs(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} {value}" for key, value in counts.items()) or "none"


@cli.command()
@click.argument("target")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_context
def inspect(obj: Context, target: str, as_json: bool) -> None:
    """Everything known about one item, given its id or a file (original, crop, or any copy)."""
    embedded = None
    with obj.manifest(readonly=True) as manifest:
        if target.isdigit():
            item_id: int | None = int(target)
        else:
            file = Path(target)
            if not file.is_file():
                raise UserError(f"{target} is neither an item id nor a file.")
            embedded = read_embedded_provenance(file)
            item_id = manifest.find_item_by_file(_relative(file, obj.data_dir), _sha256(file))
        details = manifest.item_details(item_id) if item_id is not None else None
    if details is None and embedded is None:
        raise UserError(f"nothing in the manifest matches {target}.")
    if as_json:
        emit_json({"item": details, "embedded_provenance": embedded})
        return
    if details:
        for key, value in details.items():
            if key not in ("detections", "crops") and value is not None:
                click.echo(f"{key:>16}: {value}")
        for detection in details["detections"]:
            click.echo(f"       detection: {detection}")
        for crop in details["crops"]:
            click.echo(f"            crop: {crop}")
    if embedded:
        click.echo("provenance in the file:")
        for key, value in embedded.items():
            click.echo(f"{key:>16}: {value}")


def read_embedded_provenance(file: Path) -> dict | None:
    """Provenance written into a crop, when the metadata module is present and finds any."""
    try:
        from pipeline import metadata
    except ImportError:
        return None
    return metadata.read(file)


def _relative(file: Path, base: Path) -> str:
    resolved = file.resolve()
    try:
        return resolved.relative_to(base).as_posix()
    except ValueError:
        return str(resolved)


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with file.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- scrape ------------------------------------------------------------------------------------


@cli.command()
@click.option(
    "--source",
    "names",
    multiple=True,
    help="Scrape only this source (repeatable; default: all enabled).",
)
@click.option("--limit", type=click.IntRange(min=1), help="At most N objects per source.")
@click.option(
    "--api-base", help="Point the (single) source at another host: a mirror or a test server."
)
@click.option(
    "--any-license", is_flag=True, help="Keep objects whatever their licence (recorded per item)."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the JSONL go (default <data dir>/urls).",
)
@click.option("--no-ingest", is_flag=True, help="Only write the JSONL files.")
@click.option("--json", "as_json", is_flag=True, help="Print per-source counts as JSON.")
@pass_context
def scrape(obj: Context, names, limit, api_base, any_license, out, no_ingest, as_json) -> None:
    """Find image URLs in the configured collections (Scrapy), then ingest them.

    Each source runs as its own crawl with a JOBDIR under <data dir>/scrape-jobs/, so an
    interrupted crawl resumes where it stopped. A source whose API key is not set is skipped.
    """
    from spiders.registry import SPIDERS

    settings = obj.settings
    sources = (
        [settings.source(name) for name in names]
        if names
        else [s for s in settings.sources if s.enabled]
    )
    if api_base and len(sources) != 1:
        raise UserError("--api-base needs exactly one source; name it with --source.")
    out = out or obj.data_dir / "urls"
    reports = []
    for source in sources:
        if source.api_key_env and not source.api_key():
            obj.say(
                f"scrape: {source.name}: skipped, ${source.api_key_env} is not set (its API needs a key)."
            )
            continue
        if source.kind not in SPIDERS:
            obj.say(f"scrape: {source.name}: no spider for kind {source.kind!r} yet; skipped.")
            continue
        report = run_crawl(
            obj, source, out, limit=limit, api_base=api_base, any_license=any_license
        )
        if not no_ingest and (out / f"{source.name}.jsonl").exists():
            from pipeline.stages import ingest as reader

            report["ingest"] = ingest_paths(
                obj, [out / f"{source.name}.jsonl"], source.name, reader
            )
            report["ingest"].pop("problems")
        reports.append(report)
        if not as_json:
            dropped = ", ".join(f"{k} {v}" for k, v in report["dropped"].items()) or "none"
            click.echo(
                f"scrape: {source.name}: {report['objects']} objects, {report['kept']} image URLs kept, dropped: {dropped}."
            )
    if as_json:
        emit_json(reports)


def run_crawl(
    obj: Context, source, out: Path, *, limit=None, api_base=None, any_license=False
) -> dict:
    """One source's crawl in a child process (Scrapy's reactor runs once per process)."""
    import subprocess

    scrape = obj.settings.scrape
    job = {
        "source": {
            **source.model_dump(mode="json"),
            "api_base": api_base or source.base_url,
            "limit": limit or source.limit,
            "any_license": any_license or source.any_license,
        },
        "api_key": source.api_key(),
        "settings": {
            "USER_AGENT": scrape.user_agent,
            "ROBOTSTXT_OBEY": scrape.obey_robots,
            "CONCURRENT_REQUESTS_PER_DOMAIN": scrape.concurrency_per_domain,
            "AUTOTHROTTLE_ENABLED": scrape.autothrottle,
            "DOWNLOAD_DELAY": scrape.download_delay,
            "RETRY_AFTER_CAP": scrape.retry_after_cap,
            "HTTPCACHE_ENABLED": scrape.http_cache,
            "HTTPCACHE_DIR": str(obj.data_dir / "scrape-cache"),
            "JOBDIR": str(obj.data_dir / "scrape-jobs" / source.name),
            "CURATE_OUT_DIR": str(out),
            "LOG_LEVEL": "WARNING",  # the per-source summary line says what matters
        },
    }
    obj.say(f"scrape: {source.name}: crawling {job['source']['api_base']} …")
    done = subprocess.run(
        [sys.executable, "-m", "spiders.crawl", json.dumps(job)], stdout=subprocess.PIPE, text=True
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise UserError(
            f"the {source.name} crawl failed (exit {done.returncode}); its log is above."
        )
    return json.loads(lines[-1])


# --- download ----------------------------------------------------------------------------------


@cli.command()
@click.option("--limit", type=click.IntRange(min=1), help="Download at most N items.")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 512),
    help="Worker threads (default: download.concurrency).",
)
@click.option("--retry-failed", is_flag=True, help="Retry failed items instead of pending ones.")
@click.option(
    "--reason", help="With --retry-failed: only items that failed for this reason (e.g. timeout)."
)
@click.option("--force", is_flag=True, help="Download every item again.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@engine_options
@pass_context
def download(obj: Context, limit, concurrency, retry_failed, reason, force, as_json) -> None:
    """Fetch pending image URLs into <data dir>/raw/, validated and content-addressed.

    Every failure is recorded with a reason (see `curate status`); rerunning does only what is
    still pending.
    """
    filters = {"retry_failed": retry_failed, "reason": reason, "force": force}
    finish(run_download(obj, limit=limit, concurrency=concurrency, **filters), as_json)


def run_download(obj: Context, *, limit=None, concurrency=None, **filters) -> RunSummary:
    from pipeline.atomic import clean_partial
    from pipeline.stages.download import REASONS, Downloader

    if filters.get("reason") and filters["reason"] not in REASONS:
        raise UserError(
            f"unknown failure reason {filters['reason']!r}; known reasons: {', '.join(REASONS)}."
        )
    settings = obj.settings.pipeline.download
    if concurrency:
        settings = settings.model_copy(update={"concurrency": concurrency})
    raw_dir = obj.data_dir / "raw"
    user_agent = settings.user_agent or obj.settings.scrape.user_agent
    ray = obj.ray()
    if ray:
        clean_partial(raw_dir)
        share = settings.model_copy(update={"per_host": ray.share_per_host(settings.per_host)})
        process = ray.download(partial(Downloader, share, raw_dir, user_agent, tidy=False))
    else:
        process = Downloader(settings, raw_dir, user_agent).process
    with obj.manifest() as manifest:
        return run_stage(
            manifest,
            "download",
            process,
            limit=limit,
            filters=filters,
            settings=settings.model_dump(),
            quiet=obj.quiet,
        )


# --- detect / crop -----------------------------------------------------------------------------


@cli.command()
@click.option("--limit", type=click.IntRange(min=1), help="Detect in at most N originals.")
@click.option(
    "--force", is_flag=True, help="Forget all detections, crops and reviews, and detect again."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@engine_options
@pass_context
def detect(obj: Context, limit: int | None, force: bool, as_json: bool) -> None:
    """Find the wanted objects (pipeline.classes) in downloaded originals."""
    finish(run_detect(obj, limit=limit, force=force), as_json)


def run_detect(obj: Context, *, limit: int | None = None, force: bool = False) -> RunSummary:
    from pipeline.stages import detect as detectors

    pipeline = obj.settings.pipeline
    make_stage = partial(
        detectors.build,
        pipeline.detector,
        obj.data_dir,
        pipeline.download.max_pixels,
        pipeline.classes,
        obj.weights(),
    )
    # Built here with either engine: a wrong class name or unreadable weights stop the run
    # with one sentence before any worker starts.
    stage = make_stage()
    ray = obj.ray()
    process = ray.detect(make_stage, pipeline.detector.batch) if ray else stage.process
    with obj.manifest() as manifest:
        if force:
            manifest.reset_detect()
        settings = {**pipeline.detector.model_dump(), "classes": pipeline.classes}
        return run_stage(
            manifest, "detect", process, limit=limit, settings=settings, quiet=obj.quiet
        )


@cli.command()
@click.option("--limit", type=click.IntRange(min=1), help="Crop at most N detections.")
@click.option("--retry-failed", is_flag=True, help="Crop again the detections whose crop failed.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@engine_options
@pass_context
def crop(obj: Context, limit: int | None, retry_failed: bool, as_json: bool) -> None:
    """Cut a square, padded crop of each detection at pipeline.resolution, provenance inside."""
    finish(run_crop(obj, limit=limit, retry_failed=retry_failed), as_json)


def run_crop(obj: Context, *, limit: int | None = None, retry_failed: bool = False) -> RunSummary:
    from pipeline.atomic import clean_partial
    from pipeline.stages.crop import Cropper

    pipeline = obj.settings.pipeline
    make_stage = partial(
        Cropper, pipeline.crop, pipeline.resolution, obj.data_dir, pipeline.download.max_pixels
    )
    ray = obj.ray()
    if ray:
        clean_partial(obj.data_dir / "crops" / str(pipeline.resolution))
        process = ray.crop(partial(make_stage, tidy=False))
    else:
        process = make_stage().process
    filters = {"resolution": pipeline.resolution, "retry_failed": retry_failed}
    settings = {**pipeline.crop.model_dump(), "resolution": pipeline.resolution}
    with obj.manifest() as manifest:
        return run_stage(
            manifest,
            "crop",
            process,
            limit=limit,
            filters=filters,
            settings=settings,
            quiet=obj.quiet,
        )


# --- dedupe / export ---------------------------------------------------------------------------


@cli.command()
@click.option(
    "--threshold",
    type=click.IntRange(0, 64),
    help="Max differing bits (default: dedupe.threshold).",
)
@click.option("--force", is_flag=True, help="Hash every crop again.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_context
def dedupe(obj: Context, threshold: int | None, force: bool, as_json: bool) -> None:
    """Hash every crop (dHash) and group near-duplicates, keeping one crop per group."""
    summary, clusters = run_dedupe(obj, threshold=threshold, force=force)
    if as_json:
        emit_json({**summary.as_dict(), **clusters})
    else:
        click.echo(summary.line())
        click.echo(
            f"dedupe: {clusters['duplicates']} duplicates in {clusters['clusters']} clusters."
        )


def run_dedupe(
    obj: Context, *, threshold: int | None = None, force: bool = False
) -> tuple[RunSummary, dict]:
    from pipeline.stages import dedupe as dedupe_stage

    settings = obj.settings.pipeline.dedupe
    threshold = settings.threshold if threshold is None else threshold
    hasher = dedupe_stage.Hasher(obj.data_dir, settings.hash_size)
    with obj.manifest() as manifest:
        summary = run_stage(
            manifest,
            "dedupe",
            hasher.process,
            filters={"force": force},
            settings={**settings.model_dump(), "threshold": threshold},
            quiet=obj.quiet,
        )
        rows = dedupe_stage.cluster(manifest.hashed_crops(), threshold, settings.colour_tolerance)
        manifest.replace_dupes(rows)
    duplicates = sum(crop != kept for crop, _, kept in rows)
    return summary, {"clusters": len({cluster for _, cluster, _ in rows}), "duplicates": duplicates}


@cli.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--threshold",
    type=click.IntRange(0, 64),
    help="Max differing bits (default: dedupe.threshold).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print clusters as a JSON list of lists of paths."
)
@pass_context
def dupes(obj: Context, folder: Path, threshold: int | None, as_json: bool) -> None:
    """Near-duplicate clusters in any image folder (no manifest needed)."""
    from pipeline.stages.dedupe import folder_clusters

    settings = obj.settings.pipeline.dedupe
    groups = folder_clusters(
        folder, settings.threshold if threshold is None else threshold, settings.hash_size
    )
    if as_json:
        emit_json(groups)
        return
    for group in groups:
        click.echo("  ".join(group))
    click.echo(f"dupes: {len(groups)} clusters, {sum(len(g) - 1 for g in groups)} files could go.")


@cli.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["folder", "stylegan2-ada"]),
    default="folder",
    show_default=True,
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write (default <data dir>/clean).",
)
@click.option(
    "--min-per-class",
    type=click.IntRange(min=0),
    default=0,
    help="Leave out classes with fewer images.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_context
def export(obj: Context, fmt: str, out: Path | None, min_per_class: int, as_json: bool) -> None:
    """Write the clean dataset: kept crops by class plus metadata.jsonl (or a StyleGAN2-ADA zip)."""
    obj.quiet = obj.quiet or as_json  # JSON alone on stdout
    summary = run_export(obj, fmt=fmt, out=out, min_per_class=min_per_class)
    if as_json:
        emit_json(summary)


def run_export(
    obj: Context, *, fmt: str = "folder", out: Path | None = None, min_per_class: int = 0
) -> dict:
    from pipeline.stages import export as exporter

    out = out or obj.data_dir / "clean"
    with obj.manifest(readonly=True) as manifest:
        files, dropped = exporter.plan(manifest.exportable(), min_per_class)
    for name, count in sorted(dropped.items()):
        obj.say(
            f"export: left out class {name!r}: {count} images, fewer than --min-per-class {min_per_class}."
        )
    if fmt == "folder":
        counts = exporter.export_folder(files, obj.data_dir, out)
        obj.say(
            f"export: {counts['files']} files in {out} ({counts['written']} written, {counts['removed']} removed)."
        )
        return {"format": fmt, "out": str(out), **counts, "dropped_classes": dropped}
    if not files:
        raise UserError(
            "nothing to export: no kept crops (run the pipeline, or check `curate status`)."
        )
    try:
        path = exporter.export_stylegan(files, obj.data_dir, out)
    except ValueError as error:
        raise UserError(f"cannot write a StyleGAN2-ADA dataset: {error}.") from None
    conditional = len({f["class"] for f in files}) > 1
    command = exporter.stylegan_command(
        path, obj.settings.pipeline.resolution, len(files), conditional
    )
    obj.say(
        f"export: {len(files)} images in {path}\nTrain with StyleGAN2-ADA (in its checkout):\n  {command}"
    )
    return {
        "format": fmt,
        "out": str(path),
        "files": len(files),
        "command": command,
        "dropped_classes": dropped,
    }


# --- review ------------------------------------------------------------------------------------


@cli.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to bind (keep it local)."
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="0 picks a free port.",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the default browser.")
@pass_context
def review(obj: Context, host: str, port: int, open_browser: bool) -> None:
    """Serve the review page: go through crops by keyboard and reject the bad ones.

    Every decision is saved in the manifest at once; `curate export` honours them.
    """
    from pipeline.review.server import ReviewServer

    db = obj.data_dir / MANIFEST_NAME
    if not db.exists():
        raise UserError(f"no manifest at {db}; run the pipeline first (`curate run`).")
    try:
        server = ReviewServer(db, obj.data_dir, host, port)
    except OSError as error:
        raise UserError(
            f"cannot listen on {host}:{port} ({error.strerror}); try --port 0."
        ) from None
    click.echo(f"review: open {server.login_url}  (Ctrl-C to stop; decisions are saved as you go)")
    if open_browser:
        import webbrowser

        webbrowser.open(server.login_url)
    server.start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()
        click.echo("review: stopped.")


# --- train -------------------------------------------------------------------------------------


@cli.group(invoke_without_command=True)
@click.option(
    "--data", type=click.Path(path_type=Path), help="Image folder (default <data dir>/clean)."
)
@click.option(
    "--name", default="run", show_default=True, help="Run name: files go to <data dir>/runs/NAME/."
)
@click.option("--resolution", type=int, default=64, show_default=True, help="32, 64, 128 or 256.")
@click.option(
    "--steps",
    type=click.IntRange(min=1),
    default=2000,
    show_default=True,
    help="Generator updates.",
)
@click.option("--batch", type=click.IntRange(min=1), default=32, show_default=True)
@click.option(
    "--loss", type=click.Choice(["ns-r1", "wgan-gp", "hinge"]), default="ns-r1", show_default=True
)
@click.option(
    "--augment",
    default="auto",
    show_default=True,
    help="DiffAugment: comma list of color,translation,cutout; none; or auto (by dataset size).",
)
@click.option(
    "--ema",
    type=click.FloatRange(0, 1),
    default=0.999,
    show_default=True,
    help="EMA decay of the sampling generator.",
)
@click.option(
    "--width",
    type=click.IntRange(min=4),
    default=32,
    show_default=True,
    help="Network width (feature maps at the image end).",
)
@click.option("--grayscale", is_flag=True, help="Train on one channel.")
@click.option("--amp/--no-amp", default=None, help="Mixed precision (default: on with CUDA).")
@click.option("--lr", type=float, help="Learning rate (default 2e-4; 1e-4 for wgan-gp).")
@click.option(
    "--sample-every", type=click.IntRange(min=1), help="Steps between sample grids and checkpoints."
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--deterministic", is_flag=True, help="Bit-reproducible (slower on GPU).")
@click.option("--resume", is_flag=True, help="Continue the run NAME from its last checkpoint.")
@click.option(
    "--fid-every",
    type=click.IntRange(min=0),
    default=0,
    help="Steps between FID evaluations (needs --inception).",
)
@click.option(
    "--inception",
    type=click.Path(exists=True, dir_okay=False),
    help="TorchScript feature network for FID, e.g. NVIDIA's inception-2015-12-05.pt (never downloaded).",
)
@click.option(
    "--nproc",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Data-parallel processes on this machine (torchrun; one per GPU, gloo on CPU).",
)
@click.pass_context
def train(
    ctx: click.Context,
    data,
    name,
    resolution,
    steps,
    batch,
    loss,
    augment,
    ema,
    width,
    grayscale,
    amp,
    lr,
    sample_every,
    seed,
    deterministic,
    resume,
    fid_every,
    inception,
    nproc,
) -> None:
    """Train a small GAN on the clean folder; `curate train report --run NAME` checks memorisation.

    Writes <data dir>/runs/NAME/: config.json, checkpoints/latest.pt (full state), samples/,
    progress.gif, losses.png, metrics.jsonl (and TensorBoard events when tensorboard is installed).
    """
    if ctx.invoked_subcommand:
        return
    from pipeline.train import checkpoint, distributed
    from pipeline.train.data import load_folder
    from pipeline.train.loop import TrainConfig, Trainer

    obj: Context = ctx.obj
    os.environ.setdefault("MPLCONFIGDIR", str(obj.data_dir / ".cache" / "matplotlib"))
    run_dir = obj.data_dir / "runs" / name
    latest = run_dir / "checkpoints" / "latest.pt"
    if latest.exists() and not resume:
        raise UserError(
            f"run {name!r} exists; add --resume to continue it, or choose another --name."
        )
    if resume and not latest.exists():
        raise UserError(f"nothing to resume: no checkpoint in {run_dir}.")
    if nproc > 1 and "WORLD_SIZE" not in os.environ:
        # This same command, once per process; each copy finds its rank in the environment.
        sys.exit(distributed.launch(nproc, sys.argv[1:]))
    world = distributed.join()
    obj.quiet = obj.quiet or not world.main
    folder = data or obj.data_dir / "clean"
    dataset = load_folder(folder, resolution, grayscale)
    if dataset.skipped:
        obj.say(f"train: skipped {dataset.skipped} files in {folder} that are not readable images.")
    if len(dataset) < 200:
        obj.say(
            f"train: only {len(dataset)} images: the GAN will very likely copy them (see `curate train report`)."
        )
    elif len(dataset) < 1000:
        obj.say(f"train: {len(dataset)} images: expect some memorisation; augmentation stays on.")
    policy = pick_augment(augment, len(dataset))
    every = sample_every or max(10, steps // 20)
    config = TrainConfig(
        resolution=resolution,
        steps=steps,
        batch=batch,
        loss=loss,
        augment=policy,
        ema=ema,
        width=width,
        channels=1 if grayscale else 3,
        amp=amp,
        lr=lr,
        sample_every=every,
        checkpoint_every=every,
        seed=seed,
        fid_every=fid_every if inception else 0,
        inception=inception,
        deterministic=deterministic,
    )
    trainer = Trainer(config, dataset, run_dir, quiet=obj.quiet, world=world)
    if resume:
        state = checkpoint.load(latest)
        if state["dataset"]["fingerprint"] != dataset.fingerprint:
            obj.say("train: warning: the image folder changed since this run started.")
        trainer.restore(state)
    result = trainer.run()
    world.close()
    last = ", ".join(f"{k} {v:.3f}" for k, v in result["last"].items())
    processes = f" in {world.size} processes" if world.size > 1 else ""
    if world.main:
        click.echo(
            f"train: {result['steps']} steps on {len(dataset)} images{processes} in {result['seconds']:.1f} s ({last}); run in {run_dir}."
        )


def pick_augment(text: str, count: int) -> tuple[str, ...]:
    """auto: all three below 1,000 images, translation+cutout below 30,000, none above (DiffAugment
    hurts slightly on large sets)."""
    if text == "auto":
        return (
            ("color", "translation", "cutout")
            if count < 1000
            else (("translation", "cutout") if count < 30000 else ())
        )
    if text == "none":
        return ()
    policy = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [p for p in policy if p not in ("color", "translation", "cutout")]
    if unknown:
        raise UserError(
            f"--augment: unknown {', '.join(unknown)}; use color, translation, cutout, none or auto."
        )
    return policy


@train.command("report")
@click.option("--run", "name", required=True, help="The run's name.")
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    help="The training folder (default <data dir>/clean).",
)
@click.pass_obj
def train_report(obj: Context, name: str, data: Path | None) -> None:
    """Nearest training image to each of 16 samples (pixels and features), in one PNG."""
    from pipeline.train.data import load_folder
    from pipeline.train.generate import load_generator
    from pipeline.train.report import nearest_report

    run_dir = obj.data_dir / "runs" / name
    try:
        _, config = load_generator(run_dir)
    except FileNotFoundError:
        raise UserError(f"no trained run {name!r} in {obj.data_dir / 'runs'}.") from None
    dataset = load_folder(
        data or obj.data_dir / "clean", config["resolution"], config["channels"] == 1
    )
    result = nearest_report(run_dir, dataset, run_dir / "nearest.png")
    click.echo(
        f"train report: {result['report']} (median distance sample→train {result['median_sample_to_train']:.1f}, train→train {result['median_train_to_train']:.1f})."
    )


@cli.command()
@click.option("--run", "name", required=True, help="The run's name.")
@click.option("--n", type=click.IntRange(min=1), default=64, show_default=True)
@click.option(
    "--psi",
    type=click.FloatRange(0, 2),
    default=0.7,
    show_default=True,
    help="Truncation (1 = none).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--grid", is_flag=True, help="Also write grid.png.")
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Default <run>/generated."
)
@pass_context
def generate(
    obj: Context, name: str, n: int, psi: float, seed: int, grid: bool, out: Path | None
) -> None:
    """Images from a trained run's averaged generator."""
    from pipeline.train.generate import generate as make

    run_dir = obj.data_dir / "runs" / name
    out = out or run_dir / "generated"
    try:
        paths = make(run_dir, n, psi, seed, out, grid)
    except FileNotFoundError:
        raise UserError(f"no trained run {name!r} in {obj.data_dir / 'runs'}.") from None
    click.echo(f"generate: {len(paths)} images in {out}.")


# --- run / report ------------------------------------------------------------------------------


@cli.command()
@click.option("--limit", type=click.IntRange(min=1), help="Download at most N new items this run.")
@click.option("--json", "as_json", is_flag=True, help="Print every stage's summary as JSON.")
@engine_options
@pass_context
def run(obj: Context, limit: int | None, as_json: bool) -> None:
    """The whole curation: download → detect → crop → dedupe → export, each doing only what is left.

    Safe to interrupt at any moment and run again.
    """
    summaries = []

    def show(summary: RunSummary) -> None:
        summaries.append(summary.as_dict())
        if not as_json:
            click.echo(summary.line())

    show(run_download(obj, limit=limit))
    show(run_detect(obj))
    show(run_crop(obj))
    dedupe_summary, clusters = run_dedupe(obj)
    show(dedupe_summary)
    quiet, obj.quiet = obj.quiet, obj.quiet or as_json
    exported = run_export(obj)
    obj.quiet = quiet
    if as_json:
        emit_json({"stages": summaries, "duplicates": clusters, "export": exported})
    else:
        click.echo(
            f"dedupe: {clusters['duplicates']} duplicates in {clusters['clusters']} clusters."
        )
        click.echo(
            "run: done; review with `curate review`, then `curate export` again if you reject anything."
        )


@cli.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write (default <data dir>/report.html).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report's numbers as JSON too.")
@pass_context
def report(obj: Context, out: Path | None, as_json: bool) -> None:
    """Write the HTML report: funnel, failures, classes, confidences, samples, duplicates, training."""
    from pipeline import report as reporter

    with obj.manifest(readonly=True) as manifest:
        data = manifest.report_data()
    path = reporter.write(data, obj.data_dir, out)
    if as_json:
        emit_json(data)
    else:
        funnel = " → ".join(f"{count} {stage}" for stage, count in data["funnel"].items())
        click.echo(f"report: {path} ({funnel})")


def main() -> None:
    try:
        cli(prog_name="curate")
    except KeyboardInterrupt:
        click.echo(
            "Interrupted: finished work is saved; run the same command again to go on.", err=True
        )
        sys.exit(130)


if __name__ == "__main__":
    main()
