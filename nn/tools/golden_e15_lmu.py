"""Golden fixture for E15 LMU: the paper's (A, B) and their zero-order-hold discretisation by scipy.

Run by hand (never in CI), from the repository root, with a Python that has numpy and scipy (the peers
venv lacks scipy on this machine; the system python3 has both):
    python3 nn/tools/golden_e15_lmu.py
writes nn/src/test/resources/golden/e15/lmu_zoh.safetensors, read by
nn/src/test/java/dev/tessera/nn/mixer/LmuTest.java (discretisationMatchesScipy).

Reference: the LMU is paper only (REFERENCES.md); Voelker, Kajic, Eliasmith 2019, eq. (2):
    theta m'(t) = A m(t) + B u(t),  A_ij = (2i+1) * (-1 if i < j else (-1)^(i-j+1)),  B_i = (2i+1) * (-1)^i
discretised with step 1 by scipy.signal.cont2discrete((A/theta, B/theta, I, 0), dt=1, method="zoh"),
which is what the paper's own code (nengolib / keras-lmu) does.

Stored, for each case "d<order>_theta<theta>": <case>.A, <case>.B (continuous, (d, d) and (d, 1)) and
<case>.Abar, <case>.Bbar (discrete), float64.
"""
import json
import struct

import numpy as np
from scipy.signal import cont2discrete


def save_file(tensors, path):
    """The safetensors format by hand (8-byte header length, JSON header, raw little-endian data): no torch needed."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        data = np.ascontiguousarray(tensors[name], dtype="<f8").tobytes()
        header[name] = {"dtype": "F64", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def lmu_ab(d):
    a = np.zeros((d, d))
    b = np.zeros((d, 1))
    for i in range(d):
        for j in range(d):
            a[i, j] = (2 * i + 1) * (-1.0 if i < j else (-1.0) ** (i - j + 1))
        b[i, 0] = (2 * i + 1) * (-1.0) ** i
    return a, b


tensors = {}
for d, theta in ((1, 4.0), (4, 16.0), (6, 3.5), (12, 64.0)):
    a, b = lmu_ab(d)
    abar, bbar, _, _, _ = cont2discrete((a / theta, b / theta, np.eye(d), np.zeros((d, 1))), dt=1.0, method="zoh")
    case = f"d{d}_theta{theta:g}"
    tensors[case + ".A"] = a
    tensors[case + ".B"] = b
    tensors[case + ".Abar"] = abar
    tensors[case + ".Bbar"] = bbar
save_file(tensors, "nn/src/test/resources/golden/e15/lmu_zoh.safetensors")
print("wrote", sorted(tensors))
