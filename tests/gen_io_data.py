#!/usr/bin/python3
"""Generate the test data of elman_io and the elman tool from PyTorch.

Run from anywhere with the system python that has torch:

    /usr/bin/python3 tests/gen_io_data.py      # (re)writes tests/data/io/

Writes, in tests/data/io/:

  cases.txt     one round-trip case per line:
                    NAME PREFIX NONLINEARITY LAYOUT H0 LENGTHS
                PREFIX is the --prefix to give ("-": none, detected),
                NONLINEARITY "tanh"/"relu" to give as --nonlinearity ("-":
                from the metadata), LAYOUT "bf"/"sf" for --batch-first /
                --seq-first ("-": metadata), H0 and LENGTHS 1 if the case has
                NAME.h0.npy / NAME.lengths.npy.
  NAME.safetensors  the model, written by tools/export_pytorch.py
  NAME.x.npy        the input (float32 or float64)
  NAME.h0.npy, NAME.lengths.npy   optional
  NAME.y.npy, NAME.hn.npy         PyTorch's output and h_n: float32, or
                                  float64 for a float64 model
  NAME.y64.npy, NAME.hn64.npy     for some cases: PyTorch's float64 model
                                  (the weights as stored, converted to
                                  double), what `--dtype float64` must give
                                  to 1e-10
  bad/          malformed and inconsistent files for the bad-input tests
                (tests/test_model_load.c and tests/test_cli.sh say what each
                must produce).

and, for the options beyond nn.RNN (tests/test_cli.sh):

  ext_*.safetensors, .x.npy, .h0.npy, .h0t.npy (h0 as (B, L*D, H)),
  .lengths.npy      the models and inputs of the cases below
  opt_cases.txt     one case per line: NAME ARG...; the arguments of
                    `elman run` without --output, --hn and --dtype, "@" in
                    front of a file of this directory
  opt/NAME.y.npy, opt/NAME.hn.npy   the expected Y and HN, float64: from
                    PyTorch's float64 model where nn.RNN has the feature,
                    else from ref_rnn() below, a float64 reference written
                    from the definition (ONNX's activations and clip,
                    reverse, one bias), itself checked against PyTorch
                    where the two overlap
  det.txt           MODEL K LEN POS YAXIS T per line, for the bitwise tests of
                    --deterministic: sequence K (of length LEN) of MODEL's
                    batch is alone in MODEL.one.x.npy (with MODEL.one.h0.npy),
                    at position POS of the permuted batch MODEL.perm.*.npy;
                    MODEL.pad.x.npy is X padded with 3 more random steps;
                    YAXIS is the batch axis of X and Y, T their seq_len

Deterministic: each case seeds torch with crc32 of its name, torch runs
single-threaded, files are written with explicit little-endian dtypes.
"""

import json
import os
import pickle
import shutil
import struct
import sys
import zlib

import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import export_pytorch  # noqa: E402

OUT = os.path.join(HERE, "data", "io")
BAD = os.path.join(OUT, "bad")
TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64,
                "float16": torch.float16, "bfloat16": torch.bfloat16}


class Holder(torch.nn.Module):
    """A module with an RNN at `path` ("rnn" or "encoder.rnn") and other
    parameters and buffers around it, as a real model has."""

    def __init__(self, rnn, path):
        super().__init__()
        self.fc = torch.nn.Linear(rnn.hidden_size, 2)
        self.norm = torch.nn.BatchNorm1d(3)  # has an int64 buffer
        if path == "rnn":
            self.rnn = rnn
        else:
            outer, inner = path.split(".")
            sub = torch.nn.Module()
            setattr(sub, inner, rnn)
            setattr(self, outer, sub)


def case(name, I, H, L=1, nl="tanh", bias=True, bf=False, bi=False, B=2, T=4,
         unbatched=False, lengths=None, lengths_dtype=np.int64, h0=False,
         dtype="float32", x_dtype=np.float32, container=None, prefix_arg="-",
         nl_arg="-", layout_arg="-", metadata=True, meta_nl=None, meta_bf=None,
         ref64=False, single_bias=False):
    torch.manual_seed(zlib.crc32(name.encode()))
    D = 2 if bi else 1
    saved_nl = meta_nl if meta_nl is not None else nl
    saved_bf = meta_bf if meta_bf is not None else bf
    rnn = torch.nn.RNN(I, H, L, nonlinearity=saved_nl, bias=bias, batch_first=saved_bf,
                       bidirectional=bi)
    module = rnn if container is None else Holder(rnn, container)
    path = os.path.join(OUT, name + ".safetensors")
    if single_bias:
        # One bias (TFLite, Keras, oneDNN): bias_ih only. PyTorch's twin has
        # bias_hh = 0.
        with torch.no_grad():
            for k, v in rnn.named_parameters():
                if k.startswith("bias_hh"):
                    v.zero_()
        state = {k: v.to(TORCH_DTYPES[dtype]) for k, v in module.state_dict().items()
                 if "bias_hh" not in k}
        meta = {"format": "pt"}
        meta.update(export_pytorch.rnn_metadata(rnn))
        export_pytorch.write_safetensors(path, state, meta)
    elif metadata:
        export_pytorch.export(module, path, dtype=dtype)
    else:
        state = {k: (v.to(TORCH_DTYPES[dtype]) if v.is_floating_point() else v)
                 for k, v in module.state_dict().items()}
        export_pytorch.write_safetensors(path, state, None)

    # The reference: the weights as stored (rounded to dtype), run by
    # PyTorch in float32, or float64 for a float64 model.
    def reference(cdt):
        ref = torch.nn.RNN(I, H, L, nonlinearity=nl, bias=bias, batch_first=bf,
                           bidirectional=bi).to(cdt)
        ref.load_state_dict({k: v.to(TORCH_DTYPES[dtype]).to(cdt)
                             for k, v in rnn.state_dict().items()})
        return ref.eval()
    cdt = torch.float64 if dtype == "float64" else torch.float32
    ref = reference(cdt)

    if unbatched:
        shape = (T, I)
    else:
        shape = (B, T, I) if bf else (T, B, I)
    x = torch.randn(*shape, dtype=torch.float64).numpy().astype(x_dtype)
    np.save(os.path.join(OUT, name + ".x.npy"), x.astype(x.dtype.newbyteorder("<")))
    h0a = None
    if h0:
        hshape = (L * D, H) if unbatched else (L * D, B, H)
        h0a = torch.randn(*hshape, dtype=torch.float64).numpy().astype(np.float32)
        np.save(os.path.join(OUT, name + ".h0.npy"), h0a.astype("<f4"))
    if lengths is not None:
        la = np.array(lengths, dtype=lengths_dtype)
        np.save(os.path.join(OUT, name + ".lengths.npy"), la.astype(la.dtype.newbyteorder("<")))

    def run(ref, cdt):
        xt = torch.from_numpy(x).to(cdt)
        h0t = None if h0a is None else torch.from_numpy(h0a).to(cdt)
        with torch.no_grad():
            if lengths is None:
                return ref(xt, h0t)
            packed = pack_padded_sequence(xt, torch.tensor(lengths), batch_first=bf,
                                          enforce_sorted=False)
            y, hn = ref(packed, h0t)
            y, _ = pad_packed_sequence(y, batch_first=bf, total_length=T)
            return y, hn
    y, hn = run(ref, cdt)
    ydt = "<f8" if dtype == "float64" else "<f4"
    np.save(os.path.join(OUT, name + ".y.npy"), y.numpy().astype(ydt))
    np.save(os.path.join(OUT, name + ".hn.npy"), hn.numpy().astype(ydt))
    if ref64:
        y, hn = run(reference(torch.float64), torch.float64)
        np.save(os.path.join(OUT, name + ".y64.npy"), y.numpy().astype("<f8"))
        np.save(os.path.join(OUT, name + ".hn64.npy"), hn.numpy().astype("<f8"))
    return "%s %s %s %s %d %d" % (name, prefix_arg, nl_arg, layout_arg, int(h0),
                                  int(lengths is not None))


def build_cases():
    return [
        case("basic", 3, 4, ref64=True),
        case("meta_relu_bf_h0_len", 2, 5, nl="relu", bf=True, B=3, T=4, h0=True,
             lengths=[4, 2, 3], ref64=True),
        case("prefix_given", 3, 4, L=2, bi=True, container="rnn", prefix_arg="rnn."),
        case("prefix_detected", 3, 4, L=2, bias=False, container="rnn", h0=True),
        case("prefix_nodot", 2, 3, container="encoder.rnn", prefix_arg="encoder.rnn",
             bf=True),
        case("f64_model", 3, 5, L=2, bi=True, dtype="float64", x_dtype=np.float64, B=3,
             h0=True, lengths=[1, 4, 3], ref64=True),
        case("f16_model", 4, 6, L=2, nl="relu", dtype="float16", ref64=True),
        case("bf16_model", 4, 6, bi=True, dtype="bfloat16", bf=True, ref64=True),
        case("l3_bi_nobias_h0_len", 3, 4, L=3, bi=True, bias=False, B=3, T=5, h0=True,
             lengths=[5, 1, 3], ref64=True),
        case("unbatched_h0", 3, 4, L=2, bi=True, unbatched=True, h0=True, B=1, T=5,
             ref64=True),
        case("unbatched_bf_relu", 2, 3, nl="relu", bf=True, unbatched=True, B=1, T=3),
        case("override_flags", 3, 4, L=2, nl="relu", bf=True, meta_nl="tanh",
             meta_bf=False, nl_arg="relu", layout_arg="bf", lengths=[2, 4]),
        case("override_seq_first", 3, 4, bf=False, meta_bf=True, layout_arg="sf", h0=True),
        case("no_metadata", 3, 4, L=2, metadata=False),
        case("x_float64", 3, 4, bi=True, x_dtype=np.float64),
        case("lengths_int32", 2, 4, bf=True, B=3, T=6, lengths=[6, 3, 1],
             lengths_dtype=np.int32),
        case("flags_same_as_meta", 3, 4, nl_arg="tanh", layout_arg="sf"),
        case("wide", 16, 32, L=2, bi=True, B=3, T=6, h0=True, lengths=[6, 5, 2], ref64=True),
        case("single_bias", 3, 4, L=2, bi=True, B=3, T=5, h0=True, lengths=[5, 2, 4],
             single_bias=True, ref64=True),
        case("single_bias_f16_relu_bf", 2, 5, nl="relu", bf=True, B=2, T=4, dtype="float16",
             single_bias=True, ref64=True),
    ]


# ---- malformed files ----

def st_bytes(header, data=b"", length=None):
    text = json.dumps(header).encode() if not isinstance(header, bytes) else header
    n = len(text) if length is None else length
    return struct.pack("<Q", n) + text + data


def good_rnn_tensors(I=3, H=4, L=2, bi=False, bias=True):
    out = {}
    for l in range(L):
        for d in range(2 if bi else 1):
            sfx = "_l%d%s" % (l, "_reverse" if d else "")
            inp = I if l == 0 else (2 if bi else 1) * H
            out["weight_ih" + sfx] = np.full((H, inp), 0.1, np.float32)
            out["weight_hh" + sfx] = np.full((H, H), 0.1, np.float32)
            if bias:
                out["bias_ih" + sfx] = np.zeros(H, np.float32)
                out["bias_hh" + sfx] = np.zeros(H, np.float32)
    return out


def st_from(tensors, metadata=None, dtype_override=None):
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        a = tensors[name]
        b = a.astype(a.dtype.newbyteorder("<")).tobytes()
        dt = {"float32": "F32", "int32": "I32", "float64": "F64"}[a.dtype.name]
        if dtype_override and name in dtype_override:
            dt = dtype_override[name]
        header[name] = {"dtype": dt, "shape": list(a.shape),
                        "data_offsets": [len(data), len(data) + len(b)]}
        data += b
    return st_bytes(header, data)


def npy_raw(header_text, data, version=(1, 0), hlen=None):
    h = header_text.encode("latin1")
    h += b" " * ((64 - (10 + len(h) + 1) % 64) % 64) + b"\n"
    n = len(h) if hlen is None else hlen
    if version == (1, 0):
        pre = b"\x93NUMPY\x01\x00" + struct.pack("<H", n)
    else:
        pre = b"\x93NUMPY" + bytes(version) + struct.pack("<I", n)
    return pre + h + data


def write_bad():
    os.makedirs(BAD, exist_ok=True)
    files = {}
    good = st_from(good_rnn_tensors())
    files["st_truncated.safetensors"] = good[: len(good) - 20]
    files["st_short.safetensors"] = b"\x10\x00\x00"
    files["st_empty.safetensors"] = b""
    files["st_header_beyond_file.safetensors"] = struct.pack("<Q", 5000) + good[8:200]
    files["st_header_absurd.safetensors"] = struct.pack("<Q", 1 << 62) + good[8:]
    files["st_invalid_json.safetensors"] = st_bytes(b'{"weight_ih_l0": {"dtype": "F32",,}}')
    files["st_not_object.safetensors"] = st_bytes(b"[1, 2, 3]")
    files["st_trailing_garbage_header.safetensors"] = st_bytes(b'{} xx')
    hdr = {"weight_ih_l0": {"dtype": "F32", "shape": [4, 3], "data_offsets": [0, 48]},
           "weight_hh_l0": {"dtype": "F32", "shape": [4, 4], "data_offsets": [48, 112]}}
    bad = json.loads(json.dumps(hdr))
    bad["weight_hh_l0"]["data_offsets"] = [48, 4000]
    files["st_offsets_out_of_range.safetensors"] = st_bytes(bad, bytes(112))
    bad = json.loads(json.dumps(hdr))
    bad["weight_hh_l0"]["data_offsets"] = [40, 104]
    files["st_offsets_overlap.safetensors"] = st_bytes(bad, bytes(112))
    bad = json.loads(json.dumps(hdr))
    bad["weight_hh_l0"]["shape"] = [4, 5]
    files["st_offsets_mismatch_shape.safetensors"] = st_bytes(bad, bytes(112))
    files["st_data_gap.safetensors"] = st_bytes(hdr, bytes(120))
    t = good_rnn_tensors()
    del t["bias_hh_l0"]
    files["st_missing_tensor.safetensors"] = st_from(t)
    t = good_rnn_tensors(L=3)
    for k in [k for k in t if k.endswith("_l1")]:
        del t[k]
    files["st_layer_gap.safetensors"] = st_from(t)
    t = good_rnn_tensors()
    t["weight_hh_l1"] = np.zeros((4, 5), np.float32)
    files["st_wrong_shape.safetensors"] = st_from(t)
    t = good_rnn_tensors()
    t["weight_ih_l1"] = np.zeros((4, 5), np.float32)
    files["st_wrong_input_shape.safetensors"] = st_from(t)
    dup = (b'{"weight_ih_l0":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]},'
           b'"weight_ih_l0":{"dtype":"F32","shape":[1,1],"data_offsets":[4,8]},'
           b'"weight_hh_l0":{"dtype":"F32","shape":[1,1],"data_offsets":[8,12]}}')
    files["st_duplicate_name.safetensors"] = st_bytes(dup, bytes(12))
    t = good_rnn_tensors(L=1)
    t["weight_hh_l0"] = np.zeros((4, 4), np.int32)
    files["st_int_weights.safetensors"] = st_from(t)
    files["st_unknown_dtype.safetensors"] = st_from(good_rnn_tensors(L=1),
                                                    dtype_override={"bias_hh_l0": "Q7"})
    files["st_bad_nonlinearity.safetensors"] = st_from(good_rnn_tensors(L=1),
                                                       {"nonlinearity": "gelu"})
    files["st_bad_batch_first.safetensors"] = st_from(good_rnn_tensors(L=1),
                                                      {"batch_first": "maybe"})
    files["st_metadata_not_string.safetensors"] = st_from(good_rnn_tensors(L=1),
                                                          {"batch_first": True})
    files["st_metadata_contradicts.safetensors"] = st_from(good_rnn_tensors(L=1),
                                                           {"num_layers": "3"})
    files["st_no_rnn.safetensors"] = st_from({"fc.weight": np.zeros((2, 2), np.float32)})
    two = {}
    for p in ("enc.", "dec."):
        two.update({p + k: v for k, v in good_rnn_tensors(L=1).items()})
    files["st_two_rnns.safetensors"] = st_from(two)
    t = good_rnn_tensors(L=1)
    t["weight_ih_l0_reverse"] = t["weight_ih_l0"]
    files["st_half_reverse.safetensors"] = st_from(t)
    t = good_rnn_tensors(L=1)
    t["weight_hr_l0"] = np.zeros((4, 4), np.float32)
    files["st_lstm_projection.safetensors"] = st_from(t)
    t = good_rnn_tensors(bi=True)
    del t["bias_hh_l1_reverse"]
    files["st_mixed_bias.safetensors"] = st_from(t)  # one bias in one direction only

    x = np.zeros((4, 2, 3), "<f4")
    files["npy_bad_magic.npy"] = b"\x93NUMPZ\x01\x00" + npy_raw("{}", b"")[8:]
    files["npy_truncated.npy"] = npy_raw(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 2, 3), }", x.tobytes()[:50])
    files["npy_header_beyond_file.npy"] = npy_raw(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 2, 3), }", b"", hlen=60000)
    files["npy_big_endian.npy"] = npy_raw(
        "{'descr': '>f4', 'fortran_order': False, 'shape': (4, 2, 3), }",
        x.astype(">f4").tobytes())
    files["npy_fortran.npy"] = npy_raw(
        "{'descr': '<f4', 'fortran_order': True, 'shape': (4, 2, 3), }", x.tobytes())
    files["npy_object.npy"] = npy_raw(
        "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", bytes(16))
    files["npy_bad_version.npy"] = npy_raw(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 2, 3), }", x.tobytes(),
        version=(9, 0))
    files["npy_garbage_header.npy"] = npy_raw("{'descr': '<f4', 'shape': ((, }", x.tobytes())
    files["npy_extra_data.npy"] = npy_raw(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 2, 3), }", x.tobytes() + b"xxxx")
    files["npy_float16.npy"] = npy_raw(
        "{'descr': '<f2', 'fortran_order': False, 'shape': (4, 2, 3), }", bytes(48))

    def save(name, a):
        np.save(os.path.join(BAD, name), a)

    # Valid files that do not fit the model of basic.safetensors (I=3, H=4,
    # L=1, unidirectional) with basic.x.npy (T=4, B=2).
    save("x_wrong_input_size.npy", np.zeros((4, 2, 5), "<f4"))
    save("x_4d.npy", np.zeros((4, 2, 3, 1), "<f4"))
    save("x_1d.npy", np.zeros((3,), "<f4"))
    save("x_int32.npy", np.zeros((4, 2, 3), "<i4"))
    save("x_empty_batch.npy", np.zeros((4, 0, 3), "<f4"))
    save("h0_wrong_shape.npy", np.zeros((1, 3, 4), "<f4"))
    save("h0_2d_for_batched.npy", np.zeros((1, 4), "<f4"))
    save("h0_int64.npy", np.zeros((1, 2, 4), "<i8"))
    save("lengths_zero.npy", np.array([4, 0], "<i8"))
    save("lengths_too_long.npy", np.array([5, 2], "<i8"))
    save("lengths_negative.npy", np.array([-1, 2], "<i4"))
    save("lengths_float.npy", np.array([4.0, 2.0], "<f4"))
    save("lengths_wrong_count.npy", np.array([4, 2, 1], "<i8"))
    save("lengths_2d.npy", np.array([[4, 2]], "<i8"))
    save("lengths_huge.npy", np.array([4, 1 << 40], "<i8"))
    save("lengths_batch_first.npy", np.array([4, 1, 1, 1], "<i8"))  # X read as (B=4, T=2)
    strict_bad(files)
    for name, data in files.items():
        with open(os.path.join(BAD, name), "wb") as f:
            f.write(data)


def strict_bad(files):
    """Files that a loose reader would accept or misdescribe (issue 9)."""
    t = good_rnn_tensors(L=1)
    t["weight_ih_l0\x00junk"] = t.pop("weight_ih_l0")
    files["st_name_nul.safetensors"] = st_from(t)
    files["st_meta_nul.safetensors"] = st_from(good_rnn_tensors(L=1),
                                               {"nonlinearity": "relu\x00garbage"})
    files["st_meta_key_nul.safetensors"] = st_from(good_rnn_tensors(L=1),
                                                   {"batch_first\x00x": "true"})
    t = good_rnn_tensors(L=1)
    t["extraX"] = np.zeros(1, np.float32)
    files["st_name_bad_utf8.safetensors"] = st_from(t).replace(b'"extraX"', b'"extra\xff"')
    files["st_name_surrogate.safetensors"] = st_from(t).replace(b'"extraX"', b'"ext\xed\xa0\x80"')
    one = st_from(good_rnn_tensors(L=1))
    assert one.count(b'"shape": [4, 3]') == 1
    files["st_shape_float.safetensors"] = one.replace(b'"shape": [4, 3]', b'"shape": [4, 3.0]')
    files["st_shape_exponent.safetensors"] = one.replace(b'"shape": [4, 3]', b'"shape": [4, 3e0]')
    for name, dim in (("st_shape_2p61", 1 << 61), ("st_shape_2p53_plus1", (1 << 53) + 1)):
        hdr = {"weight_ih_l0": {"dtype": "F32", "shape": [dim], "data_offsets": [0, 4]}}
        files[name + ".safetensors"] = st_bytes(hdr, bytes(4))
    t = good_rnn_tensors(L=1)
    t.update({"rnn." + k: v for k, v in good_rnn_tensors(L=1).items()})
    files["st_prefixed_and_not.safetensors"] = st_from(t)
    x = np.zeros((4, 2, 3), "<f4")
    files["st_is_npy.safetensors"] = npy_raw(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 2, 3), }", x.tobytes())
    # The starts of a torch.save() zip (its local file header) and of a
    # legacy torch.save() pickle (protocol 2), as torch writes them.
    files["st_is_torch_zip.safetensors"] = (b"PK\x03\x04\x00\x00\x08\x08\x00\x00" +
                                            bytes(18) + b"archive/data.pkl" + bytes(32))
    files["st_is_pickle.safetensors"] = pickle.dumps({"weight_ih_l0": [0.5]}, protocol=2)
    files["st_is_onnx.safetensors"] = onnx_relu_model()
    for kind in ("GRU", "LSTM"):
        mod = getattr(torch.nn, kind)(3, 4)
        files["st_%s.safetensors" % kind.lower()] = st_from(
            {k: np.zeros(tuple(v.shape), np.float32) for k, v in mod.state_dict().items()})
    files["npy_is_safetensors.npy"] = one


def onnx_relu_model():
    """A one-node ONNX model, serialized (what `elman info model.onnx` sees)."""
    from onnx import TensorProto, helper
    vi = helper.make_tensor_value_info
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                              [vi("x", TensorProto.FLOAT, [1])],
                              [vi("y", TensorProto.FLOAT, [1])])
    return helper.make_model(graph, producer_name="gen_io_data").SerializeToString()


# ---- beyond nn.RNN: the options of `elman run` from issue 6 ----

F64 = torch.float64
# ONNX's defaults of alpha and beta.
ONNX_DEFAULTS = {"affine": (1.0, 0.0), "leakyrelu": (0.01, None),
                 "thresholdedrelu": (1.0, None), "scaledtanh": (1.0, 1.0),
                 "hardsigmoid": (0.2, 0.5), "elu": (1.0, None)}


def onnx_activation(spec, v):
    """ONNX RNN's activation "Name[:alpha[:beta]]" (any case) on a float64
    tensor, as ONNX's operator documentation defines it."""
    parts = spec.split(":")
    n = parts[0].lower()
    a, b = ONNX_DEFAULTS.get(n, (None, None))
    if len(parts) > 1:
        a = float(parts[1])
    if len(parts) > 2:
        b = float(parts[2])
    if n == "tanh":
        return torch.tanh(v)
    if n == "relu":
        return torch.relu(v)
    if n == "sigmoid":
        return torch.sigmoid(v)
    if n == "affine":
        return a * v + b
    if n == "leakyrelu":
        return torch.where(v < 0, a * v, v)
    if n == "thresholdedrelu":
        return torch.where(v > a, v, torch.zeros_like(v))
    if n == "scaledtanh":
        return a * torch.tanh(b * v)
    if n == "hardsigmoid":
        return torch.clamp(a * v + b, 0.0, 1.0)
    if n == "elu":
        return torch.where(v < 0, a * torch.expm1(v), v)
    if n == "softsign":
        return v / (1 + v.abs())
    if n == "softplus":
        return torch.logaddexp(v, torch.zeros_like(v))  # log(1 + e^v), exact for large v
    raise ValueError(spec)


def ref_rnn(w, L, D, H, x, lengths, h0, act, clip=0.0, reverse=False):
    """The forward pass straight from its definition, in float64, one
    sequence and one step at a time: h_t = act(clip(W_ih x_t + b_ih +
    W_hh h_{t-1} + b_hh)), the backward direction (and a reverse model)
    from each sequence's last valid step back to 0. w: {name: float64
    tensor} of the state_dict() (a missing bias is zero); x (T, B, I);
    lengths a list or None; h0 (L*D, B, H) or None. Returns (T, B, D*H) and
    (L*D, B, H)."""
    T, B, _ = x.shape
    lengths = lengths or [T] * B
    inp, hn = x, torch.zeros(L * D, B, H, dtype=F64)
    for l in range(L):
        out = torch.zeros(T, B, D * H, dtype=F64)
        for d in range(D):
            sfx = "_l%d%s" % (l, "_reverse" if d else "")
            w_ih, w_hh = w["weight_ih" + sfx], w["weight_hh" + sfx]
            bias = (w.get("bias_ih" + sfx, torch.zeros(H, dtype=F64)) +
                    w.get("bias_hh" + sfx, torch.zeros(H, dtype=F64)))
            back = d == 1 or reverse
            for b in range(B):
                n = lengths[b]
                h = h0[l * D + d, b] if h0 is not None else torch.zeros(H, dtype=F64)
                for t in (range(n - 1, -1, -1) if back else range(n)):
                    pre = w_ih @ inp[t, b] + bias + w_hh @ h
                    if clip:
                        pre = pre.clamp(-clip, clip)
                    h = onnx_activation(act, pre)
                    out[t, b, d * H:(d + 1) * H] = h
                hn[l * D + d, b] = h
        inp = out
    return inp, hn


def torch_rnn(m, nl):
    """PyTorch's float64 nn.RNN on model m: (T, B, D*H), (L*D, B, H)."""
    ref = torch.nn.RNN(m["I"], m["H"], m["L"], nonlinearity=nl, bias=m["bias"] != "none",
                       bidirectional=m["D"] == 2).to(F64).eval()
    state = dict(m["w"])
    if m["bias"] == "single":
        state.update({k.replace("bias_ih", "bias_hh"): torch.zeros_like(v)
                      for k, v in m["w"].items() if k.startswith("bias_ih")})
    ref.load_state_dict(state)
    with torch.no_grad():
        if m["lengths"] is None:
            return ref(m["x"], m["h0"])
        packed = pack_padded_sequence(m["x"], torch.tensor(m["lengths"]),
                                      enforce_sorted=False)
        y, hn = ref(packed, m["h0"])
        y, _ = pad_packed_sequence(y, total_length=m["x"].shape[0])
        return y, hn


def save64(path, t):
    np.save(path, t.numpy().astype("<f8"))


def ext_model(name, I, H, L=1, bi=False, bias="both", bf=False, nl="tanh", B=3, T=6,
              lengths=None, h0=True, wdtype="float32", x_dtype=np.float32,
              h0_dtype=np.float32, unbatched=False, weights=None):
    """Exports a random model (or `weights`, a state_dict) as NAME.safetensors
    with its input files; returns what the references need."""
    torch.manual_seed(zlib.crc32(name.encode()))
    D = 2 if bi else 1
    rnn = torch.nn.RNN(I, H, L, nonlinearity=nl, bias=bias != "none", batch_first=bf,
                       bidirectional=bi)
    state = weights if weights is not None else rnn.state_dict()
    state = {k: v.to(TORCH_DTYPES[wdtype]) for k, v in state.items()
             if not (bias == "single" and k.startswith("bias_hh"))}
    meta = {"format": "pt"}
    meta.update(export_pytorch.rnn_metadata(rnn))
    export_pytorch.write_safetensors(os.path.join(OUT, name + ".safetensors"), state, meta)
    if unbatched:
        B = 1
    x = torch.randn(T, B, I, dtype=F64).numpy().astype(x_dtype)
    # (T, B, *) to the file's layout, C order (np.save writes a Fortran-order
    # array as such, which elman refuses)
    swap = (lambda a: a[:, 0]) if unbatched else (lambda a: a.swapaxes(0, 1)) if bf else \
        (lambda a: a)

    def layout(a):
        return np.ascontiguousarray(swap(a))
    np.save(os.path.join(OUT, name + ".x.npy"), layout(x).astype(x.dtype.newbyteorder("<")))
    m = dict(name=name, I=I, H=H, L=L, D=D, B=B, T=T, bias=bias, bf=bf, nl=nl,
             unbatched=unbatched, lengths=lengths, layout=layout,
             w={k: v.to(F64) for k, v in state.items()},
             x=torch.from_numpy(x.astype(np.float64)), h0=None)
    if h0:
        h = torch.randn(L * D, B, H, dtype=F64).numpy().astype(h0_dtype)
        le = h.dtype.newbyteorder("<")
        np.save(os.path.join(OUT, name + ".h0.npy"), (h[:, 0] if unbatched else h).astype(le))
        if not unbatched:
            np.save(os.path.join(OUT, name + ".h0t.npy"), np.ascontiguousarray(h.swapaxes(0, 1)).astype(le))
        m["h0"] = torch.from_numpy(h.astype(np.float64))
    if lengths is not None:
        np.save(os.path.join(OUT, name + ".lengths.npy"), np.array(lengths, "<i8"))
    # The reference agrees with PyTorch where they overlap.
    if not (bias == "none"):
        for act in ("tanh", "relu"):
            y1, h1 = ref_rnn(m["w"], L, D, H, m["x"], lengths, m["h0"], act)
            y2, h2 = torch_rnn(m, act)
            assert torch.allclose(y1, y2, rtol=0, atol=1e-12), name
            assert torch.allclose(h1, h2, rtol=0, atol=1e-12), name
    EXT[name] = m
    return m


EXT = {}


def opt(name, m, act=None, nl=None, clip=None, direction=None, sbf=False, chunk=None,
        threads=None, det=False, h0=True, lengths=True, expect=None):
    """One line of opt_cases.txt and its expected opt/NAME.{y,hn}.npy.
    expect: (y, hn) in (T, B, D*H), (L*D, B, H) to use instead of computing."""
    n = m["name"]
    args = ["--weights", "@%s.safetensors" % n, "--input", "@%s.x.npy" % n]
    if h0 and m["h0"] is not None:
        args += ["--h0", "@%s.h0%s.npy" % (n, "t" if sbf and not m["unbatched"] else "")]
    if lengths and m["lengths"] is not None:
        args += ["--lengths", "@%s.lengths.npy" % n]
    for flag, value in (("--nonlinearity", nl), ("--activation", act), ("--clip", clip),
                        ("--direction", direction), ("--chunk", chunk),
                        ("--threads", threads)):
        if value is not None:
            args += [flag, str(value)]
    if sbf:
        args.append("--state-batch-first")
    if det:
        args.append("--deterministic")

    spec = act or nl or m["nl"]
    reverse = direction == "reverse"
    h0t = m["h0"] if h0 else None
    lens = m["lengths"] if lengths else None
    if expect is not None:
        y, hn = expect
    else:
        y, hn = ref_rnn(m["w"], m["L"], m["D"], m["H"], m["x"], lens, h0t, spec,
                        clip or 0.0, reverse)
        if spec.lower() in ("tanh", "relu") and not clip and not reverse:
            # nn.RNN has it: PyTorch is the reference.
            mm = dict(m, h0=h0t, lengths=lens)
            y2, hn2 = torch_rnn(mm, spec.lower())
            assert torch.allclose(y, y2, rtol=0, atol=1e-12), name
            y, hn = y2, hn2
    y = m["layout"](y.numpy())
    hn = hn.numpy()
    hn = np.ascontiguousarray(hn[:, 0] if m["unbatched"] else hn.swapaxes(0, 1) if sbf else hn)
    os.makedirs(os.path.join(OUT, "opt"), exist_ok=True)
    np.save(os.path.join(OUT, "opt", name + ".y.npy"), y.astype("<f8"))
    np.save(os.path.join(OUT, "opt", name + ".hn.npy"), hn.astype("<f8"))
    return " ".join([name] + args)


def det_files(m, k, perm):
    """The inputs of the bitwise tests of --deterministic for model m."""
    n, L, D, H, T, B = m["name"], m["L"], m["D"], m["H"], m["T"], m["B"]
    x, h0 = m["x"].numpy(), m["h0"].numpy()
    lengths = m["lengths"]
    bf = m["bf"]
    x32 = lambda a: m["layout"](a).astype("<f4")  # noqa: E731
    np.save(os.path.join(OUT, n + ".one.x.npy"), x32(x[:lengths[k], k:k + 1]))
    np.save(os.path.join(OUT, n + ".one.h0.npy"), h0[:, k:k + 1].astype("<f4"))
    np.save(os.path.join(OUT, n + ".perm.x.npy"), x32(x[:, perm]))
    np.save(os.path.join(OUT, n + ".perm.h0.npy"), h0[:, perm].astype("<f4"))
    np.save(os.path.join(OUT, n + ".perm.lengths.npy"),
            np.array([lengths[p] for p in perm], "<i8"))
    pad = np.concatenate([x, np.random.RandomState(7).randn(3, B, m["I"]) * 5])
    np.save(os.path.join(OUT, n + ".pad.x.npy"), x32(pad))
    return "%s %d %d %d %d %d" % (n, k, lengths[k], perm.index(k), 0 if bf else 1, T)


def build_ext():
    uni = ext_model("ext_uni", 3, 5, L=2, B=4, T=7, lengths=[7, 3, 5, 1])
    bi = ext_model("ext_bi", 2, 4, L=2, bi=True, bf=True, B=3, T=6, lengths=[6, 2, 4])
    ubf = ext_model("ext_uni_bf", 2, 3, nl="relu", bf=True, B=3, T=5, lengths=[5, 2, 4])
    one = ext_model("ext_single", 3, 4, L=2, bias="single", B=3, T=5, lengths=[5, 1, 3])
    f64 = ext_model("ext_f64", 2, 3, L=2, B=2, T=6, lengths=[6, 4], wdtype="float64",
                    x_dtype=np.float64, h0_dtype=np.float64)
    b16 = ext_model("ext_bf16", 3, 4, B=2, T=4, wdtype="bfloat16", h0=False)
    unb = ext_model("ext_unb", 2, 3, L=2, bi=True, T=5, unbatched=True)
    # every sequence shorter than T: the last chunks have no step at all
    short = ext_model("ext_short", 2, 4, L=2, B=3, T=7, lengths=[2, 3, 1])
    rbi = ext_model("ext_rev_bi", 3, 4, bi=True, B=3, T=5, lengths=[5, 2, 4])
    # The backward half of ext_rev_bi as a model of its own.
    rw = {k.replace("_reverse", ""): v for k, v in rbi["w"].items() if k.endswith("_reverse")}
    ext_model("ext_rev_uni", 3, 4, B=3, T=5, lengths=[5, 2, 4], weights=rw, h0=False)
    for suffix in (".x.npy", ".lengths.npy"):
        shutil.copy(os.path.join(OUT, "ext_rev_bi" + suffix),
                    os.path.join(OUT, "ext_rev_uni" + suffix))
    np.save(os.path.join(OUT, "ext_rev_uni.h0.npy"), rbi["h0"].numpy()[1:2].astype("<f4"))
    ruv = EXT["ext_rev_uni"]
    ruv["x"], ruv["h0"] = rbi["x"], rbi["h0"][1:2]

    lines = []
    # Every activation, with and without its parameters, names in any case.
    acts = ["Tanh", "RELU", "sigmoid", "Affine", "affine:0.5", "Affine:0.5:0.1", "LeakyRelu",
            "leakyrelu:0.2", "ThresholdedRelu", "thresholdedrelu:0.3", "ScaledTanh",
            "ScaledTanh:1.5", "scaledtanh:1.5:0.7", "HardSigmoid", "HARDSIGMOID:0.3",
            "hardsigmoid:0.3:0.4", "Elu", "elu:0.5", "Softsign", "SOFTPLUS"]
    for a in acts:
        tag = a.lower().replace(":", "_").replace(".", "")
        lines.append(opt("act_%s" % tag, uni, act=a))
    for a in ("Sigmoid", "LeakyRelu:0.1", "HardSigmoid:0.3:0.4", "Softplus", "Elu:2"):
        tag = a.lower().replace(":", "_").replace(".", "")
        lines.append(opt("act_bi_%s" % tag, bi, act=a))
    lines.append(opt("act_overrides_nl", uni, act="Sigmoid", nl="relu"))
    lines.append(opt("nl_relu", uni, nl="relu"))
    # clip
    lines += [opt("clip_tanh", uni, clip=0.5), opt("clip_relu", uni, nl="relu", clip=0.3),
              opt("clip_affine", uni, act="Affine:1.5:0.2", clip=2),
              opt("clip_bi_elu", bi, act="Elu:0.7", clip=0.25),
              opt("clip_large", uni, clip=1e6)]
    # direction
    lines += [opt("dir_forward", uni, direction="forward"),
              opt("dir_bidirectional", bi, direction="bidirectional"),
              opt("dir_reverse", uni, direction="reverse"),
              opt("dir_reverse_nolen", uni, direction="reverse", lengths=False),
              opt("dir_reverse_sigmoid_clip", uni, direction="reverse", act="sigmoid",
                  clip=0.4),
              opt("dir_reverse_bf_relu", ubf, direction="reverse"),
              opt("dir_reverse_single", one, direction="reverse", act="softsign")]
    # reverse = the backward half of a bidirectional model (PyTorch's)
    y, hn = torch_rnn(rbi, "tanh")
    H = rbi["H"]
    lines.append(opt("rev_half", ruv, direction="reverse", expect=(y[..., H:], hn[1:2])))
    ruv_nolen = dict(rbi, lengths=None)
    y, hn = torch_rnn(ruv_nolen, "tanh")
    lines.append(opt("rev_half_nolen", ruv, direction="reverse", lengths=False,
                     expect=(y[..., H:], hn[1:2])))
    # one bias
    lines += [opt("single", one), opt("single_relu", one, nl="relu"),
              opt("single_chunk2", one, chunk=2), opt("single_hardsigmoid", one,
                                                      act="HardSigmoid")]
    # float64 weights and data, bfloat16 weights
    lines += [opt("f64", f64), opt("f64_chunk4", f64, chunk=4),
              opt("f64_elu", f64, act="elu:0.3", clip=1.5), opt("bf16", b16),
              opt("bf16_chunk3", b16, chunk=3, act="Softplus")]
    # state layout
    lines += [opt("sbf_uni", uni, sbf=True), opt("sbf_bi", bi, sbf=True),
              opt("sbf_unbatched", unb, sbf=True), opt("sbf_single", one, sbf=True),
              opt("sbf_chunk3", uni, sbf=True, chunk=3), opt("unbatched", unb)]
    # chunks: T = 7 and lengths 7, 3, 5, 1 end mid-chunk and on chunk ends
    for c in (1, 2, 3, 4, 6, 7, 100):
        lines.append(opt("chunk%d" % c, uni, chunk=c))
    lines += [opt("chunk2_nolen", uni, chunk=2, lengths=False),
              opt("chunk3_noh0", uni, chunk=3, h0=False),
              opt("chunk2_bf", ubf, chunk=2), opt("chunk1_bf", ubf, chunk=1),
              opt("chunk2_elu_clip", uni, chunk=2, act="Elu:0.5", clip=0.8),
              opt("chunk3_threads2", uni, chunk=3, threads=2),
              opt("short", short), opt("short_chunk1", short, chunk=1),
              opt("short_chunk2", short, chunk=2), opt("short_chunk3_sbf", short, chunk=3,
                                                        sbf=True),
              opt("chunk2_det", uni, chunk=2, det=True)]
    # threads, deterministic
    lines += [opt("threads2", uni, threads=2), opt("threads3_bi", bi, threads=3),
              opt("det", uni, det=True), opt("det_bi", bi, det=True),
              opt("det_threads2_bi_sbf", bi, det=True, threads=2, sbf=True),
              opt("det_leakyrelu_clip", uni, det=True, act="LeakyRelu:0.3", clip=0.9)]
    with open(os.path.join(OUT, "opt_cases.txt"), "w") as f:
        f.write("# NAME ARG... (see tests/gen_io_data.py); expected: opt/NAME.{y,hn}.npy\n")
        for line in lines:
            f.write(line + "\n")

    det = [det_files(uni, 2, [3, 2, 1, 0]), det_files(bi, 1, [1, 2, 0])]
    with open(os.path.join(OUT, "det.txt"), "w") as f:
        f.write("# MODEL K LEN POS YAXIS T (see tests/gen_io_data.py)\n")
        for line in det:
            f.write(line + "\n")
    return len(lines)


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    lines = build_cases()
    with open(os.path.join(OUT, "cases.txt"), "w") as f:
        f.write("# NAME PREFIX NONLINEARITY LAYOUT H0 LENGTHS (see tests/gen_io_data.py)\n")
        for line in lines:
            f.write(line + "\n")
    write_bad()
    n = build_ext()
    print("wrote %d cases, %d option cases and the bad files to %s" % (len(lines), n, OUT))


if __name__ == "__main__":
    main()
