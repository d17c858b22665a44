package runtime

import (
	"math"
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
