#!/usr/bin/env python3
"""Generate the .npy/.npz fixtures in this directory.

Run once by hand from this directory (python3 gen.py, numpy 1.24); the tests
read the committed outputs and never run Python. The values are written again,
independently, in ../npy_test.go, so the tests check the reader against what
numpy wrote rather than against this script.
"""
import numpy as np

np.save("f4.npy", np.arange(12, dtype="<f4").reshape(3, 4) / 4)
np.save("f8.npy", np.arange(6, dtype="<f8") - 2.5)
np.save("f2.npy", np.array([0, 1, -2, 0.5, 65504, 6e-8, np.inf, -np.inf], dtype="<f2"))
np.save("i4.npy", np.arange(-3, 3, dtype="<i4").reshape(2, 3))
np.save("i8.npy", np.array([-(2**40), -1, 0, 7, 2**40], dtype="<i8"))
np.save("u1.npy", np.arange(250, 256, dtype="u1"))
np.save("b1.npy", np.array([True, False, True, True]))
np.save("i1.npy", np.array([-128, -1, 0, 127], dtype="i1"))
np.save("u8.npy", np.array([0, 1, 2**63 + 5], dtype="<u8"))
np.save("be_f4.npy", (np.arange(5) * 1.5).astype(">f4"))
np.save("be_i2.npy", np.array([-300, 0, 300], dtype=">i2"))
np.save("scalar.npy", np.array(3.25, dtype="<f8"))
np.save("empty.npy", np.zeros((0, 3), dtype="<f4"))
np.save("fortran.npy", np.asfortranarray(np.arange(24, dtype="<i4").reshape(2, 3, 4)))
with open("v2.npy", "wb") as f:
    np.lib.format.write_array(f, np.arange(4, dtype="<f4").reshape(2, 2), version=(2, 0))
with open("v3.npy", "wb") as f:
    np.lib.format.write_array(f, np.arange(3, dtype="<i8"), version=(3, 0))
np.save("object.npy", np.array([1, "a", None], dtype=object), allow_pickle=True)
np.save("structured.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))

x = np.arange(6, dtype="<f4").reshape(2, 3)
y = np.array([1, 0], dtype="<i8")
np.savez("savez.npz", x=x, y=y)
np.savez_compressed("savez_compressed.npz", x=x, y=y)
