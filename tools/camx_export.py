#!/usr/bin/env python3
"""Save a PyTorch vision model as TorchScript for CAM Explorer, with optional metadata.

CAM Explorer opens any TorchScript file (``torch.jit.trace`` or ``torch.jit.script``) that maps an
N x 3 x H x W image batch to N x K logits. What it cannot read from the graph, it takes from an
optional JSON file stored inside the archive as the TorchScript extra file ``camx.json`` (it lands
at ``<archive>/extra/camx.json``). Every key is optional except ``format``:

    {
      "format": "camx-model/1",
      "class_names": ["tench", "goldfish", ...],   one name per logit
      "input_size": [224, 224],                    [height, width] in pixels (square)
      "mean": [0.485, 0.456, 0.406],               RGB, on 0..1 pixel values
      "std": [0.229, 0.224, 0.225],
      "layout": "auto",                            "auto" | "nchw" | "nhwc": how 4-D layer outputs
                                                   are laid out (torchvision's Swin is nhwc)
      "prefix_tokens": 1,                          transformers: tokens before the patch grid
                                                   (the class token; 2 for distilled DeiT)
      "patch_grid": [14, 14]                       transformers: the token grid [h, w]
    }

Without this script, two lines do the same:

    m = torch.jit.trace(model.eval(), torch.rand(1, 3, 224, 224))
    m.save("m.pt", _extra_files={"camx.json": json.dumps({"format": "camx-model/1", ...})})

Trace with autograd enabled (as both do): under ``torch.no_grad()`` the trace can record inference
fast paths (such as nn.MultiheadAttention's) that CAM Explorer cannot differentiate through.

Command line:

    camx_export.py show m.pt
    camx_export.py set m.pt --class-names names.txt --input-size 224 224 --layout nhwc ...
    camx_export.py torchvision resnet50 out.pt [--weights DEFAULT]
"""
import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import zipfile

import torch

FORMAT = "camx-model/1"
EXTRA_FILE = "camx.json"
LAYOUTS = ("auto", "nchw", "nhwc")
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
KEYS = ("format", "class_names", "input_size", "mean", "std", "layout", "prefix_tokens",
        "patch_grid")


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _int_pair(key, v, lo, hi):
    if _is_int(v):
        v = [v, v]
    if (not isinstance(v, (list, tuple)) or len(v) != 2
            or not all(_is_int(x) and lo <= x <= hi for x in v)):
        raise ValueError(f"{key} must be two integers [height, width] from {lo} to {hi}, "
                         f"got {v!r}")
    return [int(x) for x in v]


def _float3(key, v, positive=False):
    ok = isinstance(v, (list, tuple)) and len(v) == 3 and all(
        isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
        and abs(x) <= 1e4 for x in v)
    if not ok or (positive and min(v) <= 0):
        what = "three positive numbers" if positive else "three numbers"
        raise ValueError(f"{key} must be {what} (R, G, B) on 0..1 pixel values, got {v!r}")
    return [float(x) for x in v]


def validate(meta, allow_unknown=False):
    """Return a checked, normalised copy of ``meta``; raise ValueError on anything invalid.

    The limits are CAM Explorer's: a square input size of 8 to 4096 pixels, at most 64 prefix
    tokens. CAM Explorer ignores keys it does not know (a later format may add some); here they
    are an error (most likely a typo) unless ``allow_unknown``, which keeps them as they are.
    """
    if not isinstance(meta, dict):
        raise ValueError("the metadata must be a JSON object")
    unknown = [k for k in meta if k not in KEYS]
    if unknown and not allow_unknown:
        raise ValueError(f"unknown metadata key(s): {', '.join(sorted(unknown))} "
                         f"(known: {', '.join(KEYS)})")
    out = {"format": meta.get("format", FORMAT)}
    if out["format"] != FORMAT:
        raise ValueError(f"format must be {FORMAT!r}, got {out['format']!r}")
    names = meta.get("class_names")
    if names is not None:
        if (not isinstance(names, (list, tuple)) or not names
                or not all(isinstance(n, str) for n in names)):
            raise ValueError("class_names must be a non-empty list of strings")
        out["class_names"] = list(names)
    if meta.get("input_size") is not None:
        out["input_size"] = _int_pair("input_size", meta["input_size"], 8, 4096)
        if out["input_size"][0] != out["input_size"][1]:
            raise ValueError(f"input_size must be square (CAM Explorer feeds square images), "
                             f"got {out['input_size']}")
    if meta.get("mean") is not None:
        out["mean"] = _float3("mean", meta["mean"])
    if meta.get("std") is not None:
        out["std"] = _float3("std", meta["std"], positive=True)
    layout = meta.get("layout")
    if layout is not None:
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
        out["layout"] = layout
    prefix = meta.get("prefix_tokens")
    if prefix is not None:
        if not _is_int(prefix) or not 0 <= prefix <= 64:
            raise ValueError(f"prefix_tokens must be an integer from 0 to 64, got {prefix!r}")
        out["prefix_tokens"] = prefix
    if meta.get("patch_grid") is not None:
        out["patch_grid"] = _int_pair("patch_grid", meta["patch_grid"], 1, 1024)
    out.update((k, meta[k]) for k in unknown)
    return out


def _save_atomic(module, path, extra_files):
    """torch.jit.save to a temporary file next to ``path``, then rename it over ``path``.

    The temporary file has the same base name (in a private folder), so the archive's top-level
    folder inside the zip is the one a direct save would have written.
    """
    path = os.path.abspath(path)
    tmp_dir = tempfile.mkdtemp(prefix=".camx-", dir=os.path.dirname(path))
    try:
        tmp = os.path.join(tmp_dir, os.path.basename(path))
        torch.jit.save(module, tmp, _extra_files=extra_files)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


def _meta_json(meta, allow_unknown=False):
    return json.dumps(validate(meta, allow_unknown), indent=2) + "\n"


def export(model, path, example=None, *, method="trace", class_names=None, input_size=None,
           mean=None, std=None, layout=None, prefix_tokens=None, patch_grid=None):
    """Save ``model`` (an nn.Module) as TorchScript at ``path`` with a camx.json extra file.

    ``method`` is "trace" (with ``example``, by default a seeded random 1 x 3 x H x W batch of the
    input size, 224 x 224 when none is given) or "script" (``example``, when given, is only used to
    check the number of class names). Returns the TorchScript module.
    """
    meta = validate({"class_names": class_names, "input_size": input_size, "mean": mean,
                     "std": std, "layout": layout, "prefix_tokens": prefix_tokens,
                     "patch_grid": patch_grid})
    model = model.eval()
    got = None
    if method == "trace":
        if example is None:
            h, w = meta.get("input_size", [224, 224])
            example = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(0))
        # torch.jit.trace's own check re-runs the model under no_grad, where inference fast paths
        # (nn.MultiheadAttention's) make the graphs differ; compare the outputs instead.
        with torch.enable_grad():
            module = torch.jit.trace(model, example, check_trace=False)
            expected, got = model(example), module(example)
        if isinstance(expected, torch.Tensor) and not torch.allclose(got, expected, 1e-4, 1e-5):
            raise RuntimeError("the traced model does not reproduce the model's output; "
                               "try method='script'")
    elif method == "script":
        module = torch.jit.script(model)
        if example is not None:
            with torch.no_grad():
                got = module(example)
    else:
        raise ValueError(f"method must be 'trace' or 'script', got {method!r}")
    names = meta.get("class_names")
    if names and isinstance(got, torch.Tensor) and got.dim() == 2 and got.shape[1] != len(names):
        raise ValueError(f"the model gives {got.shape[1]} logits but there are {len(names)} "
                         f"class names")
    _save_atomic(module, path, {EXTRA_FILE: _meta_json(meta)})
    return module


def read_metadata(path):
    """The camx.json metadata of a TorchScript file as a dict, or None when it has none."""
    extra = {EXTRA_FILE: ""}
    torch.jit.load(path, map_location="cpu", _extra_files=extra)
    text = extra[EXTRA_FILE]
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return json.loads(text) if text else None


def write_metadata(path, meta, allow_unknown=False):
    """Replace the camx.json metadata of a TorchScript file (other extra files are kept)."""
    text = _meta_json(meta, allow_unknown)
    with zipfile.ZipFile(path) as z:
        names = [n.split("/extra/", 1)[1] for n in z.namelist() if "/extra/" in n]
    extra = {n: "" for n in names if n != EXTRA_FILE}
    module = torch.jit.load(path, map_location="cpu", _extra_files=extra)
    extra[EXTRA_FILE] = text
    _save_atomic(module, path, extra)


def _torchvision(name, out, weights, method):
    import torchvision
    models = torchvision.models
    if hasattr(models, "get_model"):
        builder = models.get_model_builder(name)
    else:
        builder = models.__dict__.get(name)
        if not callable(builder) or name.startswith("_"):
            raise SystemExit(f"unknown torchvision model {name!r}")
    if weights is not None and hasattr(models, "get_model_weights"):
        weights = models.get_model_weights(builder).verify(weights)
    model = builder(weights=weights)
    meta = {"input_size": [224, 224], "mean": IMAGENET_MEAN, "std": IMAGENET_STD}
    if weights is not None and not isinstance(weights, str):
        meta["class_names"] = list(weights.meta["categories"])
        preset = weights.transforms()
        crop = list(preset.crop_size)
        meta["input_size"] = crop * 2 if len(crop) == 1 else crop
        meta["mean"], meta["std"] = list(preset.mean), list(preset.std)
    if name.startswith("vit_"):
        side = model.image_size // model.patch_size
        meta.update(prefix_tokens=1, patch_grid=[side, side], input_size=[model.image_size] * 2)
    elif name.startswith("swin_"):
        meta["layout"] = "nhwc"
    export(model, out, method=method, **meta)
    print(f"wrote {out}")
    if weights is None:
        linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
        if linears and not linears[-1].weight.detach().any():
            print("warning: random weights, and the classifier's weights are all zero (as "
                  "torchvision initialises this model): every class score is constant, so every "
                  "map will be blank; pass --weights for a real model", file=sys.stderr)
    print(_meta_json(meta), end="")


def _read_names(path):
    with open(path, encoding="utf-8") as f:
        names = [line.rstrip("\r\n") for line in f]
    while names and not names[-1].strip():
        names.pop()
    return names


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    show = sub.add_parser("show", help="print a TorchScript file's camx.json")
    show.add_argument("model")
    st = sub.add_parser("set", help="add or change camx.json entries of a TorchScript file")
    st.add_argument("model")
    st.add_argument("--class-names", metavar="FILE", help="a text file, one name per line")
    st.add_argument("--input-size", nargs=2, type=int, metavar=("H", "W"))
    st.add_argument("--mean", nargs=3, type=float, metavar=("R", "G", "B"))
    st.add_argument("--std", nargs=3, type=float, metavar=("R", "G", "B"))
    st.add_argument("--layout", choices=LAYOUTS)
    st.add_argument("--prefix-tokens", type=int, metavar="N")
    st.add_argument("--patch-grid", nargs=2, type=int, metavar=("H", "W"))
    st.add_argument("--unset", nargs="+", default=[], metavar="KEY", choices=KEYS[1:],
                    help="remove these keys")
    tv = sub.add_parser("torchvision", help="export a torchvision classification model")
    tv.add_argument("name", help="e.g. resnet50, densenet121, vit_b_16, swin_t")
    tv.add_argument("out")
    tv.add_argument("--weights", help="e.g. DEFAULT or IMAGENET1K_V1 (default: random weights)")
    tv.add_argument("--method", choices=("trace", "script"), default="trace")
    args = p.parse_args(argv)

    try:
        if args.command == "show":
            meta = read_metadata(args.model)
            if meta is None:
                print(f"{args.model}: no {EXTRA_FILE}")
                return 1
            print(json.dumps(meta, indent=2))
            validate(meta, allow_unknown=True)
        elif args.command == "set":
            meta = read_metadata(args.model) or {"format": FORMAT}
            for key in args.unset:
                meta.pop(key, None)
            if args.class_names:
                meta["class_names"] = _read_names(args.class_names)
            for key in ("input_size", "mean", "std", "layout", "prefix_tokens", "patch_grid"):
                if getattr(args, key) is not None:
                    meta[key] = getattr(args, key)
            write_metadata(args.model, meta, allow_unknown=True)
            print(_meta_json(meta, allow_unknown=True), end="")
        else:
            _torchvision(args.name, args.out, args.weights, args.method)
    except (ValueError, OSError, RuntimeError) as e:
        print(f"camx_export: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
