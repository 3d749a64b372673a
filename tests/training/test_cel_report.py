"""training.cel_report: figure-in-paper is measured where it should be, the report runs."""

import numpy as np

from training.cel_report import figure_in_paper, generated_pairs, main, measure


def test_figure_in_paper_counts_figure_pixels_in_the_papers_region():
    regions = np.ones((10, 10), np.int32)
    regions[3:7, 3:7] = 2
    figure = np.zeros((10, 10), bool)
    figure[3:7, 3:7] = True
    paper = np.zeros((10, 10), bool)
    paper[0] = True
    assert figure_in_paper(regions, figure, paper) == 0.0
    regions[3:5, 3:7] = 1  # half the figure merged with the paper
    assert figure_in_paper(regions, figure, paper) == 0.5


def test_the_report_scores_generated_sketches(tiny_onnx, tmp_path, capsys):
    pairs = generated_pairs()[:2]
    result = measure(pairs, tiny_onnx)
    assert set(result) == {"generated", *(p["group"] for p in pairs)}
    for entry in result.values():
        assert 0.0 <= entry["figure_in_paper"] <= entry["figure_in_paper_worst"] <= 1.0
        assert entry["paper_white_worst"] >= 0.99  # the tiny model's colors, a white paper
    out = tmp_path / "report.json"
    empty = tmp_path / "no_svgs"
    empty.mkdir()
    assert main(["--svgs", str(empty), "--weights", str(tiny_onnx), "--out", str(out)]) == 0
    assert "generated/geometric" in out.read_text()
    assert "| generated |" in capsys.readouterr().out
