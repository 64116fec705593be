"""`curate ingest` of the three input kinds, with duplicates and bad lines; status and inspect."""

from __future__ import annotations

import json
import sqlite3

from PIL import Image


def rows(data_dir, sql="SELECT source, object_id, url, local_path FROM items ORDER BY id"):
    with sqlite3.connect(data_dir / "curate.db") as db:
        return db.execute(sql).fetchall()


def test_jsonl_with_duplicates_and_bad_lines(curate, data_dir, tmp_path):
    feed = tmp_path / "met.jsonl"
    lines = [
        {
            "source": "met",
            "object_id": 1,
            "url": "https://x.org/1.jpg",
            "title": "Vase",
            "license": "CC0",
        },
        {"source": "met", "object_id": 1, "url": "https://x.org/1b.jpg", "title": "Vase"},
        {"source": "met", "object_id": 2, "url": "https://x.org/1.jpg"},  # duplicate URL
        {"object_id": 3, "url": "http://y.org/3.png"},  # no source: the file name stands in
        {"object_id": 4, "url": "file:///etc/passwd"},
        {"object_id": 5},
    ]
    text = "\n".join(json.dumps(line) for line in lines) + "\n{broken json\n[1, 2]\n"
    feed.write_text(text)
    result = curate("ingest", str(feed), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output[result.output.index("{") :])
    assert (summary["new"], summary["known"], summary["bad"]) == (3, 1, 4)
    assert f"{feed}:5: not an http(s) URL (file)" in summary["problems"]
    assert f"{feed}:6: no url" in summary["problems"]
    assert f"{feed}:7: not valid JSON" in summary["problems"]
    assert f"{feed}:8: not a JSON object" in summary["problems"]
    assert rows(data_dir) == [
        ("met", "1", "https://x.org/1.jpg", None),
        ("met", "1", "https://x.org/1b.jpg", None),
        ("met", "3", "http://y.org/3.png", None),
    ]
    again = curate("ingest", str(feed))
    assert again.exit_code == 0
    assert "0 new, 4 already known, 4 bad lines" in again.output
    assert len(rows(data_dir)) == 3


def test_url_list(curate, data_dir, tmp_path):
    listing = tmp_path / "old-scrape.txt"
    listing.write_text(
        "# scraped in 2019\nhttps://a.org/1.jpg\n\nhttps://a.org/1.jpg\n  https://a.org/2.jpg  \n"
        "data:image/png;base64,AAAA\nnot a url\nhttps://a.org/caf%C3%A9 vase.jpg\n"
    )
    result = curate("ingest", str(listing))
    assert result.exit_code == 0, result.output
    assert "3 new, 1 already known, 2 bad lines" in result.output
    assert f"{listing}:6: not an http(s) URL (data)" in result.output
    assert f"{listing}:7: not an http(s) URL (no scheme)" in result.output
    assert [r[2] for r in rows(data_dir)] == [
        "https://a.org/1.jpg",
        "https://a.org/2.jpg",
        "https://a.org/caf%C3%A9 vase.jpg",
    ]
    assert {r[0] for r in rows(data_dir)} == {"old-scrape"}


def test_folder_of_images(curate, data_dir, tmp_path):
    folder = tmp_path / "my-photos"
    (folder / "shelf").mkdir(parents=True)
    Image.new("RGB", (8, 8), "red").save(folder / "a.jpg")
    Image.new("RGB", (8, 8), "blue").save(folder / "shelf" / "b.PNG")
    (folder / "notes.txt").write_text("not an image")
    result = curate("ingest", str(folder), "--source", "studio")
    assert result.exit_code == 0, result.output
    assert "2 new" in result.output
    found = rows(data_dir)
    assert [(r[0], r[1]) for r in found] == [("studio", "a.jpg"), ("studio", "shelf/b.PNG")]
    assert all(r[2].startswith("file://") and r[3].startswith(str(folder)) for r in found)


def test_status_and_inspect(curate, data_dir, tmp_path):
    feed = tmp_path / "artic.jsonl"
    feed.write_text(
        json.dumps({"object_id": "7", "url": "https://x.org/7.jpg", "title": "Ewer"}) + "\n"
    )
    assert curate("ingest", str(feed)).exit_code == 0
    status = curate("status", "--json")
    assert status.exit_code == 0
    counts = json.loads(status.output)
    assert counts["items"] == 1 and counts["download"] == {"pending": 1}
    assert counts["sources"] == {"artic": 1}
    shown = curate("inspect", "1")
    assert shown.exit_code == 0
    assert "Ewer" in shown.output and "https://x.org/7.jpg" in shown.output
    missing = curate("inspect", "99")
    assert missing.exit_code != 0 and "nothing in the manifest matches 99" in missing.output


def test_status_without_manifest_is_one_sentence(curate):
    result = curate("status")
    assert result.exit_code == 1
    assert result.output.startswith("Error: no manifest at")
