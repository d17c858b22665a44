package runtime

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func stats32(v []float32) (mean, sd, lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range v {
		mean += float64(x)
		lo, hi = math.Min(lo, float64(x)), math.Max(hi, float64(x))
	}
	mean /= float64(len(v))
	for _, x := range v {
		sd += (float64(x) - mean) * (float64(x) - mean)
	}
	return mean, math.Sqrt(sd / float64(len(v))), lo, hi
}

// truncatedSD is the standard deviation of a standard normal truncated to
// [-2, 2], from its closed form: 1 - 2·2·φ(2)/(Φ(2)-Φ(-2)).
func truncatedSD() float64 {
	phi := math.Exp(-2) / math.Sqrt(2*math.Pi)
	return math.Sqrt(1 - 4*phi/math.Erf(2/math.Sqrt2))
}

func TestTruncatedNormalStddev(t *testing.T) {
	require.InDelta(t, truncatedSD(), TruncatedNormalStddev, 1e-15)
}

// TestFans checks Keras's fan computation for every rank against
// hand-computed values.
func TestFans(t *testing.T) {
	tests := []struct {
		shape         []int
		fanIn, fanOut int
	}{
		{nil, 1, 1},
		{[]int{}, 1, 1},
		{[]int{7}, 7, 7},
		{[]int{784, 10}, 784, 10},
		{[]int{5, 8, 4}, 40, 20},
		{[]int{3, 3, 2, 8}, 18, 72},
		{[]int{5, 5, 32, 64}, 800, 1600},
		{[]int{2, 3, 4, 5, 6}, 120, 144},
	}
	for _, tt := range tests {
		in, out := Fans(tt.shape)
		require.Equal(t, tt.fanIn, in, "fan_in of %v", tt.shape)
		require.Equal(t, tt.fanOut, out, "fan_out of %v", tt.shape)
	}
}

// TestInitStatistics checks mean, standard deviation and bounds of each
// random initializer over a large param, within several standard errors.
func TestInitStatistics(t *testing.T) {
	const n = 240000
	conv := []int{5, 5, 16, 60} // fan_in 400, fan_out 1500
	mat := []int{400, 600}      // fan_in 400, fan_out 600
	tests := []struct {
		name     string
		fill     func([]float32)
		mean, sd float64
		lo, hi   float64
	}{
		{"normal", func(d []float32) { InitNormal(d, 1, 2, 1) }, 1, 2, math.Inf(-1), math.Inf(1)},
		{"truncated_normal", func(d []float32) { InitTruncatedNormal(d, 0.5, 0.1, 2) }, 0.5, 0.1 * truncatedSD(), 0.3, 0.7},
		{"uniform", func(d []float32) { InitUniform(d, -3, 1, 3) }, -1, 4 / math.Sqrt(12), -3, 1},
		{"glorot_uniform", func(d []float32) { InitGlorotUniform(d, mat, 4) }, 0, math.Sqrt(2.0 / 1000), -math.Sqrt(6.0 / 1000), math.Sqrt(6.0 / 1000)},
		{"glorot_normal", func(d []float32) { InitGlorotNormal(d, mat, 5) }, 0, math.Sqrt(2.0 / 1000),
			-2 * math.Sqrt(2.0/1000) / truncatedSD(), 2 * math.Sqrt(2.0/1000) / truncatedSD()},
		{"he_uniform", func(d []float32) { InitHeUniform(d, conv, 6) }, 0, math.Sqrt(2.0 / 400), -math.Sqrt(6.0 / 400), math.Sqrt(6.0 / 400)},
		{"he_normal", func(d []float32) { InitHeNormal(d, conv, 7) }, 0, math.Sqrt(2.0 / 400),
			-2 * math.Sqrt(2.0/400) / truncatedSD(), 2 * math.Sqrt(2.0/400) / truncatedSD()},
	}
	for _, tt := range tests {
		d := make([]float32, n)
		tt.fill(d)
		mean, sd, lo, hi := stats32(d)
		require.InDelta(t, tt.mean, mean, 5*tt.sd/math.Sqrt(n), "%s: mean", tt.name)
		require.InEpsilon(t, tt.sd, sd, 0.01, "%s: stddev", tt.name)
		// Bounds hold after rounding to float32.
		require.GreaterOrEqual(t, lo, float64(float32(tt.lo)), "%s: minimum", tt.name)
		require.LessOrEqual(t, hi, float64(float32(tt.hi)), "%s: maximum", tt.name)
		if !math.IsInf(tt.lo, 0) {
			w := tt.hi - tt.lo
			require.Less(t, lo, tt.lo+0.001*w, "%s: minimum far from its bound", tt.name)
			require.Greater(t, hi, tt.hi-0.001*w, "%s: maximum far from its bound", tt.name)
		}
	}
}

// TestInitTruncatedNormalRedraws checks truncation against its definition:
// the standard normal stream of the same seed without the draws of
// magnitude above 2.
func TestInitTruncatedNormalRedraws(t *testing.T) {
	trunc := make([]float32, 5000)
	InitTruncatedNormal(trunc, 0, 1, 42)
	norm := make([]float32, 6000)
	InitNormal(norm, 0, 1, 42)
	var kept []float32
	for _, z := range norm {
		if math.Abs(float64(z)) <= 2 {
			kept = append(kept, z)
		}
	}
	require.Less(t, len(kept), len(norm))
	require.GreaterOrEqual(t, len(kept), len(trunc))
	require.Equal(t, kept[:len(trunc)], trunc)
}

// TestInitDeterminism checks that a seed decides the values: equal seeds
// draw equal values, different seeds different ones.
func TestInitDeterminism(t *testing.T) {
	shape := []int{3, 3, 4, 8}
	fills := map[string]func([]float32, uint64){
		"normal":           func(d []float32, s uint64) { InitNormal(d, 0, 1, s) },
		"truncated_normal": func(d []float32, s uint64) { InitTruncatedNormal(d, 0, 1, s) },
		"uniform":          func(d []float32, s uint64) { InitUniform(d, -1, 1, s) },
		"glorot_uniform":   func(d []float32, s uint64) { InitGlorotUniform(d, shape, s) },
		"glorot_normal":    func(d []float32, s uint64) { InitGlorotNormal(d, shape, s) },
		"he_uniform":       func(d []float32, s uint64) { InitHeUniform(d, shape, s) },
		"he_normal":        func(d []float32, s uint64) { InitHeNormal(d, shape, s) },
	}
	for name, fill := range fills {
		a, b, c := make([]float32, 288), make([]float32, 288), make([]float32, 288)
		fill(a, 7)
		fill(b, 7)
		fill(c, 8)
		require.Equal(t, a, b, name)
		require.NotEqual(t, a, c, name)
	}
}

// TestVarianceScalingScales checks each variance-scaling initializer
// against the plain one it is defined by, with the scale computed by hand.
func TestVarianceScalingScales(t *testing.T) {
	shape := []int{3, 3, 8, 16} // fan_in 72, fan_out 144
	got, want := make([]float32, 1152), make([]float32, 1152)

	InitHeNormal(got, shape, 3)
	InitTruncatedNormal(want, 0, math.Sqrt(2.0/72)/0.87962566103423978, 3)
	require.Equal(t, want, got, "he_normal")

	InitGlorotNormal(got, shape, 3)
	InitTruncatedNormal(want, 0, math.Sqrt(2.0/216)/0.87962566103423978, 3)
	require.Equal(t, want, got, "glorot_normal")

	InitHeUniform(got, shape, 3)
	InitUniform(want, -math.Sqrt(6.0/72), math.Sqrt(6.0/72), 3)
	require.Equal(t, want, got, "he_uniform")

	InitGlorotUniform(got, shape, 3)
	InitUniform(want, -math.Sqrt(6.0/216), math.Sqrt(6.0/216), 3)
	require.Equal(t, want, got, "glorot_uniform")
}
