"""The compile path never imports torch."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
from compiler.cli import main
from frontend.builtin import dlrm_onnx
import onnx
onnx.save(dlrm_onnx(), sys.argv[1] + "/m.onnx")
assert main(["import", sys.argv[1] + "/m.onnx", "--batch", "4", "-o", sys.argv[1] + "/m.pir"]) == 0
assert main(["opt", sys.argv[1] + "/m.pir", "-p", "canonicalize,fuse-interactions",
             "-o", sys.argv[1] + "/o.pir"]) == 0
bad = sorted(m for m in sys.modules if m == "torch" or m.startswith("torch."))
print("TORCH:", bad)
"""


def test_import_and_opt_do_not_import_torch(tmp_path):
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True,
                          text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "TORCH: []" in proc.stdout
