// Package npy reads NumPy arrays for training data: single arrays in the .npy
// format (versions 1.0, 2.0 and 3.0, as np.save and np.lib.format.write_array
// write them) and archives of them in the .npz format (np.savez and
// np.savez_compressed).
//
// The reader is strict and bounded. The header's dict literal is parsed by a
// small parser of its own (never evaluated), the element count and byte size
// it claims are checked for overflow and against a caller's limit before any
// data buffer is allocated, and the buffer grows only as data actually
// arrives, so a hostile header claiming 10^15 elements costs nothing. Every
// error names the file, and for .npz files the entry.
//
// Supported dtypes are the numeric ones in either byte order: f2 (half,
// widened to float32), f4, f8, i1, i2, i4, i8, u1, u2, u4, u8 and b1 (bool).
// Object arrays (pickles), structured dtypes, strings, dates and complex
// numbers are refused with an error saying so. Fortran-order arrays are
// transposed to C order on reading, so an Array's data is always row-major.
//
// It is not a writer, and it does not memory-map: arrays are read into memory.
package npy
