"""Detect benchmark: the detect stage's throughput against a bare `model.predict` over the same
images, batch size and imgsz (the pipeline's overhead: decoding, letterboxing, bookkeeping).
Target: stage >= 0.9x bare. Uses the project's tiny model; results in bench/results/detect.json.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from common import ROOT, make_photos, timed, write

from pipeline.config import DetectorSettings
from pipeline.stages.detect import Yolo

MODEL = ROOT / "tests" / "detector" / "tiny-vessels.pt"
COUNT, BATCH, IMGSZ = 160, 16, 256


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-detect-"))
    paths = make_photos(work, COUNT, size=(1200, 900))
    stage = Yolo(
        DetectorSettings(model=str(MODEL), batch=BATCH, imgsz=IMGSZ),
        work,
        10**9,
        ["vase", "cup", "bowl", "cake"],
        str(MODEL),
    )
    items = [{"id": i, "path": p.name} for i, p in enumerate(paths)]
    model = stage.model
    list(
        model.predict([str(p) for p in paths[:BATCH]], imgsz=IMGSZ, batch=BATCH, verbose=False)
    )  # warm up

    def bare():
        return sum(
            1
            for _ in model.predict(
                [str(p) for p in paths],
                imgsz=IMGSZ,
                batch=BATCH,
                device="cpu",
                stream=True,
                verbose=False,
            )
        )

    def pipeline():
        return sum(1 for _ in stage.process(items))

    t_bare, n_bare = timed(bare)
    t_stage, n_stage = timed(pipeline)
    assert n_bare == n_stage == COUNT
    data = {
        "images": COUNT,
        "input": "1200x900 JPEG",
        "batch": BATCH,
        "imgsz": IMGSZ,
        "device": stage.device,
        "images_per_second": {"stage": COUNT / t_stage, "bare_predict": COUNT / t_bare},
        "ratio_stage_vs_bare": t_bare / t_stage,
        "target": 0.9,
    }
    write("detect", data)
    print(f"detect: stage/bare-predict {data['ratio_stage_vs_bare']:.2f}x")


if __name__ == "__main__":
    main()
