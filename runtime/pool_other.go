//go:build !amd64

package runtime

// maxInto sets d[i] = v[i] wherever v[i] > d[i], for i < len(d); v must
// be at least as long as d.
func maxInto(d, v []float32) { maxIntoGo(d, v) }

// argMaxInto sets bv[i] = v[i] and bi[i] = p wherever v[i] > bv[i], for
// i < len(bv); bi and v must be at least as long as bv.
func argMaxInto(bv []float32, bi []int32, v []float32, p int32) { argMaxIntoGo(bv, bi, v, p) }
