"""ONNX RNN, GRU and LSTM imported as nn.rnn / nn.gru / nn.lstm and run by the interpreter,
against ONNX Runtime: every direction, sequence lengths, initial states, both layouts,
activation lists with alpha/beta, clip, linear_before_reset, input_forget, every output; and
torch's nn.GRU / nn.LSTM exported by both exporters."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper, numpy_helper

from frontend.onnx import import_onnx
from ir.dialects import nn_seq
from ir.errors import PimcError
from ir.interp import run
from ir.text import parse, print_module_with_weights

SEQ, BATCH, SIZE, HIDDEN = 5, 3, 4, 6
GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}
IR_OP = {"RNN": nn_seq.Rnn, "GRU": nn_seq.Gru, "LSTM": nn_seq.Lstm}
# Alternative activation lists (one direction), with the alpha/beta they consume.
ALTERNATIVES = {
    "RNN": {"activations": ["LeakyRelu"], "activation_alpha": [0.3]},
    "GRU": {"activations": ["HardSigmoid", "Softsign"], "activation_alpha": [0.3],
            "activation_beta": [0.6]},
    "LSTM": {"activations": ["HardSigmoid", "Elu", "Softplus"],
             "activation_alpha": [0.25, 0.8], "activation_beta": [0.45]},
}


def _recurrent_model(op: str, direction: str, *, lens=False, states=False, peep=False,
                     layout=0, outputs=None, **attrs) -> tuple[onnx.ModelProto, dict]:
    rng = np.random.default_rng(len(op) * 7 + len(direction) + lens)
    dirs, g = (2 if direction == "bidirectional" else 1), GATES[op]
    x_shape, s_shape = (SEQ, BATCH, SIZE), (dirs, BATCH, HIDDEN)
    inits = [numpy_helper.from_array(rng.uniform(-0.6, 0.6, shape).astype(np.float32), name)
             for name, shape in (("W", (dirs, g * HIDDEN, SIZE)), ("R", (dirs, g * HIDDEN, HIDDEN)),
                                 ("B", (dirs, 2 * g * HIDDEN)), ("P", (dirs, 3 * HIDDEN)))]
    feed = {"X": rng.normal(size=x_shape).astype(np.float32),
            "L": np.array([SEQ, 2, 4], np.int32),
            "H0": rng.normal(size=s_shape).astype(np.float32),
            "C0": rng.normal(size=s_shape).astype(np.float32)}
    names = ["X", "W", "R", "B" if states else "", "L" if lens else "",
             "H0" if states else "", "C0" if states and op == "LSTM" else "",
             "P" if peep else ""][:3 + (5 if op == "LSTM" else 3)]
    while not names[-1]:
        names.pop()
    feed = {k: v.transpose(1, 0, 2) if layout and v.ndim == 3 else v
            for k, v in feed.items() if k in names}
    inputs = [helper.make_tensor_value_info(k, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
              for k, v in feed.items()]
    outs = outputs or ["Y", "Y_h", "Y_c"][:3 if op == "LSTM" else 2]
    node = helper.make_node(op, names, outs, name="rec", hidden_size=HIDDEN, direction=direction,
                            layout=layout, **attrs)
    graph = helper.make_graph([node], "g", inputs, [helper.make_value_info(o, onnx.TypeProto())
                                                    for o in outs if o],
                              [i for i in inits if i.name in names])
    model = helper.make_model(graph, ir_version=9, opset_imports=[helper.make_opsetid("", 14)])
    return onnx.shape_inference.infer_shapes(model), feed  # typed outputs, as the checker wants


def _reference(model: onnx.ModelProto, feed: dict) -> list[np.ndarray]:
    """ONNX Runtime's outputs; a batch-major (layout=1) node, which ORT does not run, is run
    as its time-major twin on transposed inputs, its outputs transposed back."""
    node = model.graph.node[0]
    layout = next((a.i for a in node.attribute if a.name == "layout"), 0)
    if layout:
        model = onnx.ModelProto.FromString(model.SerializeToString())
        node = model.graph.node[0]
        next(a for a in node.attribute if a.name == "layout").i = 0
        for o in model.graph.output:
            o.type.tensor_type.ClearField("shape")
        for i in model.graph.input:
            dims = i.type.tensor_type.shape.dim
            if len(dims) == 3:
                dims[0].dim_value, dims[1].dim_value = dims[1].dim_value, dims[0].dim_value
        feed = {k: v.transpose(1, 0, 2) if v.ndim == 3 else v for k, v in feed.items()}
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    out = sess.run(None, feed)
    if not layout:
        return out
    return [o.transpose(2, 0, 1, 3) if o.ndim == 4 else o.transpose(1, 0, 2) for o in out]


def _check(model: onnx.ModelProto, feed: dict, op: str) -> None:
    module = import_onnx(model)
    assert len(module.main.find(IR_OP[op])) == 1
    got = run(module.main, feed)
    want = _reference(model, feed)
    assert len(got) == len(want) == len(model.graph.output)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


VARIANTS = {
    "defaults": {},
    "lens_states": {"lens": True, "states": True},
    "layout1": {"lens": True, "states": True, "layout": 1},
    "clip": {"states": True, "clip": 0.6},
    "alternatives": {"lens": True},
    "final_state_only": {"lens": True, "states": True},
}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
@pytest.mark.parametrize("op", ["RNN", "GRU", "LSTM"])
def test_matches_onnxruntime(op: str, direction: str, variant: str) -> None:
    kw = dict(VARIANTS[variant])
    if variant == "alternatives":  # the same functions in both directions, alpha/beta twice
        kw.update({k: v * (2 if direction == "bidirectional" else 1)
                   for k, v in ALTERNATIVES[op].items()})
    if variant == "final_state_only":
        kw["outputs"] = ["", "Y_h"]
    if op == "LSTM" and variant == "lens_states":
        kw["peep"] = True
    _check(*_recurrent_model(op, direction, **kw), op)


@pytest.mark.parametrize("direction", ["forward", "bidirectional"])
def test_gru_linear_before_reset(direction: str) -> None:
    model, feed = _recurrent_model("GRU", direction, lens=True, states=True,
                                   linear_before_reset=1)
    _check(model, feed, "GRU")
    (gru,) = import_onnx(model).main.find(nn_seq.Gru)
    assert gru.attrs["linear_before_reset"] is True


def test_lstm_input_forget_and_peepholes() -> None:
    model, feed = _recurrent_model("LSTM", "reverse", lens=True, states=True, peep=True,
                                   input_forget=1)
    _check(model, feed, "LSTM")


def test_alpha_and_beta_go_to_the_functions_that_read_them() -> None:
    """ONNX Runtime's rule: each function takes the next alpha (beta) only if it reads one,
    its default when the list has run out."""
    acts = {"activations": ["HardSigmoid", "Tanh", "Affine", "Sigmoid"],
            "activation_alpha": [0.3, 0.7], "activation_beta": [0.6]}
    model, feed = _recurrent_model("GRU", "bidirectional", **acts)
    (gru,) = import_onnx(model).main.find(nn_seq.Gru)
    assert gru.attrs["activations"] == ("hardsigmoid", "tanh", "affine", "sigmoid")
    assert gru.attrs["activation_alpha"] == pytest.approx((0.3, 0.0, 0.7, 0.0))
    assert gru.attrs["activation_beta"] == pytest.approx((0.6, 0.0, 0.0, 0.0))
    _check(model, feed, "GRU")


def test_text_form_round_trips() -> None:
    model, _ = _recurrent_model("LSTM", "bidirectional", lens=True, states=True, clip=2.0)
    text, weights = print_module_with_weights(import_onnx(model))
    assert "nn.lstm(" in text and 'direction = "bidirectional"' in text
    assert print_module_with_weights(parse(text, weights))[0] == text


@pytest.mark.parametrize("attrs, message", [
    ({"activations": ["Sigmoid", "Gelu"]},
     "activation 'gelu' is not supported; accepted: relu, tanh, sigmoid, "),
    ({"activations": ["Sigmoid"]}, "1 activations given; accepted: 2 per direction"),
    ({"direction": "sideways"}, "direction 'sideways' is not supported; accepted: forward, "),
    ({"hidden_size": 5}, "hidden_size 5 differs from R's last dimension 6"),
])
def test_bad_attributes_are_refused(attrs: dict, message: str) -> None:
    model, _ = _recurrent_model("GRU", "forward")
    node = model.graph.node[0]
    del node.attribute[:]
    node.attribute.extend(helper.make_attribute(k, v) for k, v in
                          {"hidden_size": HIDDEN, **attrs}.items())
    for o in model.graph.output:  # leave the shape check to the importer, not onnx.checker
        o.type.tensor_type.ClearField("shape")
    with pytest.raises(PimcError) as exc:
        import_onnx(model)
    text = str(exc.value)
    assert "\n" not in text and text.startswith(f"GRU node 'rec': {message}")


def test_verifier_rejects_weights_of_the_wrong_shape() -> None:
    model, _ = _recurrent_model("GRU", "forward")
    gru = import_onnx(model).main.find(nn_seq.Gru)[0]
    w = gru.operands[1]
    with pytest.raises(PimcError, match=r"nn.gru: w has shape \[1, 18, 3\], expected \[1, 18, 4\]"):
        nn_seq.Gru([gru.operands[0], _const_like(w, (1, 18, 3)), *gru.operands[2:]],
                   gru.attrs)


def _const_like(v, shape):
    from ir.dialects import nn
    return nn.Constant((), {"value": np.zeros(shape, v.type.np_dtype)}).result


# -- torch exports ------------------------------------------------------------------------
def _torch_export(cell: str, dynamo: bool) -> tuple[onnx.ModelProto, np.ndarray, list]:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            kind = getattr(torch.nn, cell)
            self.rnn = kind(SIZE, HIDDEN, num_layers=2, bidirectional=True, batch_first=True)

        def forward(self, x):
            y, state = self.rnn(x)
            return y, state[0] if isinstance(state, tuple) else state

    net = Net().eval()
    x = torch.randn(BATCH, SEQ, SIZE)
    try:
        if dynamo:
            model = torch.onnx.export(net, (x,), dynamo=True, verbose=False).model_proto
        else:
            import io
            buf = io.BytesIO()
            torch.onnx.export(net, (x,), buf, dynamo=False, input_names=["x"], opset_version=17)
            model = onnx.load_from_string(buf.getvalue())
    except Exception as exc:  # an exporter that cannot export this model is not our bug
        pytest.skip(f"torch export failed: {type(exc).__name__}")
    with torch.no_grad():
        want = [t.numpy() for t in net(x)]
    return model, x.numpy(), want


@pytest.mark.parametrize("dynamo", [False, True], ids=["legacy", "dynamo"])
@pytest.mark.parametrize("cell", ["GRU", "LSTM"])
def test_torch_export(cell: str, dynamo: bool) -> None:
    model, x, want = _torch_export(cell, dynamo)
    module = import_onnx(model)
    assert len(module.main.find(IR_OP[cell])) == 2  # one per layer, both directions in each
    feed = {model.graph.input[0].name: x}
    got = run(module.main, feed)
    ref = ort.InferenceSession(model.SerializeToString(),
                               providers=["CPUExecutionProvider"]).run(None, feed)
    for g, r, w in zip(got, ref, want):
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("op", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
def test_a_zero_length_sequence_ends_in_zero_states(op: str, direction: str) -> None:
    # ONNX Runtime gives a row of length 0 zero final states, not its (nonzero) initial ones
    model, feed = _recurrent_model(op, direction, lens=True, states=True)
    feed["L"] = np.array([0, 2, 4], np.int32)
    _check(model, feed, op)
