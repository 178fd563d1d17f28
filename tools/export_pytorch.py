#!/usr/bin/env python3
"""Save a PyTorch nn.RNN, or a module containing one, as a safetensors file
that `elman run --weights` and elman_rnn_load() read.

Needs only torch (not the `safetensors` package): the format is an 8-byte
little-endian header length, a JSON header, and the raw little-endian
tensor bytes, written here directly.

The file holds the module's whole state_dict() under its own names, so an
RNN inside a module keeps its prefix (e.g. "rnn.weight_ih_l0"; elman finds
it, or give `--prefix rnn.`), plus "__metadata__" with what the tensors
cannot say: "nonlinearity" ("tanh"/"relu") and "batch_first"
("true"/"false"), and, for checking, "input_size", "hidden_size",
"num_layers", "bias" and "bidirectional".

From Python:

    import export_pytorch                      # tools/ on sys.path
    export_pytorch.export(model, "model.safetensors")

From the shell, with a module saved by torch.save(model) (its class must be
importable) or a state_dict saved by torch.save(model.state_dict()):

    python3 tools/export_pytorch.py model.pt model.safetensors
    python3 tools/export_pytorch.py weights.pt model.safetensors \\
        --nonlinearity relu --batch-first        # a state_dict has no metadata
"""

import argparse
import json
import os
import sys
import tempfile

import torch

DTYPES = {
    torch.float32: "F32",
    torch.float64: "F64",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.int16: "I16",
    torch.int8: "I8",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}

CASTS = {"float32": torch.float32, "float64": torch.float64,
         "float16": torch.float16, "bfloat16": torch.bfloat16}


def _bool(v):
    return "true" if v else "false"


def find_rnn(module, prefix=None):
    """Return (prefix, rnn): the nn.RNN `module` is or contains. `prefix`
    ("rnn." or "rnn") picks one submodule when there are several."""
    if isinstance(module, torch.nn.RNN):
        if prefix:
            raise ValueError("the module is an nn.RNN itself: it has no prefix")
        return "", module
    found = [(name, m) for name, m in module.named_modules()
             if isinstance(m, torch.nn.RNN)]
    if prefix:
        want = prefix[:-1] if prefix.endswith(".") else prefix
        found = [(n, m) for n, m in found if n == want]
    if len(found) != 1:
        names = ", ".join(n for n, _ in found) or "none"
        raise ValueError("expected exactly one nn.RNN in the module, found: " + names)
    name, rnn = found[0]
    return name + ".", rnn


def rnn_metadata(rnn):
    """The metadata elman reads (nonlinearity, batch_first) and checks."""
    if getattr(rnn, "proj_size", 0):
        raise ValueError("proj_size is not an nn.RNN feature elman supports")
    return {
        "nonlinearity": rnn.nonlinearity,
        "batch_first": _bool(rnn.batch_first),
        "input_size": str(rnn.input_size),
        "hidden_size": str(rnn.hidden_size),
        "num_layers": str(rnn.num_layers),
        "bias": _bool(rnn.bias),
        "bidirectional": _bool(rnn.bidirectional),
    }


def _tensor_bytes(t):
    t = t.detach().to("cpu").contiguous()
    if t.dtype not in DTYPES:
        raise ValueError("dtype %s cannot be saved" % t.dtype)
    flat = t.reshape(-1)
    if flat.numel() == 0:
        return b""
    if t.dtype == torch.bool:
        flat = flat.to(torch.uint8)
    return flat.view(torch.uint8).numpy().tobytes()


def write_safetensors(path, tensors, metadata=None):
    """Write {name: tensor} and a {str: str} metadata map as safetensors.
    The file appears complete or not at all (temporary file, then rename)."""
    if sys.byteorder != "little":
        raise RuntimeError("this writer needs a little-endian machine")
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name in sorted(tensors):
        t = tensors[name]
        data = _tensor_bytes(t)
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)  # data starts 8-byte aligned
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".export-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(len(text).to_bytes(8, "little"))
            f.write(text)
            for b in blobs:
                f.write(b)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def export(module, path, prefix=None, dtype=None, metadata=None):
    """Save `module` (an nn.RNN or a module containing one) to `path`.
    dtype: None to keep the tensors' dtypes, or "float32", "float64",
    "float16", "bfloat16" to cast every floating-point tensor. metadata:
    extra {str: str} entries. Returns the RNN's prefix ("" for none)."""
    pfx, rnn = find_rnn(module, prefix)
    state = module.state_dict()
    if dtype is not None:
        cast = CASTS[dtype]
        state = {k: (v.to(cast) if v.is_floating_point() else v)
                 for k, v in state.items()}
    meta = {"format": "pt"}
    meta.update(rnn_metadata(rnn))
    if metadata:
        meta.update(metadata)
    write_safetensors(path, state, meta)
    return pfx


def _load(path):
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except TypeError:  # torch before 1.13 has no weights_only
        return torch.load(path, map_location="cpu")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model", help="torch.save()d module or state_dict (.pt)")
    p.add_argument("output", help="the .safetensors file to write")
    p.add_argument("--prefix", help="which nn.RNN, when the module holds several")
    p.add_argument("--dtype", choices=sorted(CASTS), help="cast floating-point tensors")
    p.add_argument("--nonlinearity", choices=["tanh", "relu"],
                   help="metadata for a state_dict (a module knows its own)")
    p.add_argument("--batch-first", action="store_true",
                   help="metadata for a state_dict: the model is batch_first")
    args = p.parse_args(argv)
    obj = _load(args.model)
    try:
        if isinstance(obj, torch.nn.Module):
            meta = {}
            if args.nonlinearity:
                meta["nonlinearity"] = args.nonlinearity
            if args.batch_first:
                meta["batch_first"] = "true"
            pfx = export(obj, args.output, args.prefix, args.dtype, meta)
        elif isinstance(obj, dict):
            state = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
            if args.dtype:
                state = {k: (v.to(CASTS[args.dtype]) if v.is_floating_point() else v)
                         for k, v in state.items()}
            meta = {"format": "pt", "nonlinearity": args.nonlinearity or "tanh",
                    "batch_first": _bool(args.batch_first)}
            write_safetensors(args.output, state, meta)
            pfx = args.prefix or ""
        else:
            raise ValueError("%s holds neither a module nor a state_dict" % args.model)
    except ValueError as e:
        print("export_pytorch: %s" % e, file=sys.stderr)
        return 1
    print("wrote %s (RNN prefix %r)" % (args.output, pfx))
    return 0


if __name__ == "__main__":
    sys.exit(main())
