"""bioimage.io export and import: packages pass bioimageio.core's test and reproduce the plugin.

Models are fitted for a step or two on 64 x 64 images (what is tested is the
export, not the fit); the packages are made here, nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import pickle
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("bioimageio.core")
torch = pytest.importorskip("torch")

import napari_tweedie as nt  # noqa: E402
from napari_tweedie.bioimageio.models import read_fitted  # noqa: E402
from napari_tweedie.bioimageio.runner import BioimageioModel  # noqa: E402
from napari_tweedie.steps import run  # noqa: E402

SIGMA = 0.1
KINDS = ("noise2score", "filter2noise", "zs_n2n")


def mse(a, b) -> float:
    return float(np.mean((np.asarray(a, np.float64) - b) ** 2))


@pytest.fixture(scope="module")
def images() -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[:64, :64] / 64
    clean = (0.3 + 0.4 * (np.hypot(yy - 0.5, xx - 0.5) < 0.3) + 0.2 * xx).astype(np.float32)
    noisy = clean + SIGMA * np.random.default_rng(0).standard_normal(clean.shape)
    return clean, noisy.astype(np.float32)


def _fit(kind: str, noisy: np.ndarray):
    if kind == "noise2score":
        from napari_tweedie.denoisers.noise2score import fit_noise2score

        init = "prior" if nt.DENOISERS["prior"].requires() is None else "scratch"
        fit = fit_noise2score(noisy[None], noise_params={"sigma": SIGMA}, steps=1, batch=1,
                              patch=32, init=init, preview_every=100, device="cpu")  # fmt: skip
        return run(fit)
    if kind == "filter2noise":
        from napari_tweedie.denoisers.filter2noise import fit_filter2noise

        return run(fit_filter2noise(noisy, iterations=2, crop=32, sigma=SIGMA))
    from napari_tweedie.denoisers.zs_n2n.fit import fit_zs_n2n

    return run(fit_zs_n2n(noisy, iterations=5, crop=32, patience=0))


@pytest.fixture(scope="module")
def fitted(images, tmp_path_factory) -> dict[str, Path]:
    """kind -> the model file saved by the plugin."""
    folder = tmp_path_factory.mktemp("models")
    return {kind: _fit(kind, images[1]).save(folder / f"{kind}.safetensors") for kind in KINDS}


@pytest.fixture(scope="module")
def packages(fitted, images, tmp_path_factory) -> dict[str, Path]:
    """kind -> its exported bioimage.io package (test input: the noisy image)."""
    folder = tmp_path_factory.mktemp("packages")
    return {kind: nt.export_bioimageio(path, folder / f"{kind}.zip", sample=images[1])
            for kind, path in fitted.items()}  # fmt: skip


@pytest.mark.parametrize("kind", ["noise2score", "filter2noise"])
def test_exported_package_passes_bioimageio_core_model_test(packages, kind):
    """Both weights formats reproduce the test output (the plugin's result) to 1e-4."""
    from bioimageio.core import test_model

    summary = test_model(packages[kind])
    assert summary.status == "passed", summary.format()
    names = " ".join(detail.name for detail in summary.details)
    assert "torchscript" in names and "pytorch_state_dict" in names


@pytest.mark.parametrize(
    ("kind", "trust_code"), [(kind, False) for kind in KINDS] + [("zs_n2n", True)]
)
def test_package_prediction_equals_plugin_denoise(packages, fitted, kind, trust_code):
    model = read_fitted(fitted[kind])
    plugin = getattr(model, "denoise", None) or model.apply
    image = 0.5 + 0.2 * np.random.default_rng(1).standard_normal((40, 56)).astype(np.float32)
    package = BioimageioModel(packages[kind], trust_code=trust_code)
    if trust_code:  # force the pytorch_state_dict weights (architecture from the python file)
        package = BioimageioModel(_without_torchscript(packages[kind]), trust_code=True)
        assert package.weight_format == "pytorch_state_dict"
    else:
        assert package.weight_format == "torchscript"
    expected = plugin(image)
    assert np.abs(expected - image).max() > 1e-3  # the model does something
    np.testing.assert_allclose(package(image), expected, rtol=0, atol=1e-4)


def test_package_describes_method_noise_and_files(packages):
    from bioimageio.spec import load_description

    from napari_tweedie.bioimageio.compat import fix_wrap_serializers

    fix_wrap_serializers()
    descr = load_description(packages["noise2score"])
    assert "2106.07009" in str(descr.cite[0].url)
    config = descr.config.model_extra["napari_tweedie"]
    assert config["noise"] == "gaussian" and config["sigma"] == pytest.approx(SIGMA)
    assert descr.weights.torchscript and descr.weights.pytorch_state_dict
    assert descr.documentation is not None and len(descr.covers) == 1
    with zipfile.ZipFile(packages["noise2score"]) as archive:
        assert {"README.md", "cover.png", "test_input.npy", "arch_noise2score.py"} <= set(
            archive.namelist()
        )
        test_input = np.load(archive.open("test_input.npy"))
    assert test_input.shape == (1, 1, 64, 64)
    assert "2504.13519" in str(load_description(packages["filter2noise"]).cite[0].url)


def test_package_runs_as_a_denoiser_through_the_tiled_engine(packages, fitted, images):
    clean, noisy = images
    plugin = read_fitted(fitted["noise2score"]).denoise(noisy)
    whole = nt.denoise(noisy, "bioimageio", model=str(packages["noise2score"]))
    np.testing.assert_allclose(whole, plugin, rtol=0, atol=1e-4)
    zs_n2n = read_fitted(fitted["zs_n2n"]).apply(noisy)
    tiled = nt.denoise(noisy, "bioimageio", model=packages["zs_n2n"], tile=32, overlap=8)
    # seams are exact (2-pixel reach < overlap); the image's own border sees the tiler's
    # mirrored margin instead of the network's zero padding
    inner = (slice(2, -2), slice(2, -2))
    np.testing.assert_allclose(tiled[inner], zs_n2n[inner], rtol=0, atol=1e-4)
    with pytest.raises(ValueError, match="model=PATH"):
        nt.denoise(noisy, "bioimageio")


def test_gaussian_package_serves_as_a_prior(packages, fitted, images):
    from napari_tweedie.prior.select import get_prior

    clean, noisy = images
    prior = get_prior(f"bioimageio:{packages['noise2score']}")
    out = prior(torch.from_numpy(noisy)[None, None], torch.tensor([SIGMA]))[0, 0].numpy()
    plugin = read_fitted(fitted["noise2score"]).denoise(noisy)
    np.testing.assert_allclose(out, plugin, rtol=0, atol=1e-4)  # at its own noise level
    noisier = clean + 2 * SIGMA * np.random.default_rng(3).standard_normal(clean.shape)
    other = prior(torch.from_numpy(noisier.astype(np.float32))[None, None], torch.tensor([0.2]))
    assert mse(other[0, 0].numpy(), clean) < 0.5 * mse(noisier, clean)  # another level
    restored = nt.restore(noisy, "denoise", prior=f"bioimageio:{packages['noise2score']}",
                          sigma_y=SIGMA, sampler="pnp", steps=3)  # fmt: skip
    assert mse(restored.mean, clean) < 0.8 * mse(noisy, clean)


def test_package_without_noise_level_is_refused_as_prior(packages):
    from napari_tweedie.prior.bioimageio import BioimageioPrior

    with pytest.raises(ValueError, match="noise level is unknown"):
        BioimageioPrior(packages["filter2noise"])


class _Payload:
    """Unpickling this creates ``marker``: the proof that pickled code ran."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("weights", ["torchscript", "pytorch_state_dict"])
def test_pickle_renamed_as_weights_is_refused_unexecuted(packages, tmp_path, weights):
    marker = tmp_path / "pickle-ran"
    payload = pickle.dumps(_Payload(str(marker)), protocol=4)
    source = packages["zs_n2n"]
    if weights == "pytorch_state_dict":
        source = _without_torchscript(source)
    bad = _replace_file(source, _weights_file(source, weights), payload, tmp_path / "bad.zip")
    with pytest.raises(ValueError, match="refusing to load the weights file .*bare Python pickle"):
        BioimageioModel(bad, trust_code=True)
    assert not marker.exists()


def test_state_dict_weights_need_trust_code(packages):
    with pytest.raises(ValueError, match="trust_code=True"):
        BioimageioModel(_without_torchscript(packages["zs_n2n"]))


def test_export_refuses_what_it_cannot_reproduce(fitted, tmp_path, monkeypatch):
    from napari_tweedie.bioimageio import models

    real = models.exportable

    def wrong(model):
        spec = real(model)
        return models.Exportable(**{**spec.__dict__, "denoise": lambda image: image + 1.0})

    monkeypatch.setattr("napari_tweedie.bioimageio.export.exportable", wrong)
    with pytest.raises(ValueError, match="differs from the plugin's"):
        nt.export_bioimageio(fitted["zs_n2n"], tmp_path / "x.zip")
    assert not list(tmp_path.iterdir())  # nothing written, not even a temporary file
    with pytest.raises(ValueError, match=r"\.zip"):
        nt.export_bioimageio(fitted["zs_n2n"], tmp_path / "x.tif")


def test_cli_export(fitted, tmp_path, capsys):
    from napari_tweedie.cli import main

    out = tmp_path / "model.zip"
    assert main(["export", str(fitted["filter2noise"]), str(out)]) == 0
    assert BioimageioModel(out).weight_format == "torchscript"
    capsys.readouterr()
    assert main(["export", str(tmp_path / "missing.safetensors"), str(tmp_path / "m.zip")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "no model file" in error
    not_a_model = tmp_path / "plain.safetensors"
    not_a_model.write_bytes(b"not a model")
    assert main(["export", str(not_a_model), str(tmp_path / "m.zip")]) == 2
    assert "not a model saved by napari-tweedie" in capsys.readouterr().err
    assert not (tmp_path / "m.zip").exists()


# -- helpers: edit a package the way an attacker or another exporter would --------------------


def _weights_file(package: Path, weights: str) -> str:
    with zipfile.ZipFile(package) as archive:
        rdf = archive.read("rdf.yaml").decode()
    block = rdf.split(f"  {weights}:\n", 1)[1]
    return re.search(r"source: (\S+)", block)[1]


def _replace_file(package: Path, name: str, data: bytes, out: Path) -> Path:
    """A copy of ``package`` with file ``name`` replaced by ``data`` (its sha256 updated)."""
    with zipfile.ZipFile(package) as archive:
        files = {n: archive.read(n) for n in archive.namelist()}
    old, new = (hashlib.sha256(files[name]).hexdigest(), hashlib.sha256(data).hexdigest())
    files[name] = data
    files["rdf.yaml"] = files["rdf.yaml"].replace(old.encode(), new.encode())
    with zipfile.ZipFile(out, "w") as archive:
        for n, content in files.items():
            archive.writestr(n, content)
    return out


def _without_torchscript(package: Path) -> Path:
    """A copy of ``package`` whose only weights are the pytorch_state_dict."""
    out = package.with_name(package.stem + "-state-dict.zip")
    if out.exists():
        return out
    with zipfile.ZipFile(package) as archive:
        files = {n: archive.read(n) for n in archive.namelist()}
    rdf = files["rdf.yaml"].decode()
    head, tail = rdf.split("  torchscript:\n", 1)
    rest = re.split(r"\n(?=\S)", tail, maxsplit=1)
    files["rdf.yaml"] = (head.rstrip("\n") + "\n" + (rest[1] if len(rest) > 1 else "")).encode()
    files.pop(_weights_file(package, "torchscript"))
    with zipfile.ZipFile(out, "w") as archive:
        for n, content in files.items():
            archive.writestr(n, content)
    return out


def test_zoo_denoiser_runs_on_the_resolved_device(zoo_package, monkeypatch):
    import napari_tweedie.bioimageio.runner as runner

    opened = []

    class Recording(runner.BioimageioModel):
        def __init__(self, source, **kwargs):
            opened.append(kwargs["device"])
            super().__init__(source, **kwargs)

    monkeypatch.setattr(runner, "BioimageioModel", Recording)
    noisy = 0.5 + 0.05 * np.random.default_rng(1).standard_normal((40, 40)).astype(np.float32)
    auto = nt.denoise(noisy, "bioimageio", model=zoo_package, device="auto")
    cpu = nt.denoise(noisy, "bioimageio", model=zoo_package, device="cpu")
    assert opened == ["cpu", "cpu"]  # "auto" resolved (CPU on this machine), not passed raw
    np.testing.assert_array_equal(auto, cpu)
    assert np.std(auto) < np.std(noisy)
    with pytest.raises(ValueError, match="device must be"):
        nt.denoise(noisy, "bioimageio", model=zoo_package, device="gpu")
    with pytest.raises(ValueError, match="device must be"):
        nt.denoise_lazy(noisy, "bioimageio", model=zoo_package, device="cuda:x")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="not available on this machine"):
            nt.denoise(noisy, "bioimageio", model=zoo_package, device="cuda:3")
