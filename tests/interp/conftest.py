"""Make the shared case modules beside these tests importable (pytest runs in importlib
mode)."""

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
