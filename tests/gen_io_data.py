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
  bad/          malformed and inconsistent files for the bad-input tests
                (tests/test_model_load.c and tests/test_cli.sh say what each
                must produce).

Deterministic: each case seeds torch with crc32 of its name, torch runs
single-threaded, files are written with explicit little-endian dtypes.
"""

import json
import os
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
         nl_arg="-", layout_arg="-", metadata=True, meta_nl=None, meta_bf=None):
    torch.manual_seed(zlib.crc32(name.encode()))
    D = 2 if bi else 1
    saved_nl = meta_nl if meta_nl is not None else nl
    saved_bf = meta_bf if meta_bf is not None else bf
    rnn = torch.nn.RNN(I, H, L, nonlinearity=saved_nl, bias=bias, batch_first=saved_bf,
                       bidirectional=bi)
    module = rnn if container is None else Holder(rnn, container)
    path = os.path.join(OUT, name + ".safetensors")
    if metadata:
        export_pytorch.export(module, path, dtype=dtype)
    else:
        state = {k: (v.to(TORCH_DTYPES[dtype]) if v.is_floating_point() else v)
                 for k, v in module.state_dict().items()}
        export_pytorch.write_safetensors(path, state, None)

    # The reference: the weights as stored (rounded to dtype), run by
    # PyTorch in float32, or float64 for a float64 model.
    cdt = torch.float64 if dtype == "float64" else torch.float32
    ref = torch.nn.RNN(I, H, L, nonlinearity=nl, bias=bias, batch_first=bf,
                       bidirectional=bi).to(cdt)
    ref.load_state_dict({k: v.to(TORCH_DTYPES[dtype]).to(cdt)
                         for k, v in rnn.state_dict().items()})
    ref.eval()

    if unbatched:
        shape = (T, I)
    else:
        shape = (B, T, I) if bf else (T, B, I)
    x = torch.randn(*shape, dtype=torch.float64).numpy().astype(x_dtype)
    np.save(os.path.join(OUT, name + ".x.npy"), x.astype(x.dtype.newbyteorder("<")))
    xt = torch.from_numpy(x).to(cdt)
    h0t = None
    if h0:
        hshape = (L * D, H) if unbatched else (L * D, B, H)
        h0a = torch.randn(*hshape, dtype=torch.float64).numpy().astype(np.float32)
        np.save(os.path.join(OUT, name + ".h0.npy"), h0a.astype("<f4"))
        h0t = torch.from_numpy(h0a).to(cdt)
    with torch.no_grad():
        if lengths is not None:
            la = np.array(lengths, dtype=lengths_dtype)
            np.save(os.path.join(OUT, name + ".lengths.npy"),
                    la.astype(la.dtype.newbyteorder("<")))
            packed = pack_padded_sequence(xt, torch.tensor(lengths), batch_first=bf,
                                          enforce_sorted=False)
            y, hn = ref(packed, h0t)
            y, _ = pad_packed_sequence(y, batch_first=bf, total_length=T)
        else:
            y, hn = ref(xt, h0t)
    ydt = "<f8" if dtype == "float64" else "<f4"
    np.save(os.path.join(OUT, name + ".y.npy"), y.numpy().astype(ydt))
    np.save(os.path.join(OUT, name + ".hn.npy"), hn.numpy().astype(ydt))
    return "%s %s %s %s %d %d" % (name, prefix_arg, nl_arg, layout_arg, int(h0),
                                  int(lengths is not None))


def build_cases():
    return [
        case("basic", 3, 4),
        case("meta_relu_bf_h0_len", 2, 5, nl="relu", bf=True, B=3, T=4, h0=True,
             lengths=[4, 2, 3]),
        case("prefix_given", 3, 4, L=2, bi=True, container="rnn", prefix_arg="rnn."),
        case("prefix_detected", 3, 4, L=2, bias=False, container="rnn", h0=True),
        case("prefix_nodot", 2, 3, container="encoder.rnn", prefix_arg="encoder.rnn",
             bf=True),
        case("f64_model", 3, 5, L=2, bi=True, dtype="float64", x_dtype=np.float64, B=3,
             h0=True, lengths=[1, 4, 3]),
        case("f16_model", 4, 6, L=2, nl="relu", dtype="float16"),
        case("bf16_model", 4, 6, bi=True, dtype="bfloat16", bf=True),
        case("l3_bi_nobias_h0_len", 3, 4, L=3, bi=True, bias=False, B=3, T=5, h0=True,
             lengths=[5, 1, 3]),
        case("unbatched_h0", 3, 4, L=2, bi=True, unbatched=True, h0=True, B=1, T=5),
        case("unbatched_bf_relu", 2, 3, nl="relu", bf=True, unbatched=True, B=1, T=3),
        case("override_flags", 3, 4, L=2, nl="relu", bf=True, meta_nl="tanh",
             meta_bf=False, nl_arg="relu", layout_arg="bf", lengths=[2, 4]),
        case("override_seq_first", 3, 4, bf=False, meta_bf=True, layout_arg="sf", h0=True),
        case("no_metadata", 3, 4, L=2, metadata=False),
        case("x_float64", 3, 4, bi=True, x_dtype=np.float64),
        case("lengths_int32", 2, 4, bf=True, B=3, T=6, lengths=[6, 3, 1],
             lengths_dtype=np.int32),
        case("flags_same_as_meta", 3, 4, nl_arg="tanh", layout_arg="sf"),
        case("wide", 16, 32, L=2, bi=True, B=3, T=6, h0=True, lengths=[6, 5, 2]),
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
    for name, data in files.items():
        with open(os.path.join(BAD, name), "wb") as f:
            f.write(data)


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    lines = build_cases()
    with open(os.path.join(OUT, "cases.txt"), "w") as f:
        f.write("# NAME PREFIX NONLINEARITY LAYOUT H0 LENGTHS (see tests/gen_io_data.py)\n")
        for line in lines:
            f.write(line + "\n")
    write_bad()
    print("wrote %d cases and the bad files to %s" % (len(lines), OUT))


if __name__ == "__main__":
    main()
