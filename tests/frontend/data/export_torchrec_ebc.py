"""Export torchrec_ebc_{legacy,dynamo}.onnx beside this file: a torchrec 1.8.0
EmbeddingBagCollection (2 features, tables of 10 x 4, sum pooling) fed a KeyedJaggedTensor
built from plain `values` [8] and `lengths` [2 keys x batch 3] inputs, by both torch 2.13
exporters.

Run it in a throwaway environment, never the project's (torchrec is not a dependency):
    python -m venv /tmp/trec-env && /tmp/trec-env/bin/pip install torch==2.13.0 onnx \\
        onnxscript onnxruntime tensordict torchmetrics==1.0.3 tqdm pyre-extensions
    /tmp/trec-env/bin/pip install --no-deps torchrec==1.8.0 fbgemm-gpu-cpu==1.8.0
    /tmp/trec-env/bin/python tests/frontend/data/export_torchrec_ebc.py

The legacy exporter traces KeyedJaggedTensor.to_dict() and bakes the per-key value counts of
the example (4 and 4) into a Split, so its file holds only for inputs with those counts; the
dynamo file splits the values by counts computed from `lengths` at run time.
"""

from __future__ import annotations

import io
from pathlib import Path

import onnx
import torch
from torchrec.modules.embedding_configs import EmbeddingBagConfig
from torchrec.modules.embedding_modules import EmbeddingBagCollection
from torchrec.sparse.jagged_tensor import KeyedJaggedTensor

HERE = Path(__file__).resolve().parent
KEYS = ["f1", "f2"]


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        tables = [EmbeddingBagConfig(name=f"t_{k}", embedding_dim=4, num_embeddings=10,
                                     feature_names=[k]) for k in KEYS]
        self.ebc = EmbeddingBagCollection(tables=tables, device=torch.device("cpu"))

    def forward(self, values: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        kjt = KeyedJaggedTensor(keys=KEYS, values=values, lengths=lengths)
        return self.ebc(kjt).values()


def main() -> None:
    torch.manual_seed(0)
    net = Net().eval()
    for p in net.parameters():
        torch.nn.init.normal_(p)
    values = torch.tensor([1, 2, 3, 4, 5, 6, 0, 9], dtype=torch.int64)
    lengths = torch.tensor([2, 1, 1, 0, 3, 1], dtype=torch.int64)
    names = {"input_names": ["values", "lengths"]}
    buf = io.BytesIO()
    torch.onnx.export(net, (values, lengths), buf, dynamo=False, opset_version=17,
                      output_names=["out"], **names)
    onnx.save(onnx.load_from_string(buf.getvalue()), HERE / "torchrec_ebc_legacy.onnx")
    program = torch.onnx.export(net, (values, lengths), dynamo=True, **names)
    onnx.save(program.model_proto, HERE / "torchrec_ebc_dynamo.onnx")


if __name__ == "__main__":
    main()
