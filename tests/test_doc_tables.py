"""The results tables of README.md, the model card and docs/RESULTS.md are what
benchmarks/tables.py renders from the committed results files, bold cells included."""

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tables():
    spec = importlib.util.spec_from_file_location("tables", ROOT / "benchmarks" / "tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


DOCS = [
    "README.md",
    "wildmatte/weights/MODEL_CARD.md",
    "docs/RESULTS.md",
    "docs/results-wild.md",
    "docs/results-deploy.md",
]


def test_the_checked_documents_are_the_generated_ones(tables):
    assert [str(p.relative_to(ROOT)) for p in tables.DOCUMENTS] == DOCS


@pytest.mark.parametrize("doc", DOCS)
def test_each_document_holds_the_tables_its_results_file_gives(tables, doc):
    path = ROOT / doc
    text = path.read_text()
    blocks = list(tables.BLOCK.finditer(text))
    assert blocks, f"{doc} has no generated table"
    assert all(b["body"].count("\n|") >= 2 for b in blocks), "a table block is empty"
    assert tables.regenerate(text, path) == text, f"run python benchmarks/tables.py ({doc})"


def _first_table(text: str, tables) -> re.Match:
    return next(tables.BLOCK.finditer(text))


def test_a_changed_figure_in_a_copy_of_the_readme_fails_the_check(tables, tmp_path):
    text = (ROOT / "README.md").read_text()
    body = _first_table(text, tables)["body"]
    figure = re.search(r"\| (\d+\.\d\d) \|", body)  # a plain (not bold) figure
    changed = body.replace(figure.group(0), f"| {float(figure.group(1)) + 0.01:.2f} |", 1)
    copy = tmp_path / "README.md"
    copy.write_text(text.replace(body, changed))
    assert tables.main(["--check", str(copy)]) == 1
    copy.write_text(text)
    assert tables.main(["--check", str(copy)]) == 0


def test_a_moved_bold_cell_fails_the_check(tables, tmp_path):
    text = (ROOT / "README.md").read_text()
    body = _first_table(text, tables)["body"]
    bold = re.search(r"\*\*(\d+\.\d\d)\*\*", body)
    unbolded = body.replace(bold.group(0), bold.group(1), 1)
    copy = tmp_path / "README.md"
    copy.write_text(text.replace(body, unbolded))
    assert tables.main(["--check", str(copy)]) == 1
    plain = re.search(r"\| (\d+\.\d\d) \|", body)
    bolded = body.replace(plain.group(0), f"| **{plain.group(1)}** |", 1)
    copy.write_text(text.replace(body, bolded))
    assert tables.main(["--check", str(copy)]) == 1


def test_bold_marks_the_lowest_of_each_column_but_not_the_guidance_mask(tables):
    rows = [
        ("guidance mask itself", "—", [0.5, 9.0]),
        ("a", "no", [2.0, 3.0]),
        ("b", "yes", [1.0, 3.0]),
    ]
    lines = tables.grid(["engine", "saw", "x", "y"], rows).splitlines()
    assert lines[2] == "| guidance mask itself | — | 0.50 | 9.00 |"
    assert lines[3] == "| a | no | 2.00 | **3.00** |"
    assert lines[4] == "| b | yes | **1.00** | **3.00** |"  # a tie bolds both


def test_every_weights_row_says_what_its_model_saw(tables):
    doc = tables.load("wild-test.json")
    models = tables.load("models.json")
    for run in doc["runs"].values():
        for row in run.values():
            if row["engine"] == "prn":
                assert row["weights_sha256"] in models["weights"], row["weights"]
            assert tables.describe(row)[1] != "not recorded"
    # The results file names what produced it.
    assert doc["command"].startswith("python benchmarks/wild_results.py") and doc["date"]
    assert len(doc["set"]["manifest_sha256"]) == 64


def test_results_md_holds_the_pasted_sections_as_they_are():
    """benchmarks/results.py pastes these files into RESULTS.md; a hand edit of one copy only
    would leave the two disagreeing."""
    results = (ROOT / "docs" / "RESULTS.md").read_text()
    for name in ("results-wild.md", "results-deploy.md"):
        assert (ROOT / "docs" / name).read_text().strip() in results, name
