"""The napari-tweedie command line."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import tifffile
import zarr

import napari_tweedie as nt
from napari_tweedie.cli import main
from napari_tweedie.cli_args import parse_roi, parse_settings


@pytest.fixture(scope="module")
def big_zarr(tmp_path_factory):
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:2048, 0:2048] / 2048.0
    clean = (0.5 + 0.3 * np.sin(12 * x) * np.cos(9 * y)).astype(np.float32)
    noisy = clean + 0.1 * rng.standard_normal(clean.shape).astype(np.float32)
    path = tmp_path_factory.mktemp("cli") / "big.zarr"
    zarr.create_array(str(path), shape=noisy.shape, chunks=(512, 512), dtype="float32")[:] = noisy
    return path, noisy, clean


def test_tiled_cli_equals_in_memory_for_a_local_filter(tmp_path, big_zarr):
    path, noisy, clean = big_zarr
    out = tmp_path / "out.zarr"
    args = [
        "denoise",
        str(path),
        str(out),
        "--method",
        "gaussian",
        "--sigma",
        "0.1",
        "--set",
        "sigma_spatial=1.5",
        "--tile",
        "512",
        "--quiet",
    ]
    assert main(args) == 0
    expected = nt.denoise(noisy, "gaussian", sigma=0.1, sigma_spatial=1.5)
    np.testing.assert_allclose(zarr.open_array(str(out))[:], expected, atol=1e-5)


def test_tiled_cli_matches_in_memory_tv_up_to_blending(tmp_path, big_zarr):
    path, noisy, clean = big_zarr
    out = tmp_path / "tv.zarr"
    assert (
        main(
            [
                "denoise",
                str(path),
                str(out),
                "--method",
                "tv",
                "--sigma",
                "0.1",
                "--tile",
                "768",
                "--overlap",
                "24",
                "--quiet",
            ]
        )
        == 0
    )
    expected = nt.denoise(noisy, "tv", sigma=0.1)
    tiled = zarr.open_array(str(out))[:]
    difference = np.abs(tiled - expected)
    assert difference.mean() < 0.01 and difference.max() < 0.1  # TV is global: small drift
    rmse_tiled, rmse_whole = (np.sqrt(np.mean((r - clean) ** 2)) for r in (tiled, expected))
    assert rmse_tiled < 1.02 * rmse_whole  # tiling costs no quality


def test_cli_on_a_local_dask_cluster(tmp_path, big_zarr):
    distributed = pytest.importorskip("distributed")
    path, noisy, clean = big_zarr
    out = tmp_path / "cluster.zarr"
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        assert (
            main(
                [
                    "denoise",
                    str(path),
                    str(out),
                    "--method",
                    "gaussian",
                    "--sigma",
                    "0.1",
                    "--tile",
                    "512",
                    "--scheduler",
                    cluster.scheduler_address,
                ]
            )
            == 0
        )
    expected = nt.denoise(noisy, "gaussian", sigma=0.1)
    np.testing.assert_allclose(zarr.open_array(str(out))[:], expected, atol=1e-5)


def test_roi_and_formats(tmp_path, rng):
    stack = rng.random((3, 64, 80), dtype=np.float32)
    source = tmp_path / "stack.tif"
    tifffile.imwrite(source, stack, photometric="minisblack")
    out = tmp_path / "roi.npy"
    assert (
        main(
            [
                "denoise",
                str(source),
                str(out),
                "--method",
                "gaussian",
                "--roi",
                "1,0:32,8:72",
                "--quiet",
            ]
        )
        == 0
    )
    expected = nt.denoise_lazy(stack[1, 0:32, 8:72], "gaussian").compute()
    np.testing.assert_allclose(np.load(out), expected, atol=1e-6)  # plane 1, columns 8..71


def test_rgb_png_is_refused_with_one_line(tmp_path, rng, capsys):
    import imageio.v3 as iio

    source = tmp_path / "rgb.png"
    iio.imwrite(source, rng.integers(0, 255, (40, 48, 3), dtype=np.uint8))
    code = main(["denoise", str(source), str(tmp_path / "out.png"), "--method", "tv", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "RGB" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out.png").exists()


def test_integer_png_round_trip_keeps_dtype(tmp_path, rng):
    import imageio.v3 as iio

    source, out = tmp_path / "in.png", tmp_path / "out.png"
    iio.imwrite(source, rng.integers(0, 255, (40, 48), dtype=np.uint8))
    assert main(["denoise", str(source), str(out), "--method", "gaussian", "--quiet"]) == 0
    assert iio.imread(out).dtype == np.uint8


@pytest.mark.parametrize(
    ("argv_tail", "message"),
    [
        (["--method", "gaussian"], "no such file"),
        (["--method", "gaussian", "--set", "nonsense=1"], "unknown parameter"),
        (["--method", "gaussian", "--set", "novalue"], "key=value"),
        (["--method", "gaussian", "--roi", "0,0:8,0:8"], "--roi has 3 entries"),
    ],
)
def test_bad_input_exits_nonzero_with_one_line(tmp_path, capsys, argv_tail, message):
    source = tmp_path / "in.npy"
    if "no such file" not in message:
        np.save(source, np.zeros((16, 16), np.float32))
    code = main(["denoise", str(source), str(tmp_path / "out.npy"), *argv_tail])
    err = capsys.readouterr().err.strip()
    assert code != 0 and message in err and len(err.splitlines()) == 1


def test_output_over_input_is_refused(tmp_path, capsys):
    source = tmp_path / "in.npy"
    np.save(source, np.zeros((16, 16), np.float32))
    assert main(["denoise", str(source), str(source), "--method", "gaussian", "--quiet"]) == 2
    assert "overwrite the input" in capsys.readouterr().err
    np.testing.assert_array_equal(np.load(source), 0)


def test_unknown_method_is_an_argparse_error():
    with pytest.raises(SystemExit) as exit_info:
        main(["denoise", "a.npy", "b.npy", "--method", "nope"])
    assert exit_info.value.code == 2


def test_parsers():
    assert parse_roi("0, 10:20 ,:5") == (0, slice(10, 20), slice(None, 5))
    assert parse_settings(["a=1", "b=0.5", "c=db2", "d=None"]) == {
        "a": 1,
        "b": 0.5,
        "c": "db2",
        "d": None,
    }
    flags = parse_settings(["ensemble=false", "x=True", "y=no", "z=ON"])
    assert flags == {"ensemble": False, "x": True, "y": False, "z": True}


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, np.uint32])
def test_integer_output_saturates_at_the_dtype_limits(dtype):
    from napari_tweedie.cli_args import cast_output

    info = np.iinfo(dtype)
    values = da.from_array(np.float32([info.min - 10.0, 1.4, float(info.max), 2.0 * info.max]))
    out = cast_output(values, np.dtype(dtype)).compute()
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, [info.min, 1, info.max, info.max])


def test_cli_tiles_like_the_widgets_so_a_replay_matches(tmp_path):
    # wavelet shrinkage is not local: its result depends on the tiling
    rng = np.random.default_rng(0)
    image = (0.5 + 0.1 * rng.standard_normal((600, 640))).astype(np.float32)
    source, out = tmp_path / "in.npy", tmp_path / "out.npy"
    np.save(source, image)
    argv = ["denoise", str(source), str(out), "--method", "wavelet", "--sigma", "0.1", "--quiet"]
    assert main(argv) == 0
    widget_default = nt.denoise_lazy(image, "wavelet", sigma=0.1).compute()
    np.testing.assert_allclose(np.load(out), widget_default, atol=1e-6)
