//go:build !amd64

package runtime

// addInto adds v[i] to d[i] for i < len(d); v must be at least as long
// as d.
func addInto(d, v []float32) { addIntoGo(d, v) }

// convDirectArch is the direct convolution kernel of this architecture:
// none, so Conv2D always uses im2col and Sgemm.
var convDirectArch func(x []float32, xo [3]int, off []int, f []float32, fstride int, y []float32, ystride int)

// convEpilogueArch does convEpilogue's work on a leading part of d and
// returns its length: none, the portable loops do it all.
func convEpilogueArch(d, bias []float32, oc int, relu bool) int { return 0 }
