//go:build !amd64

package runtime

// gemmArch is the architecture's assembly GEMM implementation; there is
// none on this architecture, so Sgemm always uses gemmGeneric.
var gemmArch *gemmImpl

// gemmArchImpls lists the architecture's assembly implementations: none.
var gemmArchImpls []*gemmImpl

// reluVec reports false: there is no vector ReLU on this architecture, so
// reluTile applies Relu element by element.
func reluVec(_, _ int, _ []float32, _ int) bool { return false }
