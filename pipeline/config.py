"""Load and validate sources.yaml into typed settings.

Every mistake a user can make in the file ends as one sentence that names the file, the key path
and what is allowed (with a "did you mean" for typos), raised as `ConfigError`. The CLI turns that
into exit code 2; nothing here prints a pydantic traceback.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.errors import ConfigError

SOURCE_KINDS = (
    "met",
    "artic",
    "cleveland",
    "harvard",
    "rijksmuseum",
    "vam",
    "smithsonian",
    "europeana",
    "gallery",
    "urllist",
    "folder",
)

# Where each API lives unless a source says otherwise (tests and mirrors point api_base elsewhere).
DEFAULT_API_BASES: dict[str, str] = {
    "met": "https://collectionapi.metmuseum.org/public/collection",
    "artic": "https://api.artic.edu/api/v1",
    "cleveland": "https://openaccess-api.clevelandart.org/api",
    "harvard": "https://api.harvardartmuseums.org",
    "rijksmuseum": "https://www.rijksmuseum.nl/api/en",
    "vam": "https://api.vam.ac.uk/v2",
    "smithsonian": "https://api.si.edu/openaccess/api/v1.0",
    "europeana": "https://api.europeana.eu/record/v2",
}

# The COCO names of the objects this tool is about; any name the detector knows may be used.
DEFAULT_CLASSES = ["vase", "cup", "bowl", "cake"]


class Strict(BaseModel):
    """Base for every settings block: unknown keys are errors, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


class GalleryOptions(Strict):
    """How the generic gallery spider walks a site that has no API (auction houses)."""

    start_urls: list[str] = Field(min_length=1)
    link_selector: str | None = None  # CSS or XPath (starting with / or ( ) of lot/detail links
    next_selector: str | None = None  # CSS or XPath of the next-page link
    image_selector: str | None = None  # fallback after JSON-LD and og:image
    title_selector: str | None = None
    allowed_domains: list[str] = []
    license: str | None = None  # only if you have checked the site's terms


class Source(Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    kind: Literal[SOURCE_KINDS]  # type: ignore[valid-type]
    enabled: bool = True
    queries: list[str] = []
    limit: int | None = Field(default=None, ge=1)
    api_base: str | None = None
    api_key_env: str | None = None
    any_license: bool = False
    # Kind-specific settings: gallery → GalleryOptions; urllist/folder → {"path": ...};
    # API kinds → extra query parameters passed to the API as they are.
    options: dict[str, Any] = {}

    @model_validator(mode="after")
    def _check_kind_options(self) -> Source:
        if self.kind == "gallery":
            try:
                GalleryOptions.model_validate(self.options)
            except ValidationError as exc:
                first = exc.errors(include_url=False)[0]
                where = ".".join(str(part) for part in first["loc"])
                raise ValueError(f"options.{where}: {first['msg'].lower()}") from None
        if self.kind in ("urllist", "folder") and "path" not in self.options:
            raise ValueError(f"a {self.kind} source needs options.path")
        return self

    @property
    def base_url(self) -> str | None:
        return (self.api_base or DEFAULT_API_BASES.get(self.kind, "")).rstrip("/") or None

    def api_key(self) -> str | None:
        """The API key from the environment variable the source names, or None when unset."""
        return os.environ.get(self.api_key_env) if self.api_key_env else None


class ScrapeSettings(Strict):
    user_agent: str = "vessel-curate/0.1 (+https://github.com/vessel-curate/vessel-curate)"
    obey_robots: bool = True
    concurrency_per_domain: int = Field(default=2, ge=1, le=64)
    autothrottle: bool = True
    download_delay: float = Field(default=0.5, ge=0)
    http_cache: bool = False
    retry_after_cap: float = Field(
        default=60, ge=0
    )  # seconds; longer Retry-After values are capped


class DetectorSettings(Strict):
    kind: Literal["yolo", "foreground", "none"] = "yolo"
    # A weights name that ultralytics downloads on first use, or a path to a local .pt file.
    model: str = "yolo11n.pt"
    conf: float = Field(default=0.25, gt=0, lt=1)
    min_size: float = Field(default=0.05, ge=0, lt=1)  # shorter box side as a fraction of the image
    policy: Literal["largest", "best", "all"] = "largest"
    batch: int = Field(default=16, ge=1, le=1024)
    imgsz: int = Field(default=640, ge=32, le=4096)
    device: str = "auto"


class CropSettings(Strict):
    margin: float = Field(default=0.10, ge=0, le=2)
    pad: Literal["white", "background", "edge"] = "white"
    format: Literal["jpg", "png"] = "jpg"
    quality: int = Field(default=95, ge=1, le=100)
    grayscale: bool = False


class DedupeSettings(Strict):
    hash_size: int = Field(default=8, ge=4, le=8)  # hash_size² bits must fit a 64-bit integer
    # dHash bits that may differ, then the colour check (see pipeline/stages/dedupe.py); both
    # defaults were chosen from measurements on the demo museum (README, "Dedupe").
    threshold: int = Field(default=10, ge=0, le=64)
    colour_tolerance: int | None = Field(default=8, ge=0, le=384)  # null: dHash alone


class DownloadSettings(Strict):
    concurrency: int = Field(default=32, ge=1, le=512)
    per_host: int = Field(default=8, ge=1, le=256)
    connect_timeout: float = Field(default=10, gt=0)
    read_timeout: float = Field(default=30, gt=0)
    deadline: float = Field(default=120, gt=0)  # total seconds per item, retries included
    retries: int = Field(default=3, ge=0, le=20)
    max_redirects: int = Field(default=5, ge=0, le=30)
    max_bytes: int = Field(default=50_000_000, ge=1024)
    max_pixels: int = Field(default=178_956_970, ge=1)  # Pillow's own bomb limit by default
    retry_after_cap: float = Field(default=60, ge=0)
    user_agent: str | None = None  # defaults to scrape.user_agent


class ScaleSettings(Strict):
    """`--engine ray`: where the stages run and how wide (see pipeline/ray_engine.py)."""

    engine: Literal["local", "ray"] = "local"
    address: str | None = None  # a Ray cluster ("ray://host:10001", "host:6379"); None: local Ray
    chunk: int = Field(default=10_000, ge=1)  # pending items handed to Ray at a time
    batch: int = Field(default=64, ge=1, le=100_000)  # items per Ray batch (download, crop)
    download_actors: int | None = Field(default=None, ge=1)  # default: one per cluster CPU
    detect_actors: int | None = Field(default=None, ge=1)  # default: one per cluster GPU, else 1
    gpus_per_detect_actor: float = Field(default=1.0, gt=0)  # used when the cluster has GPUs


class PipelineSettings(Strict):
    data_dir: str = "data"
    resolution: int = 256
    classes: list[str] = Field(default_factory=lambda: list(DEFAULT_CLASSES), min_length=1)
    detector: DetectorSettings = DetectorSettings()
    crop: CropSettings = CropSettings()
    dedupe: DedupeSettings = DedupeSettings()
    download: DownloadSettings = DownloadSettings()
    scale: ScaleSettings = ScaleSettings()

    @field_validator("resolution")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value < 32 or value > 4096 or value & (value - 1):
            raise ValueError("must be a power of two from 32 to 4096, such as 64, 128, 256 or 1024")
        return value


class Settings(Strict):
    sources: list[Source] = []
    scrape: ScrapeSettings = ScrapeSettings()
    pipeline: PipelineSettings = PipelineSettings()

    # Where the file was read from; relative paths in it are resolved against its folder.
    path: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _unique_source_names(self) -> Settings:
        seen: set[str] = set()
        for source in self.sources:
            if source.name in seen:
                raise ValueError(f"two sources are named {source.name!r}; names must be unique")
            seen.add(source.name)
        return self

    def source(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"no source named {name!r} in {self.path}; known sources: {known}.")

    def data_dir(self, override: str | os.PathLike | None = None) -> Path:
        """--data-dir beats CURATE_DATA_DIR beats pipeline.data_dir (relative to the config file)."""
        chosen = override or os.environ.get("CURATE_DATA_DIR")
        if chosen:
            return Path(chosen).expanduser().resolve()
        base = self.path.parent if self.path else Path.cwd()
        return (base / self.pipeline.data_dir).expanduser().resolve()


def load(path: str | os.PathLike | None = None) -> Settings:
    """Read and validate a settings file; `None` means ./sources.yaml, or the defaults if absent."""
    explicit = path is not None
    file = Path(path) if explicit else Path("sources.yaml")
    if not file.exists():
        if explicit:
            raise ConfigError(f"{file}: no such file.")
        return Settings()
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{file}: not valid YAML{where}: {problem}.") from None
    return parse(raw or {}, file)


def parse(raw: Any, file: Path | str = "sources.yaml") -> Settings:
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: the top level must be a mapping with 'sources' and 'pipeline'.")
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(describe_error(exc, raw, file)) from None
    settings.path = Path(file).resolve()
    return settings


def describe_error(exc: ValidationError, raw: Any, file: Path | str) -> str:
    """One sentence for the first problem pydantic found, in the user's own key names."""
    error = exc.errors(include_url=False)[0]
    loc = [
        part
        for part in error["loc"]
        if not (isinstance(part, str) and part.startswith("function-"))
    ]
    key_path = _key_path(loc, raw)
    kind = error["type"]
    if kind == "extra_forbidden":
        parent = _lookup(raw, loc[:-1])
        model = _model_at(loc[:-1])
        allowed = sorted(model.model_fields) if model else sorted(parent or {})
        allowed = [name for name in allowed if name != "path" or model is not Settings]
        guess = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
        hint = f"did you mean '{guess[0]}'? " if guess else ""
        return f"{file}: {key_path}: unknown key; {hint}allowed keys are {', '.join(allowed)}."
    message = error["msg"]
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "missing":
        message = "is required but missing"
    if kind == "literal_error" and isinstance(error.get("input"), str):
        allowed = list(
            error.get("ctx", {})
            .get("expected", "")
            .replace("'", "")
            .replace(" or ", ", ")
            .split(", ")
        )
        guess = difflib.get_close_matches(error["input"], allowed, n=1, cutoff=0.6)
        if guess:
            message += f"; did you mean '{guess[0]}'?"
    got = error.get("input")
    shown = "" if kind == "missing" or isinstance(got, dict | list) else f" (got {got!r})"
    if not key_path:
        return f"{file}: {message[0].lower() + message[1:]}."
    return f"{file}: {key_path}: {message[0].lower() + message[1:]}{shown}."


def _key_path(loc: list, raw: Any) -> str:
    """`sources.2.kind` reads better as `sources[2] (met).kind`."""
    parts: list[str] = []
    node = raw
    for part in loc:
        if isinstance(part, int):
            name = (
                node[part].get("name")
                if isinstance(node, list) and part < len(node) and isinstance(node[part], dict)
                else None
            )
            parts[-1] += f"[{part}]" + (f" ({name})" if name else "")
        else:
            parts.append(str(part))
        node = node[part] if isinstance(node, dict | list) and _has(node, part) else None
    return ".".join(parts)


def _has(node: Any, key: Any) -> bool:
    if isinstance(node, dict):
        return key in node
    return isinstance(key, int) and 0 <= key < len(node)


def _lookup(raw: Any, loc: list) -> Any:
    node = raw
    for part in loc:
        if not (isinstance(node, dict | list) and _has(node, part)):
            return None
        node = node[part]
    return node


def _model_at(loc: list) -> type[BaseModel] | None:
    """The settings model that describes the mapping at `loc`, to list its allowed keys."""
    model: type[BaseModel] | None = Settings
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        annotation = field.annotation
        args = getattr(annotation, "__args__", ())
        candidates = [annotation, *args]
        model = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
        if model is None and str(part) == "options":
            return GalleryOptions
    return model


def effective(settings: Settings) -> dict[str, Any]:
    """The settings with every default filled in, for `curate config check`."""
    return settings.model_dump(mode="json")
