//go:build !amd64

package runtime

// mathLevelCPU is the best kernel level of the slice functions on this
// architecture: the Go loop.
const mathLevelCPU = mathGeneric

// mathSlice applies function fn to src into dst (of the same length)
// with the Go loop: there are no vector kernels on this architecture.
func mathSlice(level, fn int, dst, src []float32) { mathSliceGo(fn, dst, src) }
