package runtime

// Assembly kernels (pool_amd64.s), with SSE only.

// poolMax4 sets d[i] = v[i] if v[i] > d[i], for i < n rounded down to a
// multiple of four: exactly maxInto's rule, NaNs included (MAXPS returns
// its second operand, the old maximum, unless the first is greater).
//
//go:noescape
func poolMax4(d, v *float32, n int)

// poolArgMax4 sets bv[i] = v[i] and bi[i] = p where v[i] > bv[i], for
// i < n rounded down to a multiple of four: argMaxInto's rule.
//
//go:noescape
func poolArgMax4(bv *float32, bi *int32, v *float32, n int, p int32)

// maxInto sets d[i] = v[i] wherever v[i] > d[i], for i < len(d); v must
// be at least as long as d. The compare-and-branch loop mispredicts about
// every other element on real data, the SSE loop never.
func maxInto(d, v []float32) {
	n := len(d)
	v = v[:n]
	if m := n &^ 3; m > 0 {
		poolMax4(&d[0], &v[0], m)
	}
	maxIntoGo(d[n&^3:], v[n&^3:])
}

// argMaxInto sets bv[i] = v[i] and bi[i] = p wherever v[i] > bv[i], for
// i < len(bv); bi and v must be at least as long as bv.
func argMaxInto(bv []float32, bi []int32, v []float32, p int32) {
	n := len(bv)
	bi, v = bi[:n], v[:n]
	if m := n &^ 3; m > 0 {
		poolArgMax4(&bv[0], &bi[0], &v[0], m, p)
	}
	argMaxIntoGo(bv[n&^3:], bi[n&^3:], v[n&^3:], p)
}
