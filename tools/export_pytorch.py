#!/usr/bin/python3
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

From the shell it is the command elman-export (installed next to elman;
tools/export_pytorch.py in the source tree), for a module saved by
torch.save(model) (its class must be importable) or a state_dict saved by
torch.save(model.state_dict()), which records neither the layout nor the
nonlinearity, so both must be given:

    elman-export model.pt model.safetensors
    elman-export weights.pt model.safetensors --nonlinearity relu --batch-first

From Python, with PYTHONPATH=<elman source>/tools (or, installed,
PYTHONPATH=/usr/share/elman/python):

    import export_pytorch
    export_pytorch.export(model, "model.safetensors")
"""

import argparse
import json
import os
import re
import sys
import tempfile

try:
    import torch
except ImportError:  # main() says so; --help works without torch
    torch = None

PROG = "elman-export"

# safetensors' name of each torch dtype it can hold (by torch's name, so
# that this module imports without torch).
DTYPES = {
    "float32": "F32", "float64": "F64", "float16": "F16", "bfloat16": "BF16",
    "int64": "I64", "int32": "I32", "int16": "I16", "int8": "I8", "uint8": "U8",
    "bool": "BOOL",
}

CASTS = ("bfloat16", "float16", "float32", "float64")


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


def _dtype_name(t):
    return str(t.dtype).replace("torch.", "")


def _cast(state, dtype):
    """state with every floating-point tensor cast to dtype (a CASTS name)."""
    if dtype is None:
        return state
    cast = getattr(torch, dtype)
    return {k: (v.to(cast) if v.is_floating_point() else v) for k, v in state.items()}


def _tensor_bytes(t):
    t = t.detach().to("cpu").contiguous()
    if _dtype_name(t) not in DTYPES:
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
        header[name] = {"dtype": DTYPES[_dtype_name(t)], "shape": list(t.shape),
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
    state = _cast(module.state_dict(), dtype)
    meta = {"format": "pt"}
    meta.update(rnn_metadata(rnn))
    if metadata:
        meta.update(metadata)
    write_safetensors(path, state, meta)
    return pfx


class ExportError(Exception):
    """A problem with the input, reported as one line without a traceback."""


def _what_is_missing(e):
    """The class or module that unpickling could not find, briefly."""
    if isinstance(e, ImportError) and e.name:
        return "no module named %r" % e.name
    m = re.match(r"Can't get attribute '([^']+)' on <module '([^']+)'", str(e))
    if m:
        return "no class %r in module %r" % (m.group(1), m.group(2))
    return str(e)


def _load(path):
    """torch.load() of a file holding a module or a state_dict, with the
    ways it commonly fails turned into ExportError."""
    try:
        try:
            return torch.load(path, map_location="cpu", weights_only=False)
        except TypeError:  # torch before 1.13 has no weights_only
            return torch.load(path, map_location="cpu")
    except OSError as e:
        raise ExportError("%s: %s" % (path, e.strerror or e))
    except (AttributeError, ImportError) as e:
        # torch.save(model) pickles the module's class by name only: loading
        # needs that class importable, e.g. a Net defined in a training
        # script's __main__.
        raise ExportError(
            "%s: holds a whole module whose class cannot be imported here (%s); "
            "save its state_dict instead (torch.save(model.state_dict(), path)) and give "
            "--batch-first or --seq-first and --nonlinearity, or make the class importable "
            "(PYTHONPATH), or call export_pytorch.export(model, path) from your own code"
            % (path, _what_is_missing(e)))
    except Exception as e:  # pickle, zip and torch's own errors
        raise ExportError("%s: not a file written by torch.save (%s)" % (path, e))


class UsageError(ExportError):
    """A bad command line (exit status 2)."""


# A state_dict holds tensors only: nothing in it says how the model was
# built, and a wrong guess runs without any error and gives wrong outputs.
_WHY = "a state_dict does not record it, and a wrong guess gives wrong outputs without any error"


def _state_dict_metadata(args):
    if args.layout is None:
        raise UsageError("a state_dict needs --batch-first or --seq-first: "
                         "was the model's input (batch, seq, feature) or (seq, batch, feature)? "
                         + _WHY)
    if args.nonlinearity is None:
        raise UsageError("a state_dict needs --nonlinearity tanh or relu: " + _WHY)
    return {"format": "pt", "nonlinearity": args.nonlinearity,
            "batch_first": _bool(args.layout == "batch")}


def _export_loaded(obj, args):
    """Export what torch.load() returned; returns the RNN's prefix."""
    if isinstance(obj, torch.nn.Module):
        meta = {}
        if args.nonlinearity:
            meta["nonlinearity"] = args.nonlinearity
        if args.layout is not None:
            meta["batch_first"] = _bool(args.layout == "batch")
        return export(obj, args.output, args.prefix, args.dtype, meta)
    if isinstance(obj, dict):
        meta = _state_dict_metadata(args)
        state = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
        if not state:
            raise ExportError("%s: the dictionary holds no tensors" % args.model)
        write_safetensors(args.output, _cast(state, args.dtype), meta)
        return args.prefix or ""
    raise ExportError("%s holds neither a module nor a state_dict but a %s"
                      % (args.model, type(obj).__name__))


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """"Usage:" as help2man (which makes the man page) expects it."""

    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "Usage: " if prefix is None else prefix)


_EPILOG = """\
A module saved whole knows its configuration. A state_dict records neither
the layout nor the nonlinearity: a wrong guess would run without any error
and give wrong outputs, so for a state_dict --batch-first or --seq-first and
--nonlinearity are required. A module whose class cannot be imported here
(a class defined in the training script) cannot be loaded: save its
state_dict instead, or call export_pytorch.export(model, path) in the script.

Exit status:
  0 written; 1 an unreadable or unusable input (one line on stderr, no output
  file); 2 a bad command line.

Examples:
  elman-export model.pt model.safetensors

  elman-export weights.pt model.safetensors --batch-first --nonlinearity tanh

  elman run --weights model.safetensors --input x.npy --output y.npy

Notes:
  Needs PyTorch (Debian: /usr/bin/python3 with python3-torch). torch.load()
  runs code from the file: export only files you trust.
"""


def _parser():
    p = argparse.ArgumentParser(
        prog=PROG, usage="%(prog)s [options] MODEL.pt OUTPUT.safetensors",
        description=__doc__.split("\n\n")[0],
        epilog=_EPILOG, formatter_class=_HelpFormatter)
    p._positionals.title = "Arguments"
    p._optionals.title = "Options"
    p.add_argument("model", metavar="MODEL.pt", help="a file written by torch.save(model) (an nn.RNN or a "
                   "module holding one) or by torch.save(model.state_dict())")
    p.add_argument("output", metavar="OUTPUT.safetensors", help="the .safetensors file to write")
    p.add_argument("--prefix", help="which nn.RNN, when the module holds several (e.g. rnn.)")
    p.add_argument("--dtype", choices=CASTS, help="cast floating-point tensors")
    p.add_argument("--nonlinearity", choices=["tanh", "relu"],
                   help="the RNN's nonlinearity; required for a state_dict (a module knows "
                        "its own, which this overrides)")
    layout = p.add_mutually_exclusive_group()
    layout.add_argument("--batch-first", dest="layout", action="store_const", const="batch",
                        help="the model takes (batch, seq, feature) input; for a state_dict "
                             "this or --seq-first is required")
    layout.add_argument("--seq-first", dest="layout", action="store_const", const="seq",
                        help="the model takes (seq, batch, feature) input (batch_first=False)")
    return p


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        if torch is None:
            raise ExportError("needs PyTorch, which this Python (%s) cannot import: on Debian "
                              "run /usr/bin/python3 after apt-get install python3-torch"
                              % sys.executable)
        pfx = _export_loaded(_load(args.model), args)
    except ExportError as e:
        print("%s: %s" % (PROG, e), file=sys.stderr)
        return 2 if isinstance(e, UsageError) else 1
    except ValueError as e:
        print("%s: %s: %s" % (PROG, args.model, e), file=sys.stderr)
        return 1
    print("wrote %s (RNN prefix %r)" % (args.output, pfx))
    return 0


if __name__ == "__main__":
    sys.exit(main())
