package runtime

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestScalarMath(t *testing.T) {
	nan := float32(math.NaN())
	isNaN := func(v float32) bool { return v != v }

	require.Equal(t, float32(2.5), Abs(-2.5))
	require.Equal(t, float32(3), Abs(3))
	require.Equal(t, uint32(0), math.Float32bits(Abs(float32(math.Copysign(0, -1)))), "Abs(-0) is +0")
	require.True(t, isNaN(Abs(nan)))
	require.Equal(t, float32(7), AbsGrad(7, 0.5))
	require.Equal(t, float32(-7), AbsGrad(7, -0.5))
	require.Equal(t, float32(0), AbsGrad(7, 0))

	require.Equal(t, float32(0.5), Rsqrt(4))
	require.True(t, math.IsInf(float64(Rsqrt(0)), 1))
	require.True(t, isNaN(Rsqrt(-1)))
	require.Equal(t, float32(0), Tanh(0))
	require.InDelta(t, math.Tanh(0.5), float64(Tanh(0.5)), 1e-7)
	require.Equal(t, float32(1), Tanh(100))
	require.Equal(t, float32(-1), Tanh(-100))

	require.Equal(t, float32(3), LeakyRelu(3, 0.2))
	require.Equal(t, float32(-1), LeakyRelu(-5, 0.2))
	require.Equal(t, float32(0), LeakyRelu(0, 0.2))
	require.Equal(t, float32(4), LeakyReluGrad(4, 1, 0.25))
	require.Equal(t, float32(1), LeakyReluGrad(4, -1, 0.25))
	require.Equal(t, float32(1), LeakyReluGrad(4, 0, 0.25), "the slope at 0 is alpha")

	require.Equal(t, float32(8), Pow(2, 3))
	require.Equal(t, float32(0.25), Pow(2, -2))
	require.Equal(t, float32(-8), Pow(-2, 3))
	require.Equal(t, float32(1), Pow(0, 0))
	require.True(t, isNaN(Pow(-2, 0.5)))
	require.InDelta(t, 6*math.Log(2), float64(PowGradB(6, 2)), 1e-6)
	require.Equal(t, float32(0), PowGradB(6, 0))
	require.Equal(t, float32(0), PowGradB(6, -2))

	require.Equal(t, float32(2), Maximum(1, 2))
	require.Equal(t, float32(2), Maximum(2, 1))
	require.Equal(t, float32(-1), Minimum(-1, 2))
	require.Equal(t, float32(-1), Minimum(2, -1))
	for _, v := range []float32{Maximum(nan, 1), Maximum(1, nan), Minimum(nan, 1), Minimum(1, nan)} {
		require.True(t, isNaN(v), "NaN propagates")
	}
	require.Equal(t, float32(6), PickGrad(6, 2, 1))
	require.Equal(t, float32(3), PickGrad(6, 1, 1))
	require.Equal(t, float32(0), PickGrad(6, 1, 2))

	require.Equal(t, float32(1), EqualMask(2, 2))
	require.Equal(t, float32(0), EqualMask(2, 3))
	require.Equal(t, float32(1), ZeroMask(0))
	require.Equal(t, float32(0), ZeroMask(-1))

	// Factors 2, 3, 4 (p = 24): the gradient for 3 is 2 * 4.
	require.Equal(t, float32(16), ProdGrad(3, 24, 0, 2))
	// Factors 2, 0, 4 (nonzero product 8, one zero).
	require.Equal(t, float32(16), ProdGrad(0, 8, 1, 2))
	require.Equal(t, float32(0), ProdGrad(2, 8, 1, 2))
	// Two zeros: every other-factor product has a zero.
	require.Equal(t, float32(0), ProdGrad(0, 4, 2, 2))
}

// TestGenericScalarsAgree checks the generic forms against the float32
// functions with bit tricks, on the values where they could differ
// (signed zeros, NaN, infinities) and on random values, and the integer
// instantiations on small integers.
func TestGenericScalarsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	vals := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1, -1, 1e-40, -1e-40}
	for range 200 {
		vals = append(vals, float32(r.NormFloat64()))
	}
	bits := math.Float32bits
	for _, x := range vals {
		require.Equal(t, bits(Abs(x)), bits(AbsOf(x)), "Abs(%v)", x)
		require.Equal(t, bits(Relu(x)), bits(ReluOf(x)), "Relu(%v)", x)
		for _, dy := range []float32{2.5, -1, 0} {
			require.Equal(t, bits(ReluGrad(dy, x)), bits(ReluGradOf(dy, x)), "ReluGrad(%v, %v)", dy, x)
		}
		require.Equal(t, math.Float64bits(math.Abs(float64(x))), math.Float64bits(AbsOf(float64(x))), "AbsOf(float64(%v))", x)
	}
	for _, x := range []int32{-3, -1, 0, 1, 2} {
		require.Equal(t, int32(max(x, -x)), AbsOf(x))
		require.Equal(t, max(x, 0), ReluOf(x))
		require.Equal(t, max(x, 1), MaximumOf(x, 1))
		require.Equal(t, min(x, 1), MinimumOf(x, 1))
		require.Equal(t, int64(max(x, -x)), AbsOf(int64(x)))
	}
	require.Equal(t, int32(3), PickGradOf[int32](7, 2, 2), "an integer half truncates")
	require.Equal(t, int64(-3), PickGradOf[int64](-7, 2, 2), "toward zero")
	require.Equal(t, int32(6), ProdGradOf[int32](2, 6, 0, 2), "dy * p / x")
}

// TestPickGradTies checks the three tie rules of maximum's gradient at a
// tie and away from one: half (PickGrad), all (PickGradTieOf, the first
// operand under TensorFlow's rule), none (PickGradNoTieOf, the second).
func TestPickGradTies(t *testing.T) {
	require.Equal(t, float32(1.5), PickGrad(3, 2, 2))
	require.Equal(t, float32(3), PickGradTieOf[float32](3, 2, 2))
	require.Equal(t, float32(0), PickGradNoTieOf[float32](3, 2, 2))
	require.Equal(t, 3.0, PickGradTieOf(3.0, 2.5, 2))
	require.Equal(t, 3.0, PickGradNoTieOf(3.0, 2.5, 2))
	require.Equal(t, 0.0, PickGradTieOf(3.0, 1.5, 2))
	require.Equal(t, int32(3), PickGradTieOf[int32](3, 2, 2))
	require.Equal(t, int64(0), PickGradNoTieOf[int64](3, 2, 2))
}
