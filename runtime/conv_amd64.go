package runtime

import "os"

// convAdd8 adds v[i] to d[i] for i < n rounded down to a multiple of
// eight (conv_amd64.s, SSE only).
//
//go:noescape
func convAdd8(d, v *float32, n int)

// addInto adds v[i] to d[i] for i < len(d); v must be at least as long
// as d.
func addInto(d, v []float32) {
	n := len(d)
	v = v[:n]
	if m := n &^ 7; m > 0 {
		convAdd8(&d[0], &v[0], m)
	}
	addIntoGo(d[n&^7:], v[n&^7:])
}

// convDirect3x32 computes three rows of 32 sums of products with AVX2 and
// FMA, reading its inputs through a table of offsets (in float32s):
//
//	y[j*ystride+o] = Σ_{t<steps} xj[off[t]] · f[t*fstride+o]
//
// for j < 3 (x0, x1, x2) and o < 32. For Conv2D the steps are the filter
// taps and xj the first taps of three output pixels; for
// Conv2DBackpropFilter the steps are the output pixels, xj the offsets of
// three taps and f the output gradient.
//
//go:noescape
func convDirect3x32(steps int, x0, x1, x2 *float32, off *int, f *float32, fstride int, y *float32, ystride int)

// convDirectArch is the direct kernel of this architecture: convDirect3x32
// on CPUs with AVX2 and FMA, unless FLOW_KERNELS=generic asks for the
// portable kernels (as it does of Sgemm).
var convDirectArch = func() func(x []float32, xo [3]int, off []int, f []float32, fstride int, y []float32, ystride int) {
	if !hasAVX2FMA() || os.Getenv("FLOW_KERNELS") == "generic" {
		return nil
	}
	return convDirectAVX2
}()

// convDirectAVX2 checks the extent of every slice convDirect3x32 reads or
// writes, then calls it with xj = x[xo[j]:]: the offsets in off must
// ascend, and x must reach the last of every xj, f the last step's 32
// values, y the third row's 32 outputs.
func convDirectAVX2(x []float32, xo [3]int, off []int, f []float32, fstride int, y []float32, ystride int) {
	steps := len(off)
	if steps == 0 {
		clear(y[:32])
		clear(y[ystride : ystride+32])
		clear(y[2*ystride : 2*ystride+32])
		return
	}
	last := off[steps-1]
	_ = x[xo[0]+last]
	_ = x[xo[1]+last]
	_ = x[xo[2]+last]
	_ = x[xo[0]+off[0]]
	_ = x[xo[1]+off[0]]
	_ = x[xo[2]+off[0]]
	_ = f[(steps-1)*fstride+31]
	_ = y[2*ystride+31]
	convDirect3x32(steps, &x[xo[0]], &x[xo[1]], &x[xo[2]], &off[0], &f[0], fstride, &y[0], ystride)
}

// convBiasRelu8 adds b[o] (unless b is nil) to element o of each of
// pixels runs of oc values at d, then, if relu, replaces each value v by
// max(v, +0) with Relu's semantics (conv_amd64.s, SSE only). oc must be a
// positive multiple of 8.
//
//go:noescape
func convBiasRelu8(d, b *float32, pixels, oc int, relu bool)

// convEpilogueArch does convEpilogue's work on a leading part of d and
// returns its length: all of d when bias is nil (less a tail of up to
// seven values) or oc is a multiple of 8, nothing otherwise.
func convEpilogueArch(d, bias []float32, oc int, relu bool) int {
	if bias == nil {
		n := len(d) &^ 7
		if n > 0 && relu {
			convBiasRelu8(&d[0], nil, 1, n, true)
		}
		return n
	}
	if oc%8 != 0 || len(d) == 0 {
		return 0
	}
	pixels := len(d) / oc
	_ = d[pixels*oc-1]
	_ = bias[oc-1]
	convBiasRelu8(&d[0], &bias[0], pixels, oc, relu)
	return pixels * oc
}
