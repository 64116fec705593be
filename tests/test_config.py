"""sources.yaml validation: every user mistake is one sentence and exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import config


def check(curate, tmp_path: Path, text: str):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    return curate("config", "check", config=path)


def test_defaults_are_valid_and_printed(curate, tmp_path):
    result = check(curate, tmp_path, "sources: []\n")
    assert result.exit_code == 0, result.output
    assert "resolution: 256" in result.output
    assert "- vase" in result.output


def test_repo_sources_yaml_is_valid():
    settings = config.load(Path(__file__).parent.parent / "sources.yaml")
    assert {s.kind for s in settings.sources} >= {"met", "artic", "cleveland", "harvard"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "pipeline:\n  resolutoin: 256\n",
            "pipeline.resolutoin: unknown key; did you mean 'resolution'?",
        ),
        ("pipeline:\n  detector: {confidence: 0.3}\n", "pipeline.detector.confidence: unknown key"),
        ("pipeline:\n  resolution: 300\n", "pipeline.resolution: must be a power of two"),
        (
            "pipeline:\n  crop: {margin: lots}\n",
            "pipeline.crop.margin: input should be a valid number",
        ),
        (
            "pipeline:\n  crop: {pad: blue}\n",
            "pipeline.crop.pad: input should be 'white', 'background' or 'edge'",
        ),
        ("sources:\n  - {name: m, kind: mett}\n", "sources[0] (m).kind: input should be 'met'"),
        ("sources:\n  - {name: m, kind: gallery}\n", "options.start_urls: field required"),
        (
            "sources:\n  - {name: m, kind: met}\n  - {name: m, kind: met}\n",
            "two sources are named 'm'",
        ),
        ("pipeline: [1, 2]\n", "pipeline: input should be a valid dictionary"),
        ("pipeline:\n  resolution: [\n", "not valid YAML at line"),
        ("- just\n- a list\n", "the top level must be a mapping"),
    ],
)
def test_bad_config_is_one_sentence_and_exit_2(curate, tmp_path, text, expected):
    result = check(curate, tmp_path, text)
    assert result.exit_code == 2
    assert expected in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert (
        len(lines) == 1
        and lines[0].startswith("Error: ")
        and str(tmp_path / "bad.yaml") in lines[0]
    )
    assert "Traceback" not in result.output and "pydantic" not in result.output


def test_enum_typo_suggests_close_value(curate, tmp_path):
    result = check(curate, tmp_path, "pipeline:\n  detector: {policy: larget}\n")
    assert result.exit_code == 2
    assert "did you mean 'largest'?" in result.output


def test_missing_explicit_config_file(curate, tmp_path):
    result = curate("status", config=tmp_path / "nope.yaml")
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_data_dir_precedence(tmp_path, monkeypatch):
    cfg = tmp_path / "conf" / "sources.yaml"
    cfg.parent.mkdir()
    cfg.write_text("pipeline: {data_dir: here}\n")
    settings = config.load(cfg)
    monkeypatch.delenv("CURATE_DATA_DIR", raising=False)
    assert settings.data_dir() == (cfg.parent / "here").resolve()
    monkeypatch.setenv("CURATE_DATA_DIR", str(tmp_path / "env"))
    assert settings.data_dir() == (tmp_path / "env").resolve()
    assert settings.data_dir(tmp_path / "opt") == (tmp_path / "opt").resolve()


def test_api_key_comes_from_named_env_var(monkeypatch):
    settings = config.parse({"sources": [{"name": "h", "kind": "harvard", "api_key_env": "H_KEY"}]})
    monkeypatch.delenv("H_KEY", raising=False)
    assert settings.sources[0].api_key() is None
    monkeypatch.setenv("H_KEY", "secret")
    assert settings.sources[0].api_key() == "secret"
    assert settings.sources[0].base_url == "https://api.harvardartmuseums.org"
