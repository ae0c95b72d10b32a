"""`load_benchmark`: names, directories of every layout, and errors that suggest."""

from __future__ import annotations

import pytest

from followir.data.registry import (
    BenchmarkInfo,
    bundled_names,
    detect_layout,
    get_info,
    list_benchmarks,
    load_benchmark,
    register,
)
from followir.errors import SpecError
from followir.metrics.base import parse_measure


def test_declared_main_measures():
    infos = {i.name: i for i in list_benchmarks()}
    assert {"followir-mini", "robust04", "core17", "news21"} <= set(infos)
    assert infos["news21"].main_measure == "nDCG@5"
    assert infos["robust04"].main_measure == infos["core17"].main_measure == "MAP@1000"
    assert infos["followir-mini"].bundled and not infos["core17"].bundled
    for info in infos.values():
        assert str(parse_measure(info.main_measure)) == info.main_measure
        assert info.license and info.source


def test_duplicates_rejected():
    with pytest.raises(SpecError, match="already registered"):
        register(BenchmarkInfo("Robust04", "x/y", "MAP@1000", "MIT"))


def test_unknown_name_suggests():
    with pytest.raises(SpecError, match="Did you mean 'robust04'"):
        load_benchmark("robust4")
    with pytest.raises(SpecError, match="Did you mean 'core17'"):
        get_info("core71")


def test_missing_directory():
    with pytest.raises(SpecError, match="no such directory: ./nowhere"):
        load_benchmark("./nowhere")


def test_fixture_layouts(fixtures):
    assert detect_layout(fixtures / "followir_hub") == "hub"
    assert detect_layout(fixtures / "mteb_v2") == "hub"
    assert detect_layout(fixtures / "instructir") == "instructir"
    assert load_benchmark(fixtures / "mteb_v2").has_changes


@pytest.mark.shared_data
@pytest.mark.parametrize(
    "name,layout",
    [("cisi", "beir"), ("birco-clinical-trial-dev", "beir"), ("birco-wtb-dev", "beir"), ("vaswani", "trec")],
)
def test_shared_layouts(shared, name, layout):
    assert detect_layout(shared / name) == layout
    b = load_benchmark(str(shared / name))
    assert b.metadata["layout"] == layout and b.queries and b.corpus


def test_plain_detected(tmp_path, fixtures):
    from followir.data.plain import write_plain

    write_plain(load_benchmark(fixtures / "followir_hub"), tmp_path / "p")
    assert detect_layout(tmp_path / "p") == "plain"


def test_bundled_followir_mini():
    if "followir-mini" not in bundled_names():
        pytest.skip("followir-mini not bundled yet")
    from importlib import resources

    from followir.errors import DataError

    try:
        detect_layout(resources.files("followir.data") / "bundled" / "followir-mini")
    except DataError:
        pytest.skip("followir-mini is still being built")
    b = load_benchmark("followir-mini")
    assert b.name == "followir-mini" and b.main_measure == "MAP@1000"
    assert b.has_changes and b.metadata["bundled"] is True


def test_mteb_copy_with_qrels_config_is_not_beir(tmp_path, fixtures):
    """mteb's push_dataset_to_hub names the qrels config `qrels`, as BEIR names its folder."""
    import shutil

    d = shutil.copytree(fixtures / "mteb_v2", tmp_path / "m")
    (d / "default").rename(d / "qrels")
    assert detect_layout(d) == "hub"
    assert load_benchmark(d).qrels_changed == load_benchmark(fixtures / "mteb_v2").qrels_changed
