//go:build !amd64

package runtime

// gemmArch is the architecture's assembly GEMM implementation; there is
// none on this architecture, so Sgemm always uses gemmGeneric.
var gemmArch *gemmImpl
