"""Run inside the throwaway ZigZag venv (never pimc's): one ZigZag IMC evaluation, JSON to stdout.

usage: python zigzag_run.py {aimc|dimc} MODEL.onnx DUMP_DIR
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys


def main() -> None:
    import zigzag
    from zigzag.api import get_hardware_performance_zigzag

    hardware, model, dump = sys.argv[1:4]
    root = os.path.dirname(zigzag.__file__)
    accelerator = os.path.join(root, "inputs", "hardware", f"{hardware}.yaml")
    mapping = os.path.join(root, "inputs", "mapping", "default_imc.yaml")
    with contextlib.redirect_stdout(io.StringIO()):
        energy, latency, tclk, area, cmes = get_hardware_performance_zigzag(
            model, accelerator, mapping, in_memory_compute=True, dump_folder=dump,
            loma_show_progress_bar=False)
    logging.disable(logging.CRITICAL)
    layers = [_layer(cme) for cme, _ in cmes[0][1]]
    print(json.dumps({"energy": energy, "latency": latency, "tclk": tclk, "area": area,
                      "layers": layers}))


def _layer(cme) -> dict:
    dims = {str(k): v for k, v in cme.layer.layer_dim_sizes.items()}
    mem = {str(op): [float(x) for x in levels] for op, levels in cme.mem_energy_breakdown.items()}
    return {"name": cme.layer.name, "dims": dims, "energy": cme.energy_total,
            "latency": cme.latency_total2, "ideal_cycle": cme.ideal_cycle,
            "ideal_temporal_cycle": cme.ideal_temporal_cycle, "tclk": cme.tclk,
            "area": cme.area_total, "mac_energy": cme.mac_energy,
            "mac_breakdown": dict(cme.mac_energy_breakdown), "mem_energy": mem,
            "spatial_mapping": str(cme.spatial_mapping_int)}


if __name__ == "__main__":
    main()
