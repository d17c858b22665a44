package compiler

import (
	"fmt"
	"math"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler/ir"
)

// initParam compiles a model with one param declared as "W: decl" and
// returns the param node and its initial values.
func initParam(t *testing.T, decl string) (*ir.Node, []float64) {
	t.Helper()
	src := fmt.Sprintf("model M {\n    input x: f32[N]\n    param W: %s\n    y = x * sum(W)\n    output y\n}\n", decl)
	g, err := Compile("init.flow", []byte(src), Options{})
	require.NoError(t, err, src)
	require.Len(t, g.Params, 1)
	vals, err := InitialValues(g.Params[0])
	require.NoError(t, err, decl)
	require.Len(t, vals, g.Params[0].Type.Shape.NumElements(nil), decl)
	return g.Params[0], vals
}

func meanStddev(v []float64) (mean, sd float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(len(v)))
}

func minMax(v []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range v {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return lo, hi
}

// truncatedSD is the standard deviation of a standard normal truncated to
// [-2, 2], computed from its closed form: 1 - 2·2·φ(2)/(Φ(2)-Φ(-2)).
func truncatedSD() float64 {
	phi := math.Exp(-2) / math.Sqrt(2*math.Pi)
	mass := math.Erf(2 / math.Sqrt2)
	return math.Sqrt(1 - 4*phi/mass)
}

// TestTruncatedNormalConstant checks the constant the variance-scaling
// normal initializers divide by against the closed form.
func TestTruncatedNormalConstant(t *testing.T) {
	require.InDelta(t, truncatedSD(), truncatedNormalStddev, 1e-15)
}

// TestFans checks Keras's fan computation for every rank against
// hand-computed values.
func TestFans(t *testing.T) {
	tests := []struct {
		shape         []int
		fanIn, fanOut int
	}{
		{nil, 1, 1},
		{[]int{7}, 7, 7},
		{[]int{1}, 1, 1},
		{[]int{784, 10}, 784, 10},
		{[]int{10, 784}, 10, 784},
		{[]int{5, 8, 4}, 40, 20},                   // conv1d [w, in, out]
		{[]int{3, 3, 2, 8}, 18, 72},                // conv2d [h, w, in, out]
		{[]int{5, 5, 1, 32}, 25, 800},              // LeNet's first kernel
		{[]int{5, 5, 32, 64}, 800, 1600},           // LeNet's second kernel
		{[]int{2, 3, 4, 5, 6}, 2 * 3 * 4 * 5, 144}, // conv3d: field 24
	}
	for _, tt := range tests {
		in, out := Fans(tt.shape)
		require.Equal(t, tt.fanIn, in, "fan_in of %v", tt.shape)
		require.Equal(t, tt.fanOut, out, "fan_out of %v", tt.shape)
	}
}

// TestInitializerStatistics draws large params and checks each
// distribution's mean, standard deviation and bounds against its
// definition, with tolerances of several standard errors.
func TestInitializerStatistics(t *testing.T) {
	const sqrt2 = math.Sqrt2
	tests := []struct {
		decl     string
		mean, sd float64 // the distribution's own moments
		lo, hi   float64 // every value in [lo, hi]
		reach    float64 // values come within reach of both bounds
	}{
		{decl: "f32[400, 600] = normal(mean = 1, stddev = 2, seed = 1)", mean: 1, sd: 2, lo: math.Inf(-1), hi: math.Inf(1)},
		{decl: "f32[400, 600] = truncated_normal(mean = 0.5, stddev = 0.1, seed = 2)",
			mean: 0.5, sd: 0.1 * truncatedSD(), lo: 0.3, hi: 0.7, reach: 0.001},
		{decl: "f32[400, 600] = truncated_normal(seed = 3)", mean: 0, sd: 0.05 * truncatedSD(), lo: -0.1, hi: 0.1, reach: 0.001},
		{decl: "f32[400, 600] = uniform(low = -3, high = 1, seed = 4)", mean: -1, sd: 4 / math.Sqrt(12), lo: -3, hi: 1, reach: 0.001},
		// glorot_uniform: limit sqrt(6/(400+600)), variance limit²/3 = 2/1000.
		{decl: "f32[400, 600] = glorot_uniform(seed = 5)", mean: 0, sd: math.Sqrt(2.0 / 1000),
			lo: -math.Sqrt(6.0 / 1000), hi: math.Sqrt(6.0 / 1000), reach: 0.001},
		// glorot_normal: the truncation's shrinkage is undone, so the
		// standard deviation is sqrt(2/(fan_in+fan_out)).
		{decl: "f32[400, 600] = glorot_normal(seed = 6)", mean: 0, sd: math.Sqrt(2.0 / 1000),
			lo: -2 * math.Sqrt(2.0/1000) / truncatedSD(), hi: 2 * math.Sqrt(2.0/1000) / truncatedSD(), reach: 0.001},
		// Conv kernel [5, 5, 16, 64]: fan_in 400, fan_out 1600.
		{decl: "f32[5, 5, 16, 64] = he_uniform(seed = 7)", mean: 0, sd: math.Sqrt(2.0 / 400),
			lo: -math.Sqrt(6.0 / 400), hi: math.Sqrt(6.0 / 400), reach: 0.001},
		{decl: "f32[5, 5, 16, 64] = he_normal(seed = 8)", mean: 0, sd: sqrt2 / 20,
			lo: -2 * (sqrt2 / 20) / truncatedSD(), hi: 2 * (sqrt2 / 20) / truncatedSD(), reach: 0.001},
		{decl: "f32[5, 5, 16, 64] = glorot_uniform(seed = 9)", mean: 0, sd: math.Sqrt(2.0 / 2000),
			lo: -math.Sqrt(6.0 / 2000), hi: math.Sqrt(6.0 / 2000), reach: 0.001},
		// Rank 1: fan_in = fan_out = n.
		{decl: "f32[100000] = glorot_normal(seed = 10)", mean: 0, sd: math.Sqrt(2.0 / 200000),
			lo: -2 * math.Sqrt(2.0/200000) / truncatedSD(), hi: 2 * math.Sqrt(2.0/200000) / truncatedSD(), reach: 0.001},
		{decl: "f32[100000] = he_uniform(seed = 11)", mean: 0, sd: math.Sqrt(2.0 / 100000),
			lo: -math.Sqrt(6.0 / 100000), hi: math.Sqrt(6.0 / 100000), reach: 0.001},
	}
	for _, tt := range tests {
		_, v := initParam(t, tt.decl)
		n := float64(len(v))
		mean, sd := meanStddev(v)
		require.InDelta(t, tt.mean, mean, 5*tt.sd/math.Sqrt(n), "%s: mean", tt.decl)
		require.InEpsilon(t, tt.sd, sd, 0.01, "%s: stddev", tt.decl)
		lo, hi := minMax(v)
		require.GreaterOrEqual(t, lo, tt.lo, "%s: minimum", tt.decl)
		require.LessOrEqual(t, hi, tt.hi, "%s: maximum", tt.decl)
		if tt.reach > 0 {
			width := tt.hi - tt.lo
			require.Less(t, lo, tt.lo+tt.reach*width, "%s: minimum far from its bound", tt.decl)
			require.Greater(t, hi, tt.hi-tt.reach*width, "%s: maximum far from its bound", tt.decl)
		}
	}
}

// TestTruncatedNormalRedraws checks the definition of truncation: a
// standard truncated normal is the standard normal stream of the same
// seed with the draws of magnitude above 2 removed.
func TestTruncatedNormalRedraws(t *testing.T) {
	_, trunc := initParam(t, "f32[5000] = truncated_normal(mean = 0, stddev = 1, seed = 42)")
	_, norm := initParam(t, "f32[6000] = normal(mean = 0, stddev = 1, seed = 42)")
	var kept []float64
	dropped := 0
	for _, z := range norm {
		if math.Abs(z) > 2 {
			dropped++
			continue
		}
		kept = append(kept, z)
	}
	require.Greater(t, dropped, 0)
	require.GreaterOrEqual(t, len(kept), len(trunc))
	require.Equal(t, kept[:len(trunc)], trunc)
}

// TestVarianceScalingIsUniformOrTruncated checks each variance-scaling
// initializer against the plain initializer it is defined by, with the
// scale computed by hand, exactly.
func TestVarianceScalingIsUniformOrTruncated(t *testing.T) {
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	tests := []struct{ decl, same string }{
		{"f32[3, 3, 8, 16] = he_normal(seed = 3)", // fan_in 72
			"f32[3, 3, 8, 16] = truncated_normal(stddev = " + g(math.Sqrt(2.0/72)/0.87962566103423978) + ", seed = 3)"},
		{"f32[3, 3, 8, 16] = glorot_normal(seed = 3)", // fan_in 72, fan_out 144
			"f32[3, 3, 8, 16] = truncated_normal(stddev = " + g(math.Sqrt(2.0/216)/0.87962566103423978) + ", seed = 3)"},
		{"f32[3, 3, 8, 16] = he_uniform(seed = 3)",
			"f32[3, 3, 8, 16] = uniform(low = " + g(-math.Sqrt(6.0/72)) + ", high = " + g(math.Sqrt(6.0/72)) + ", seed = 3)"},
		{"f32[3, 3, 8, 16] = glorot_uniform(seed = 3)",
			"f32[3, 3, 8, 16] = uniform(low = " + g(-math.Sqrt(6.0/216)) + ", high = " + g(math.Sqrt(6.0/216)) + ", seed = 3)"},
		{"f32[6, 4] = glorot_uniform(seed = 9)",
			"f32[6, 4] = uniform(low = " + g(-math.Sqrt(6.0/10)) + ", high = " + g(math.Sqrt(6.0/10)) + ", seed = 9)"},
		{"f32[6, 4] = he_normal(seed = 9)",
			"f32[6, 4] = truncated_normal(stddev = " + g(math.Sqrt(2.0/6)/0.87962566103423978) + ", seed = 9)"},
		{"f32[5, 7, 2] = glorot_normal(seed = 9)", // fan_in 35, fan_out 10
			"f32[5, 7, 2] = truncated_normal(stddev = " + g(math.Sqrt(2.0/45)/0.87962566103423978) + ", seed = 9)"},
		{"f32[9] = he_uniform(seed = 9)",
			"f32[9] = uniform(low = " + g(-math.Sqrt(6.0/9)) + ", high = " + g(math.Sqrt(6.0/9)) + ", seed = 9)"},
		{"f32 = glorot_uniform(seed = 9)", // a scalar: fans 1 and 1
			"f32 = uniform(low = " + g(-math.Sqrt(3)) + ", high = " + g(math.Sqrt(3)) + ", seed = 9)"},
		{"f32 = he_normal(seed = 9)",
			"f32 = truncated_normal(stddev = " + g(math.Sqrt(2)/0.87962566103423978) + ", seed = 9)"},
	}
	for _, tt := range tests {
		_, got := initParam(t, tt.decl)
		_, want := initParam(t, tt.same)
		require.Equal(t, want, got, tt.decl)
	}
}

// TestInitializerSeeds checks reproducibility: the same declaration draws
// the same values in every compilation, an explicit seed decides the
// stream, and a missing seed comes from the param's name.
func TestInitializerSeeds(t *testing.T) {
	for _, name := range []string{"truncated_normal", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal"} {
		p1, a := initParam(t, "f32[20, 30] = "+name+"(seed = 5)")
		_, b := initParam(t, "f32[20, 30] = "+name+"(seed = 5)")
		require.Equal(t, a, b, "%s: same seed", name)
		require.Equal(t, 5, p1.Attrs.Int("seed", 0))
		_, c := initParam(t, "f32[20, 30] = "+name+"(seed = 6)")
		require.NotEqual(t, a, c, "%s: different seeds", name)

		// Without a seed: the name's seed, the same in every compilation.
		p, d := initParam(t, "f32[20, 30] = "+name)
		require.Equal(t, int(DefaultSeed("W")>>1), p.Attrs.Int("seed", 0), "%s: default seed", name)
		_, e := initParam(t, "f32[20, 30] = "+name)
		require.Equal(t, d, e, "%s: default seed", name)
		require.NotEqual(t, a, d, "%s: default seed", name)
	}
}

// TestInitializerErrors checks the checker's diagnostics for the
// initializers added alongside the error corpus.
func TestInitializerErrors(t *testing.T) {
	tests := []struct{ decl, want string }{
		{"i32[4] = he_normal", "initializer he_normal needs a floating-point param, but W is i32[4]"},
		{"i64[4, 4] = glorot_uniform(seed = 1)", "initializer glorot_uniform needs a floating-point param, but W is i64[4,4]"},
		{"f32[4] = truncated_normal(stddev = -1)", "truncated_normal: stddev must not be negative, got -1"},
		{"f32[4] = glorot_uniformm", "unknown initializer glorot_uniformm (want one of constant, glorot_normal, glorot_uniform, he_normal, he_uniform, normal, ones, orthogonal, restore, truncated_normal, uniform, zeros); did you mean glorot_uniform?"},
		{"f32[4] = he_unifrom(seed = 2)", "unknown initializer he_unifrom (want one of constant, glorot_normal, glorot_uniform, he_normal, he_uniform, normal, ones, orthogonal, restore, truncated_normal, uniform, zeros); did you mean he_uniform?"},
		{"f32[4] = glorot_normal(stddev = 2)", "glorot_normal has no argument stddev"},
	}
	for _, tt := range tests {
		src := fmt.Sprintf("model M {\n    input x: f32[N]\n    param W: %s\n    y = x * sum(W)\n    output y\n}\n", tt.decl)
		_, err := Compile("init.flow", []byte(src), Options{})
		require.Error(t, err, tt.decl)
		require.Contains(t, err.Error(), tt.want, tt.decl)
	}
}

// TestLargeSeedsAreExact checks a seed above 2^53 reaches the
// initializer unrounded.
func TestLargeSeedsAreExact(t *testing.T) {
	src := `model M {
    input x: f32[N, 2]
    param W: f32[2, 2] = normal(seed = 9007199254740993)
    y = x @ W
    output y
}
`
	g, err := Compile("m.flow", []byte(src), Options{})
	require.NoError(t, err)
	require.Equal(t, int64(9007199254740993), int64(g.Param("W").Attrs.Int("seed", 0)))
}

// TestOrthogonal: the orthogonal initializer gives orthonormal columns
// (rows ≥ cols) or rows (rows < cols), a shape of rank 3 flattened to
// [size/last, last], and a reproducible stream.
func TestOrthogonal(t *testing.T) {
	for _, tt := range []struct {
		decl       string
		rows, cols int
	}{
		{"f32[12, 5] = orthogonal(seed = 3)", 12, 5},
		{"f32[4, 16] = orthogonal(seed = 3)", 4, 16},
		{"f32[7, 7] = orthogonal", 7, 7},
		{"f32[2, 3, 4] = orthogonal(seed = 1)", 6, 4},
	} {
		_, v := initParam(t, tt.decl)
		require.Len(t, v, tt.rows*tt.cols)
		at := func(i, j int) float64 { return v[i*tt.cols+j] }
		// Gram matrix of the columns (rows >= cols) or of the rows.
		k, m := min(tt.rows, tt.cols), max(tt.rows, tt.cols)
		for a := range k {
			for b := range k {
				var dot float64
				for t := range m {
					if tt.rows >= tt.cols {
						dot += at(t, a) * at(t, b)
					} else {
						dot += at(a, t) * at(b, t)
					}
				}
				want := 0.0
				if a == b {
					want = 1
				}
				require.InDelta(t, want, dot, 1e-5, "%s: <%d,%d>", tt.decl, a, b)
			}
		}
		_, again := initParam(t, tt.decl)
		require.Equal(t, v, again)
	}
}
