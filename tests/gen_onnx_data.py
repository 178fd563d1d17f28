#!/usr/bin/python3
"""Generate the test data of the ONNX loader (tests/test_onnx.c).

Run with the system python that has torch and onnx (Debian's python3-torch
and python3-onnx):

    /usr/bin/python3 tests/gen_onnx_data.py     # (re)writes tests/data/onnx/

Writes, in tests/data/onnx/:

  cases.txt     one case per line: NAME H0 LENGTHS Y REF
                H0, LENGTHS: 1 if the case has NAME.h0.npy / NAME.lengths.npy
                (in the layout the graph's inputs take); Y: 1 if it has
                NAME.y.npy (some of the onnx package's cases check Y_h only);
                REF: 1 if the expected outputs are a float64 reference (which
                a float64 model must match to 1e-10), 0 if they are
                PyTorch's float32 outputs.
  NAME.onnx     the model
  NAME.x.npy    X, float32, in the layout the graph's input takes
  NAME.y.npy    the expected Y in elman's layout: (T, B, D*H), or (B, T, D*H)
                when the model is batch-first
  NAME.hn.npy   the expected final state in elman's layout: (L*D, B, H), or
                (B, L*D, H) for layout 1 (ONNX's Y_h layout for one node)

  and bad/NAME.onnx with bad.txt (NAME CODE TEXT...: the elman_status the
  loader must return and a part of its message), and overrides.txt (NAME
  TAG OPTIONS...: `elman run` on case NAME with OPTIONS, which override the
  file's attributes, must write NAME.TAG.y.npy and NAME.TAG.hn.npy, the
  reference computed with the attributes the options give).

The models:
  torch_*   nn.RNN exported by torch.onnx.export; expected: PyTorch.
  node_*    one RNN node (or two joined by Concat, or a chain) built with
            onnx.helper for each attribute; expected: ref_rnn() below, a
            float64 implementation of the ONNX definition of RNN (the
            defaults of alpha/beta are those of the definition, not ONNX
            Runtime's 0).
  backend_* the RNN cases of the onnx package's backend tests
            (onnx/backend/test/case/node/rnn.py), their inputs and expected
            outputs as the package computes them, the weights made
            initializers.

Deterministic: numpy and torch are seeded per case with crc32 of its name.
"""

import io
import os
import shutil
import sys
import zlib

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "data", "onnx")
BAD = os.path.join(OUT, "bad")
OPSET = 14

CASES = []
OVERRIDES = []


def seed(name):
    s = zlib.crc32(name.encode())
    torch.manual_seed(s)
    return np.random.default_rng(s)


def save(name, suffix, a, dtype="<f4"):
    np.save(os.path.join(OUT, name + suffix), np.ascontiguousarray(a).astype(dtype))


def record(name, x, y, hn, h0=None, lengths=None, ref=True):
    save(name, ".x.npy", x)
    if h0 is not None:
        save(name, ".h0.npy", h0)
    if lengths is not None:
        save(name, ".lengths.npy", lengths, "<i8")
    if y is not None:
        save(name, ".y.npy", y, "<f8")
    save(name, ".hn.npy", hn, "<f8")
    CASES.append("%s %d %d %d %d" % (name, h0 is not None, lengths is not None, y is not None,
                                     int(ref)))


# ---- the ONNX definition of RNN, in float64 ----

# name: (number of parameters, default alpha, default beta, function)
ACTS = {
    "Tanh": (0, None, None, lambda x, a, b: np.tanh(x)),
    "Relu": (0, None, None, lambda x, a, b: np.maximum(x, 0)),
    "Sigmoid": (0, None, None, lambda x, a, b: 1 / (1 + np.exp(-x))),
    "Affine": (2, 1.0, 0.0, lambda x, a, b: a * x + b),
    "LeakyRelu": (1, 0.01, None, lambda x, a, b: np.where(x < 0, a * x, x)),
    "ThresholdedRelu": (1, 1.0, None, lambda x, a, b: np.where(x > a, x, 0.0)),
    "ScaledTanh": (2, 1.0, 1.0, lambda x, a, b: a * np.tanh(b * x)),
    "HardSigmoid": (2, 0.2, 0.5, lambda x, a, b: np.maximum(0, np.minimum(1, a * x + b))),
    "Elu": (1, 1.0, None, lambda x, a, b: np.where(x < 0, a * (np.exp(x) - 1), x)),
    "Softsign": (0, None, None, lambda x, a, b: x / (1 + np.abs(x))),
    "Softplus": (0, None, None, lambda x, a, b: np.log1p(np.exp(x))),
}


def resolve_acts(names, alphas, betas, D):
    """One (function, alpha, beta) per direction: the values are consumed in
    the order of the activations that take them; absent ones default."""
    names = names or ["Tanh"] * D
    if len(names) == 1 and D == 2:
        names = names * 2
    alphas, betas = list(alphas or []), list(betas or [])
    out = []
    for n in names:
        n = next(a for a in ACTS if a.lower() == n.lower())
        k, da, db = ACTS[n][:3]
        # Given values are float attributes; defaults are exact.
        a = np.float64(np.float32(alphas.pop(0))) if k >= 1 and alphas else da
        b = np.float64(np.float32(betas.pop(0))) if k >= 2 and betas else db
        out.append((ACTS[n][3], a, b))
    return out


def ref_rnn(X, W, R, B, h0, lengths, direction, acts, clip, layout):
    """Y and Y_h of one ONNX RNN node, float64; X, h0, Y, Y_h in the node's
    layout."""
    X = X.astype(np.float64)
    if layout == 1:
        X = X.transpose(1, 0, 2)
        h0 = None if h0 is None else h0.transpose(1, 0, 2)
    T, Bn, _ = X.shape
    D, H = W.shape[0], W.shape[1]
    Y = np.zeros((T, D, Bn, H))
    Yh = np.zeros((D, Bn, H))
    for d in range(D):
        f, a, b = acts[d]
        rev = direction == "reverse" or d == 1
        wb = B[d, :H].astype(np.float64) if B is not None else 0
        rb = B[d, H:].astype(np.float64) if B is not None else 0
        for n in range(Bn):
            L = T if lengths is None else int(lengths[n])
            h = np.zeros(H) if h0 is None else h0[d, n].astype(np.float64)
            for t in (reversed(range(L)) if rev else range(L)):
                z = W[d].astype(np.float64) @ X[t, n] + R[d].astype(np.float64) @ h + wb + rb
                if clip:  # a float attribute
                    z = np.clip(z, -np.float32(clip), np.float32(clip))
                h = f(z, a, b)
                Y[t, d, n] = h
            Yh[d, n] = h
    if layout == 1:
        return Y.transpose(2, 0, 1, 3), Yh.transpose(1, 0, 2)
    return Y, Yh


def y_to_elman(Y, layout):
    """ONNX's Y ([T, D, B, H] or [B, T, D, H]) in elman's layout."""
    if layout == 1:
        return Y.reshape(Y.shape[0], Y.shape[1], -1)
    return Y.transpose(0, 2, 1, 3).reshape(Y.shape[0], Y.shape[2], -1)


# ---- building graphs ----

# The ONNX types of the weights' dtypes ("bfloat16": numpy has none).
ONNX_TYPE = {np.float32: TensorProto.FLOAT, np.float64: TensorProto.DOUBLE,
             np.float16: TensorProto.FLOAT16, "bfloat16": TensorProto.BFLOAT16}


def round_to(a, dtype):
    """a's values as dtype holds them, back in float32 (bfloat16: to
    nearest even, as torch and onnx.helper round)."""
    a = np.ascontiguousarray(a, np.float32)
    if dtype == "bfloat16":
        return torch.from_numpy(a).to(torch.bfloat16).to(torch.float32).numpy()
    return a.astype(dtype).astype(np.float32)


def tensor(name, a, dtype=np.float32, typed=False):
    """An initializer as numpy_helper writes it (raw_data), or with typed,
    in the field ONNX has for the type (float_data, double_data; int32_data
    for float16 and bfloat16). bfloat16 values are rounded to it first."""
    if typed:
        a = round_to(a, dtype)
        return helper.make_tensor(name, ONNX_TYPE[dtype], a.shape, a.flatten().tolist())
    if dtype == "bfloat16":  # the high half of each float32, little-endian
        bits = (round_to(a, dtype).view(np.uint32) >> 16).astype("<u2")
        return helper.make_tensor(name, TensorProto.BFLOAT16, a.shape, bits.tobytes(), raw=True)
    return numpy_helper.from_array(np.asarray(a).astype(dtype), name)


def make_model(nodes, inputs, outputs, inits, opset=OPSET):
    g = helper.make_graph(nodes, "g", inputs, outputs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def rnn_weights(rng, D, H, I, scale=None):
    s = scale if scale is not None else 1 / np.sqrt(H)
    W = rng.uniform(-s, s, (D, H, I)).astype(np.float32)
    R = rng.uniform(-s, s, (D, H, H)).astype(np.float32)
    B = rng.uniform(-s, s, (D, 2 * H)).astype(np.float32)
    return W, R, B


def node_case(name, I=3, H=4, T=5, Bn=2, direction="forward", acts=None, alphas=None,
              betas=None, clip=None, layout=0, h0="none", lengths=False, bias=True,
              hidden_attr=True, wdtype=np.float32, scale=None, xscale=1.0, const_w=False,
              head=False, typed=False, overrides=(), rnn_name="rnn"):
    """One RNN node. h0: "none" (absent), "input" (a graph input), or zeros
    built inside the graph: "zeros" (ConstantOfShape), "expand" (a zero
    [1, 1, H] expanded), "slice" (rows of a zero initializer), "constant" (a
    Constant node). wdtype: the weights' type, or one
    per W, R and B; typed: in the typed fields, not raw_data. overrides:
    (tag, the tool's options, what they change) for override()."""
    rng = seed(name)
    D = 2 if direction == "bidirectional" else 1
    W, R, B = rnn_weights(rng, D, H, I, scale)
    wdtypes = wdtype if isinstance(wdtype, tuple) else (wdtype,) * 3
    W, R, B = (round_to(a, t) for a, t in zip((W, R, B), wdtypes))
    xs = (T, Bn, I) if layout == 0 else (Bn, T, I)
    X = (rng.standard_normal(xs) * xscale).astype(np.float32)
    hs = (D, Bn, H) if layout == 0 else (Bn, D, H)
    H0 = rng.uniform(-1, 1, hs).astype(np.float32) if h0 == "input" else None
    lens = rng.integers(1, T + 1, Bn) if lengths else None
    if lengths:
        lens[0] = T

    attrs = {}
    if hidden_attr:
        attrs["hidden_size"] = H
    if direction != "forward" or name.endswith("_fwd_attr"):
        attrs["direction"] = direction
    if acts is not None:
        attrs["activations"] = acts
    if alphas is not None:
        attrs["activation_alpha"] = alphas
    if betas is not None:
        attrs["activation_beta"] = betas
    if clip is not None:
        attrs["clip"] = clip
    if layout:
        attrs["layout"] = layout
    nodes, inits = [], []
    inputs = [vi("X", TensorProto.FLOAT, ["a", "b", I])]
    for nm, a, t in (("W", W, wdtypes[0]), ("R", R, wdtypes[1]),
                     ("B", B if bias else None, wdtypes[2])):
        if a is None:
            continue
        if const_w:
            nodes.append(helper.make_node("Constant", [], [nm],
                                          value=tensor(nm + "_c", a, t, typed)))
        else:
            inits.append(tensor(nm, a, t, typed))
    seq = ""
    if lengths:
        inputs.append(vi("lengths", TensorProto.INT64, ["b"]))
        nodes.append(helper.make_node("Cast", ["lengths"], ["seq"], to=TensorProto.INT32))
        seq = "seq"
    hname = ""
    if h0 == "input":
        inputs.append(vi("h0", TensorProto.FLOAT, list(hs)))
        hname = "h0"
    elif h0 == "zeros":
        inits.append(tensor("hshape", list(hs), np.int64))
        nodes.append(helper.make_node("ConstantOfShape", ["hshape"], ["hz"],
                                      value=tensor("v", [0.0])))
        hname = "hz"
    elif h0 == "expand":
        inits += [tensor("hzero", np.zeros((1, 1, H))), tensor("hshape", list(hs), np.int64)]
        nodes.append(helper.make_node("Expand", ["hzero", "hshape"], ["hz"], name="hexpand"))
        hname = "hz"
    elif h0 == "slice":
        ax = 0 if layout == 0 else 1
        zs = list(hs)
        zs[ax] += 1
        inits += [tensor("hzero", np.zeros(zs)), tensor("hs", [0], np.int64),
                  tensor("he", [D], np.int64), tensor("ha", [ax], np.int64)]
        nodes.append(helper.make_node("Slice", ["hzero", "hs", "he", "ha"], ["hz"],
                                      name="hslice"))
        hname = "hz"
    elif h0 == "constant":
        nodes.append(helper.make_node("Constant", [], ["hz"], value=tensor("hc", np.zeros(hs)),
                                      name="hconst"))
        hname = "hz"
    nodes.append(helper.make_node("RNN", ["X", "W", "R", "B" if bias else "", seq, hname],
                                  ["Y", "Y_h"], name=rnn_name, **attrs))
    outputs = [vi("Y", TensorProto.FLOAT, None), vi("Y_h", TensorProto.FLOAT, None)]
    if head:
        inits.append(tensor("head_w", rng.standard_normal((H, 2))))
        nodes.append(helper.make_node("MatMul", ["Y", "head_w"], ["logits"], name="head"))
        outputs.append(vi("logits", TensorProto.FLOAT, None))
    onnx.save(make_model(nodes, inputs, outputs, inits), os.path.join(OUT, name + ".onnx"))

    r = resolve_acts(acts, alphas, betas, D)
    Y, Yh = ref_rnn(X, W, R, B if bias else None, H0, lens, direction, r, clip, layout)
    record(name, X, y_to_elman(Y, layout), Yh, H0, lens)
    file_attrs = dict(acts=acts, alphas=alphas, betas=betas, clip=clip, direction=direction)
    for tag, options, changes in overrides:
        override(name, tag, options, changes, file_attrs, X, W, R, B if bias else None, H0, lens,
                 D, layout, y_to_elman(Y, layout))


def override(name, tag, options, changes, file_attrs, X, W, R, B, H0, lens, D, layout, y_file):
    """What `elman run` must write for case `name` with `options`, which
    override the file's attributes by `changes` (acts: with its own alphas
    and betas, or their defaults; clip; direction; batch_first: X read as
    (B, T, I), the state staying (L*D, B, H)): NAME.TAG.y.npy and
    NAME.TAG.hn.npy, and a line of overrides.txt (NAME TAG OPTIONS...)."""
    a = dict(file_attrs)
    if "acts" in changes:
        a.update(alphas=None, betas=None)
    a.update({k: v for k, v in changes.items() if k != "batch_first"})
    r = resolve_acts(a["acts"], a["alphas"], a["betas"], D)
    if changes.get("batch_first"):
        assert layout == 0 and H0 is None and lens is None
        Y, Yh = ref_rnn(X, W, R, B, None, None, a["direction"], r, a["clip"], 1)
        y, hn = y_to_elman(Y, 1), Yh.transpose(1, 0, 2)
    else:
        Y, Yh = ref_rnn(X, W, R, B, H0, lens, a["direction"], r, a["clip"], layout)
        y, hn = y_to_elman(Y, layout), Yh
    # The options must change the result, or the test would not see them
    # ignored.
    assert y.shape != y_file.shape or np.abs(y - y_file).max() > 1e-2, (name, tag)
    save(name, "." + tag + ".y.npy", y, "<f8")
    save(name, "." + tag + ".hn.npy", hn, "<f8")
    OVERRIDES.append("%s %s %s" % (name, tag, options))


def node_cases():
    # The tool's options override the file's attributes (test_cli_onnx.sh).
    over = {"forward": [("act", "--activation HardSigmoid:0.25",
                         {"acts": ["HardSigmoid"], "alphas": [0.25]}),
                        ("bf", "--batch-first", {"batch_first": True})],
            "reverse": [("fwd", "--direction forward", {"direction": "forward"})]}
    over_len = {"forward": [("rev", "--direction reverse", {"direction": "reverse"})]}
    for d in ("forward", "reverse", "bidirectional"):
        node_case("node_" + d[:3], direction=d, overrides=over.get(d, ()))
        node_case("node_%s_h0" % d[:3], direction=d, h0="input")
        node_case("node_%s_len" % d[:3], direction=d, lengths=True, h0="input", Bn=3, T=6,
                  overrides=over_len.get(d, ()))
    node_case("node_fwd_attr")  # direction="forward" written out
    node_case("node_zeros", h0="zeros", direction="bidirectional")
    node_case("node_zeros_expand", h0="expand", direction="bidirectional")
    node_case("node_zeros_slice", h0="slice", layout=1, direction="bidirectional")
    node_case("node_zeros_constant", h0="constant")
    # An activation named without its parameters takes their defaults, not
    # the file's; --nonlinearity drops them too.
    over = {"LeakyRelu": [("act", "--activation leakyrelu", {"acts": ["LeakyRelu"]})],
            "Elu": [("nl", "--nonlinearity relu", {"acts": ["Relu"]})]}
    for a, (k, da, db, _) in ACTS.items():
        sc = 1.0 if a in ("Affine", "Softplus") else None
        node_case("node_act_%s" % a.lower(), acts=[a], scale=0.3 if sc else None)
        if k == 0:
            continue
        alphas = [0.7] if a != "ThresholdedRelu" else [0.3]
        betas = [0.2] if k == 2 else None
        node_case("node_act_%s_ab" % a.lower(), acts=[a], alphas=alphas, betas=betas,
                  scale=0.3 if sc else None, overrides=over.get(a, ()))
        # Both directions, each given the same values.
        node_case("node_act_%s_bi" % a.lower(), acts=[a, a], alphas=alphas * 2,
                  betas=betas * 2 if betas else None, direction="bidirectional",
                  scale=0.3 if sc else None)
    node_case("node_act_lower", acts=["relu"])  # names are case-insensitive
    node_case("node_clip", clip=0.5, scale=1.5, xscale=2.0,
              overrides=[("clip", "--clip 0.25", {"clip": 0.25})])
    node_case("node_clip_relu_bi", clip=0.8, acts=["Relu", "Relu"], direction="bidirectional",
              scale=1.5, xscale=2.0)
    node_case("node_layout1", layout=1)
    node_case("node_layout1_bi_h0_len", layout=1, direction="bidirectional", h0="input",
              lengths=True, Bn=3, T=5)
    node_case("node_layout1_rev_len", layout=1, direction="reverse", lengths=True, Bn=3)
    node_case("node_nobias", bias=False)
    node_case("node_nobias_bi_h0", bias=False, direction="bidirectional", h0="input")
    node_case("node_h1", H=1)
    node_case("node_i1", I=1)
    node_case("node_h1_i1_bi", H=1, I=1, direction="bidirectional")
    node_case("node_no_hidden_attr", hidden_attr=False)
    node_case("node_f64_weights", wdtype=np.float64)
    node_case("node_f16_weights", wdtype=np.float16)
    # ONNX's RNN takes float16, float and double weights of X's type; elman
    # also takes bfloat16 and mixed types (the README, elman_io.h).
    node_case("node_mixed_weights", wdtype=(np.float32, np.float64, np.float16))
    node_case("node_bf16_weights", wdtype="bfloat16")
    node_case("node_bf16_typed_weights", wdtype="bfloat16", typed=True, direction="bidirectional")
    # float_data, double_data and float16 in int32_data: one model, mixed types.
    node_case("node_mixed_typed_weights", wdtype=(np.float32, np.float64, np.float16), typed=True)
    node_case("node_const_weights", const_w=True)
    node_case("node_head", head=True, direction="bidirectional")
    # A node name with a line feed, an escape sequence and a backslash:
    # `elman info` must print it escaped (test_cli_onnx.sh).
    node_case("node_odd_name", rnn_name="r\nnode: Forged forged: layer 7\x1b[2J\\")
    pair_case("node_pair", layers=1)
    pair_case("node_pair_2l_h0", layers=2, h0=True)
    pair_case("node_pair_mixed_bias", layers=2, no_b=("l0r", "l1f"))
    chain_bias_case("node_chain_mixed_bias", biases=(False, True, False))
    chain_case("node_chain_bi_layout1", layout=1)
    chain_unsqueeze_case("node_chain_unsqueeze")


def pair_case(name, layers=1, I=3, H=4, T=5, Bn=2, h0=False, no_b=()):
    """Each layer a forward and a reverse node joined by Concat: one
    bidirectional layer per pair. no_b: the nodes without B ("l0r": layer
    0's reverse node), whose biases are zero in the model."""
    rng = seed(name)
    X = rng.standard_normal((T, Bn, I)).astype(np.float32)
    H0 = rng.uniform(-1, 1, (2 * layers, Bn, H)).astype(np.float32) if h0 else None
    nodes, inits = [], []
    inputs = [vi("X", TensorProto.FLOAT, ["t", "b", I])]
    if h0:
        inputs.append(vi("h0", TensorProto.FLOAT, [2 * layers, "b", H]))
    inits += [tensor("ax1", [1], np.int64)]
    x, xin = "X", X.astype(np.float64)
    hn = []
    for l in range(layers):
        ys = []
        for d, direction in enumerate(("forward", "reverse")):
            W, R, B = rnn_weights(rng, 1, H, xin.shape[2])
            p = "l%d%s" % (l, direction[0])
            if p in no_b:
                B = None
            inits += [tensor(p + "W", W), tensor(p + "R", R)]
            inits += [tensor(p + "B", B)] if B is not None else []
            hname = ""
            if h0:
                inits += [tensor(p + "s", [2 * l + d], np.int64),
                          tensor(p + "e", [2 * l + d + 1], np.int64),
                          tensor(p + "a", [0], np.int64)]
                nodes.append(helper.make_node("Slice", ["h0", p + "s", p + "e", p + "a"],
                                              [p + "h0"]))
                hname = p + "h0"
            nodes.append(helper.make_node("RNN", [x, p + "W", p + "R",
                                                  p + "B" if B is not None else "", "", hname],
                                          [p + "Y", p + "Yh"], name=p, hidden_size=H,
                                          direction=direction))
            nodes.append(helper.make_node("Squeeze", [p + "Y", "ax1"], [p + "Ys"]))
            ys.append(p + "Ys")
            Y, Yh = ref_rnn(xin, W, R, B, None if H0 is None else H0[2 * l + d:2 * l + d + 1],
                            None, direction, resolve_acts(None, None, None, 1), None, 0)
            hn.append(Yh)
            ys_val = Y[:, 0]
            if d == 0:
                yf = ys_val
        nodes.append(helper.make_node("Concat", ys, ["l%dY" % l], axis=2))
        x = "l%dY" % l
        xin = np.concatenate([yf, ys_val], axis=2)
    outputs = [vi(x, TensorProto.FLOAT, None)]
    onnx.save(make_model(nodes, inputs, outputs, inits), os.path.join(OUT, name + ".onnx"))
    record(name, X, xin, np.concatenate(hn, axis=0), H0)


def save_chain(name, nodes, inits, dims, x, X, xin, hn, axis):
    """The tail of the chain builders: the graph with input X of symbolic
    dims (its last one I) and output x, and the expected h_n, the layers'
    Yh joined along axis (0 for [L*D, B, H], 1 for layout 1's [B, L*D, H])."""
    onnx.save(make_model(nodes, [vi("X", TensorProto.FLOAT, dims)],
                         [vi(x, TensorProto.FLOAT, None)], inits),
              os.path.join(OUT, name + ".onnx"))
    record(name, X, xin, np.concatenate(hn, axis=axis))


def chain_case(name, layout=1, I=3, H=4, T=5, Bn=2):
    """Two bidirectional layout-1 nodes: Y [B, T, 2, H] reshaped to [B, T, 2H]."""
    rng = seed(name)
    X = rng.standard_normal((Bn, T, I)).astype(np.float32)
    nodes, inits = [], [tensor("shape", [0, 0, -1], np.int64)]
    x, xin, hn = "X", X, []
    for l in range(2):
        W, R, B = rnn_weights(rng, 2, H, xin.shape[2])
        p = "l%d" % l
        inits += [tensor(p + "W", W), tensor(p + "R", R), tensor(p + "B", B)]
        nodes.append(helper.make_node("RNN", [x, p + "W", p + "R", p + "B"], [p + "Y", p + "Yh"],
                                      name=p, hidden_size=H, direction="bidirectional",
                                      layout=layout))
        nodes.append(helper.make_node("Reshape", [p + "Y", "shape"], [p + "X"]))
        Y, Yh = ref_rnn(xin, W, R, B, None, None, "bidirectional",
                        resolve_acts(None, None, None, 2), None, layout)
        hn.append(Yh)
        x, xin = p + "X", y_to_elman(Y, layout)
    save_chain(name, nodes, inits, ["b", "t", I], x, X, xin, hn, axis=1)


def chain_bias_case(name, biases, I=3, H=4, T=5, Bn=2):
    """Forward layers linked by a Squeeze, layer l without B unless
    biases[l]: the model has biases, zero in those layers."""
    rng = seed(name)
    X = rng.standard_normal((T, Bn, I)).astype(np.float32)
    inits = [tensor("ax1", [1], np.int64)]
    nodes, hn, x, xin = [], [], "X", X
    for l, bias in enumerate(biases):
        W, R, B = rnn_weights(rng, 1, H, xin.shape[2])
        p = "l%d" % l
        inits += [tensor(p + "W", W), tensor(p + "R", R)] + ([tensor(p + "B", B)] if bias else [])
        nodes += [helper.make_node("RNN", [x, p + "W", p + "R", p + "B" if bias else ""],
                                   [p + "Y", p + "Yh"], name=p, hidden_size=H),
                  helper.make_node("Squeeze", [p + "Y", "ax1"], [p + "X"], name=p + "sq")]
        Y, Yh = ref_rnn(xin, W, R, B if bias else None, None, None, "forward",
                        resolve_acts(None, None, None, 1), None, 0)
        hn.append(Yh)
        x, xin = p + "X", y_to_elman(Y, 0)
    save_chain(name, nodes, inits, ["t", "b", I], x, X, xin, hn, axis=0)


def chain_unsqueeze_case(name, I=3, H=4, T=5, Bn=2):
    """Two forward layers linked by Squeeze, Unsqueeze, Identity and a
    Reshape: [T, 1, B, H] -> [T, B, H] -> [T, B, 1, H] -> [T, B, H]."""
    rng = seed(name)
    X = rng.standard_normal((T, Bn, I)).astype(np.float32)
    inits = [tensor("ax1", [1], np.int64), tensor("ax2", [2], np.int64),
             tensor("shape", [0, 0, -1], np.int64)]
    nodes, hn, x, xin = [], [], "X", X
    for l in range(2):
        W, R, B = rnn_weights(rng, 1, H, xin.shape[2])
        p = "l%d" % l
        inits += [tensor(p + "W", W), tensor(p + "R", R), tensor(p + "B", B)]
        nodes.append(helper.make_node("RNN", [x, p + "W", p + "R", p + "B"], [p + "Y", p + "Yh"],
                                      name=p, hidden_size=H))
        nodes += [helper.make_node("Squeeze", [p + "Y", "ax1"], [p + "a"]),
                  helper.make_node("Unsqueeze", [p + "a", "ax2"], [p + "b"]),
                  helper.make_node("Identity", [p + "b"], [p + "c"]),
                  helper.make_node("Reshape", [p + "c", "shape"], [p + "X"])]
        Y, Yh = ref_rnn(xin, W, R, B, None, None, "forward", resolve_acts(None, None, None, 1),
                        None, 0)
        hn.append(Yh)
        x, xin = p + "X", y_to_elman(Y, 0)
    save_chain(name, nodes, inits, ["t", "b", I], x, X, xin, hn, axis=0)


# ---- torch.onnx.export ----

def torch_case(name, I=3, H=4, L=1, nl="tanh", bias=True, bf=False, bi=False, h0=False,
               T=5, Bn=2, head=False):
    seed(name)
    rnn = torch.nn.RNN(I, H, num_layers=L, nonlinearity=nl, bias=bias, batch_first=bf,
                       bidirectional=bi).eval()
    D = 2 if bi else 1

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = rnn
            self.fc = torch.nn.Linear(D * H, 2)

        def forward(self, x, *h):
            y, hn = self.rnn(x, *h)
            return (self.fc(y), hn) if head else (y, hn)

    net = Net().eval()
    x = torch.randn((Bn, T, I) if bf else (T, Bn, I))
    h = torch.randn(L * D, Bn, H) if h0 else None
    args = (x, h) if h0 else (x,)
    f = io.BytesIO()
    names = ["x"] + (["h0"] if h0 else [])
    dyn = {"x": {0: "d0", 1: "d1"}}
    if h0:
        dyn["h0"] = {1: "batch"}
    torch.onnx.export(net, args, f, input_names=names, output_names=["y", "hn"],
                      dynamic_axes=dyn, opset_version=OPSET)
    with open(os.path.join(OUT, name + ".onnx"), "wb") as out:
        out.write(f.getvalue())
    with torch.no_grad():
        y, hn = rnn(x, *([h] if h0 else []))
    # Expected: PyTorch's float32 run (the RNN's output, not the head's).
    record(name, x.numpy(), y.numpy(), hn.numpy(), None if h is None else h.numpy(), None,
           ref=False)


def torch_cases():
    torch.set_num_threads(1)
    torch_case("torch_1l")
    torch_case("torch_1l_h0", h0=True)
    torch_case("torch_2l")
    torch_case("torch_3l_relu", L=3, nl="relu")
    torch_case("torch_bi")
    torch_case("torch_2l_bi_bf_h0", L=2, bi=True, bf=True, h0=True)
    torch_case("torch_3l_bi_relu", L=3, bi=True, nl="relu", h0=True)
    torch_case("torch_nobias", bias=False, L=2)
    torch_case("torch_bf", bf=True)
    torch_case("torch_bf_h0_2l", bf=True, h0=True, L=2)
    torch_case("torch_head", L=2, head=True)
    torch_case("torch_h1_i1", I=1, H=1, L=2, bi=True)


# ---- the onnx package's backend test cases ----

def backend_cases():
    """Runs the RNN cases of onnx/backend/test/case/node/rnn.py, catching
    what they pass to expect(): the node, its inputs, its outputs."""
    from onnx.backend.test.case.node import rnn as backend_rnn
    caught = []

    def expect(node, inputs, outputs, name, **kw):
        caught.append((node, inputs, outputs, name))

    backend_rnn.expect = expect
    np.random.seed(0)
    for fn in ("export_defaults", "export_initial_bias", "export_seq_length",
               "export_batchwise"):
        getattr(backend_rnn.RNN, fn)()
    for node, inputs, outputs, name in caught:
        layout = next((a.i for a in node.attribute if a.name == "layout"), 0)
        names = list(node.input)
        inits = [tensor(n, a) for n, a in zip(names[1:], inputs[1:])]
        X = inputs[0]
        x_shape = ["a", "b", X.shape[2]]
        outs = []
        ys = list(node.output)
        for o in ys:
            if o:
                outs.append(vi(o, TensorProto.FLOAT, None))
        model = make_model([node], [vi("X", TensorProto.FLOAT, x_shape)], outs, inits)
        nm = "backend_" + name[len("test_"):]
        onnx.save(model, os.path.join(OUT, nm + ".onnx"))
        got = dict(zip([o for o in ys if o], outputs))
        y = y_to_elman(got["Y"], layout) if "Y" in got else None
        record(nm, X, y, got["Y_h"], ref=False)  # the package's float32 outputs


# ---- bad files ----

BAD_CASES = []


def bad(name, model_or_bytes, code, text):
    data = model_or_bytes if isinstance(model_or_bytes, bytes) else \
        model_or_bytes.SerializeToString()
    with open(os.path.join(BAD, name + ".onnx"), "wb") as f:
        f.write(data)
    BAD_CASES.append("%s %s %s" % (name, code, text))


def simple(attrs=None, W=None, R=None, B=None, inputs_extra=(), init_skip=(), nodes_pre=(),
           rnn_inputs=None, extra_inits=()):
    rng = np.random.default_rng(1)
    W0, R0, B0 = rnn_weights(rng, 1, 4, 3)
    W = W0 if W is None else W
    R = R0 if R is None else R
    B = B0 if B is None else B
    attrs = {"hidden_size": 4} if attrs is None else attrs
    inits = [tensor(n, a) for n, a in (("W", W), ("R", R), ("B", B)) if n not in init_skip]
    inits += list(extra_inits)
    ins = [vi("X", TensorProto.FLOAT, ["t", "b", 3])] + list(inputs_extra)
    node = helper.make_node("RNN", rnn_inputs or ["X", "W", "R", "B"], ["Y", "Y_h"], name="rnn",
                            **attrs)
    return make_model(list(nodes_pre) + [node], ins, [vi("Y", TensorProto.FLOAT, None)], inits)


def two_layers(between, attrs2=None, y_out="Y", H2=4):
    """Two forward layers, layer 0's output `y_out` through `between`
    (a list of (op, inputs-after-the-first, attrs)) into layer 1, of
    hidden size 4 and H2."""
    rng = np.random.default_rng(2)
    inits = []
    nodes = []
    for l in range(2):
        W, R, B = rnn_weights(rng, 1, 4 if l == 0 else H2, 3 if l == 0 else 4)
        inits += [tensor("W%d" % l, W), tensor("R%d" % l, R), tensor("B%d" % l, B)]
    nodes.append(helper.make_node("RNN", ["X", "W0", "R0", "B0"], ["Y", "Y_h"], name="l0",
                                  hidden_size=4))
    cur = y_out
    for i, (op, rest, at) in enumerate(between):
        nodes.append(helper.make_node(op, [cur] + rest, ["t%d" % i], name="op%d" % i, **at))
        cur = "t%d" % i
    nodes.append(helper.make_node("RNN", [cur, "W1", "R1", "B1"], ["Y1", "Y1_h"], name="l1",
                                  **(attrs2 or {"hidden_size": 4})))
    inits.append(tensor("ax1", [1], np.int64))
    inits.append(tensor("shape_wrong", [-1, 0, 4], np.int64))
    return make_model(nodes, [vi("X", TensorProto.FLOAT, ["t", "b", 3])],
                      [vi("Y1", TensorProto.FLOAT, None)], inits)


def varint(n):
    out = b""
    while True:
        b, n = n & 0x7f, n >> 7
        if not n:
            return out + bytes([b])
        out += bytes([b | 0x80])


def deep_model(levels):
    """Graphs in attributes of nodes of graphs, `levels` deep: the headers
    of every level, outermost first (each payload is the rest)."""
    fields = [1, 5, 6] * levels  # GraphProto.node, NodeProto.attribute, AttributeProto.g
    hdrs, inner = [], 0
    for f in reversed(fields):
        h = varint(f << 3 | 2) + varint(inner)
        hdrs.append(h)
        inner += len(h)
    body = b"".join(reversed(hdrs))
    return b"\x08\x08" + varint(7 << 3 | 2) + varint(len(body)) + body


def write_bad():
    good = simple().SerializeToString()
    bad("deep_nesting", deep_model(100), "ELMAN_ERR_UNSUPPORTED", "nests messages more than")
    bad("empty", b"", "ELMAN_ERR_FORMAT", "empty")
    bad("truncated", good[:len(good) // 2], "ELMAN_ERR_FORMAT", "malformed or truncated")
    bad("garbage", b"\x08\x07\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", "ELMAN_ERR_FORMAT",
        "malformed or truncated")
    m = onnx.ModelProto()
    m.ir_version = 8
    bad("no_graph", m, "ELMAN_ERR_FORMAT", "no graph")
    bad("no_rnn", make_model([helper.make_node("Relu", ["X"], ["Y"])],
                             [vi("X", TensorProto.FLOAT, [1])], [vi("Y", TensorProto.FLOAT, None)],
                             []), "ELMAN_ERR_SHAPE", "no RNN node")
    bad("missing_w", simple(init_skip=("W",)), "ELMAN_ERR_SHAPE", "W of RNN node rnn (W) is missing")
    bad("w_graph_input", simple(init_skip=("W",), inputs_extra=[vi("W", TensorProto.FLOAT,
                                                                    [1, 4, 3])]),
        "ELMAN_ERR_SHAPE", "graph input without an initializer")
    bad("no_r_input", simple(rnn_inputs=["X", "W"]), "ELMAN_ERR_SHAPE", "has no R")
    bad("hidden_vs_w", simple(attrs={"hidden_size": 5}), "ELMAN_ERR_SHAPE",
        "W of RNN node rnn has shape [1, 4, 3], but hidden_size is 5")
    bad("w_shape", simple(W=np.zeros((1, 5, 3), np.float32)), "ELMAN_ERR_SHAPE",
        "W of RNN node rnn has shape [1, 5, 3], but hidden_size is 4")
    bad("r_shape", simple(R=np.zeros((1, 4, 5), np.float32)), "ELMAN_ERR_SHAPE",
        "R of RNN node rnn has shape [1, 4, 5], expected [1, 4, 4]")
    bad("w_directions", simple(attrs={"hidden_size": 4, "direction": "bidirectional"}),
        "ELMAN_ERR_SHAPE", "expected [2, 4, 3]")
    bad("b_shape", simple(B=np.zeros((1, 4), np.float32)), "ELMAN_ERR_SHAPE",
        "B of RNN node rnn has shape [1, 4]")
    bad("unknown_activation", simple(attrs={"hidden_size": 4, "activations": ["Gelu"]}),
        "ELMAN_ERR_INVALID_CONFIG", "unknown activation \"Gelu\"")
    bad("bad_direction", simple(attrs={"hidden_size": 4, "direction": "sideways"}),
        "ELMAN_ERR_INVALID_CONFIG", "direction is not forward")
    bad("bad_layout", simple(attrs={"hidden_size": 4, "layout": 2}), "ELMAN_ERR_INVALID_CONFIG",
        "layout is not 0 or 1")
    bad("bad_clip", simple(attrs={"hidden_size": 4, "clip": -1.0}), "ELMAN_ERR_INVALID_CONFIG",
        "clip is not a positive number")
    bad("unknown_attribute", simple(attrs={"hidden_size": 4, "input_forget": 1}),
        "ELMAN_ERR_UNSUPPORTED", "an attribute ONNX's RNN does not have")
    bad("too_many_alphas", simple(attrs={"hidden_size": 4, "activations": ["Relu"],
                                         "activation_alpha": [0.5]}),
        "ELMAN_ERR_INVALID_CONFIG", "more activation_alpha")
    rng = np.random.default_rng(3)
    W2, R2, B2 = rnn_weights(rng, 2, 4, 3)
    bad("directions_disagree",
        simple(attrs={"hidden_size": 4, "direction": "bidirectional",
                      "activations": ["Tanh", "Relu"]}, W=W2, R=R2, B=B2),
        "ELMAN_ERR_UNSUPPORTED", "different activations")
    bad("alphas_disagree",
        simple(attrs={"hidden_size": 4, "direction": "bidirectional",
                      "activations": ["LeakyRelu", "LeakyRelu"], "activation_alpha": [0.1, 0.2]},
               W=W2, R=R2, B=B2),
        "ELMAN_ERR_UNSUPPORTED", "different activations")
    bad("int_weights", simple(extra_inits=[], W=None, init_skip=("W",),
                              nodes_pre=[helper.make_node("Constant", [], ["W"],
                                                          value=tensor("w", np.zeros((1, 4, 3)),
                                                                       np.int32))]),
        "ELMAN_ERR_UNSUPPORTED", "expected float")
    bad("computed_w", simple(init_skip=("W",), extra_inits=[tensor("W_", rnn_weights(rng, 1, 4,
                                                                                      3)[0])],
                             nodes_pre=[helper.make_node("Relu", ["W_"], ["W"], name="mk")]),
        "ELMAN_ERR_UNSUPPORTED", "computed by node mk (Relu)")
    bad("const_h0", simple(rnn_inputs=["X", "W", "R", "B", "", "h"],
                           extra_inits=[tensor("h", np.ones((1, 2, 4)))]),
        "ELMAN_ERR_UNSUPPORTED", "constant that is not zero")
    bad("computed_h0", simple(rnn_inputs=["X", "W", "R", "B", "", "h"],
                              inputs_extra=[vi("h_in", TensorProto.FLOAT, [1, "b", 4])],
                              nodes_pre=[helper.make_node("Relu", ["h_in"], ["h"], name="r")]),
        "ELMAN_ERR_UNSUPPORTED", "comes from node r (Relu)")
    bad("const_lengths", simple(rnn_inputs=["X", "W", "R", "B", "sl"],
                                extra_inits=[tensor("sl", [2, 2], np.int32)]),
        "ELMAN_ERR_UNSUPPORTED", "sequence_lens of RNN node rnn is a constant")
    bad("x_computed", simple(rnn_inputs=["Xr", "W", "R", "B"],
                             nodes_pre=[helper.make_node("Relu", ["X"], ["Xr"], name="pre")]),
        "ELMAN_ERR_SHAPE", "node pre (Relu)")
    bad("x_constant", simple(rnn_inputs=["Xc", "W", "R", "B"],
                             extra_inits=[tensor("Xc", np.zeros((2, 1, 3)))]),
        "ELMAN_ERR_SHAPE", "neither a graph input")
    bad("relu_between", two_layers([("Squeeze", ["ax1"], {}), ("Relu", [], {})]),
        "ELMAN_ERR_SHAPE", "node op1 (Relu) on the way to an RNN layer's X is not a pure layout change")
    bad("reshape_moves", two_layers([("Reshape", ["shape_wrong"], {})]),
        "ELMAN_ERR_SHAPE", "not a pure layout change")
    bad("transpose_wrong", two_layers([("Squeeze", ["ax1"], {}),
                                       ("Transpose", [], {"perm": [1, 0, 2]})]),
        "ELMAN_ERR_SHAPE", "reordered")
    bad("squeeze_no_axes", two_layers([("Squeeze", [], {})]), "ELMAN_ERR_SHAPE",
        "no axes")
    bad("reads_y_h", two_layers([], y_out="Y_h"), "ELMAN_ERR_SHAPE", "reads Y_h")
    bad("layers_differ", two_layers([("Squeeze", ["ax1"], {})],
                                    attrs2={"hidden_size": 4, "activations": ["Relu"]}),
        "ELMAN_ERR_UNSUPPORTED", "differ in activation")
    bad("layers_direction", two_layers([("Squeeze", ["ax1"], {})],
                                       attrs2={"hidden_size": 4, "direction": "reverse"}),
        "ELMAN_ERR_UNSUPPORTED", "another direction")
    bad("layers_clip", two_layers([("Squeeze", ["ax1"], {})],
                                  attrs2={"hidden_size": 4, "clip": 1.0}),
        "ELMAN_ERR_UNSUPPORTED", "RNN nodes l0 and l1 differ in clip")
    bad("layers_hidden", two_layers([("Squeeze", ["ax1"], {})], attrs2={"hidden_size": 5},
                                    H2=5),
        "ELMAN_ERR_UNSUPPORTED", "RNN nodes l0 and l1 differ in hidden_size")
    # A pair's directions differ in clip.
    m = onnx.load(os.path.join(OUT, "node_pair.onnx"))
    next(n for n in m.graph.node if n.name == "l0r").attribute.append(
        helper.make_attribute("clip", 2.0))
    bad("pair_clip", m, "ELMAN_ERR_UNSUPPORTED", "RNN nodes l0f and l0r differ in clip")
    # initial_h expanded from a constant that is not zero.
    bad("h0_expand_nonzero",
        simple(rnn_inputs=["X", "W", "R", "B", "", "h"],
               extra_inits=[tensor("h1", np.ones((1, 1, 4))), tensor("hs", [1, 2, 4], np.int64)],
               nodes_pre=[helper.make_node("Expand", ["h1", "hs"], ["h"], name="hx")]),
        "ELMAN_ERR_UNSUPPORTED", "initial_h of RNN node rnn comes from node hx (Expand)")
    # Two independent RNNs on the same input.
    m = simple()
    m.graph.node.append(helper.make_node("RNN", ["X", "W", "R", "B"], ["Y2", "Y2_h"],
                                         name="other", hidden_size=4))
    bad("two_chains", m, "ELMAN_ERR_SHAPE", "two RNN chains")
    m = two_layers([("Squeeze", ["ax1"], {})])
    m.graph.node.append(helper.make_node("RNN", ["t0", "W1", "R1", "B1"], ["Y3", "Y3_h"],
                                         name="branch", hidden_size=4))
    bad("two_chains_branch", m, "ELMAN_ERR_SHAPE", "two RNN chains")
    # Concats of Concats, 40 deep: refused at once, not walked 2^40 times.
    cats = [("Squeeze", ["ax1"], {})] + [("Concat", [], {"axis": 2})] * 40
    m = two_layers(cats)
    for n in m.graph.node:
        if n.op_type == "Concat":
            n.input.append(n.input[0])
    bad("concat_bomb", m, "ELMAN_ERR_SHAPE", "a Concat inside a Concat")
    # An external-data tensor.
    m = simple()
    w = m.graph.initializer[0]
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    w.external_data.add(key="location", value="w.bin")
    bad("external_data", m, "ELMAN_ERR_UNSUPPORTED", "external file")
    m = simple()
    m.graph.initializer[0].raw_data = m.graph.initializer[0].raw_data[:-4]
    bad("short_raw_data", m, "ELMAN_ERR_FORMAT", "its shape needs 48")
    # The pair of directions joined in the wrong order.
    m = onnx.load(os.path.join(OUT, "node_pair.onnx"))
    cat = [n for n in m.graph.node if n.op_type == "Concat"][0]
    a, b = list(cat.input)
    del cat.input[:]
    cat.input.extend([b, a])
    bad("pair_wrong_order", m, "ELMAN_ERR_SHAPE", "not joined by a Concat")
    # The pair's reverse node reads fewer inputs than its forward node (a
    # crash found by fuzz_onnx: the weights were copied at the first's size).
    m = onnx.load(os.path.join(OUT, "node_pair.onnx"))
    for t in m.graph.initializer:
        if t.name == "l0rW":
            t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t)[:, :, :2].copy(), "l0rW"))
    bad("pair_input_sizes", m, "ELMAN_ERR_SHAPE",
        "W of RNN node l0r reads 2 inputs, but node l0f, the other direction of layer 0, reads 3")


def main():
    for d in (OUT,):
        if os.path.isdir(d):
            shutil.rmtree(d)
    os.makedirs(BAD)
    node_cases()
    torch_cases()
    backend_cases()
    write_bad()
    with open(os.path.join(OUT, "cases.txt"), "w") as f:
        f.write("\n".join(CASES) + "\n")
    with open(os.path.join(OUT, "bad.txt"), "w") as f:
        f.write("\n".join(BAD_CASES) + "\n")
    with open(os.path.join(OUT, "overrides.txt"), "w") as f:
        f.write("\n".join(OVERRIDES) + "\n")
    print("wrote %d cases and %d bad files to %s" % (len(CASES), len(BAD_CASES), OUT))


if __name__ == "__main__":
    sys.exit(main())
