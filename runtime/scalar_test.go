package runtime

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestScalarFunctions(t *testing.T) {
	require.Equal(t, float32(1), Exp(0))
	require.InDelta(t, math.E, float64(Exp(1)), 1e-6)
	require.Equal(t, float32(0), Log(1))
	require.True(t, math.IsInf(float64(Log(0)), -1))
	require.Equal(t, float32(3), Sqrt(9))
	require.True(t, math.IsNaN(float64(Sqrt(-1))))
	require.Equal(t, float32(0), Relu(-3))
	require.Equal(t, float32(2.5), Relu(2.5))
	require.Equal(t, float32(0), ReluGrad(7, -1))
	require.Equal(t, float32(7), ReluGrad(7, 0.5))
	require.Equal(t, float32(0.5), Sigmoid(0))
	require.InDelta(t, 1/(1+math.Exp(-2)), float64(Sigmoid(2)), 1e-7)
	// No overflow at the extremes.
	require.Equal(t, float32(1), Sigmoid(200))
	require.Equal(t, float32(0), Sigmoid(-200))
}

func TestInitializersAreSeeded(t *testing.T) {
	a, b, c := make([]float32, 100), make([]float32, 100), make([]float32, 100)
	InitNormal(a, 0, 1, 7)
	InitNormal(b, 0, 1, 7)
	InitNormal(c, 0, 1, 8)
	require.Equal(t, a, b)
	require.NotEqual(t, a, c)
	var mean float64
	for _, v := range a {
		mean += float64(v) / 100
	}
	require.InDelta(t, 0, mean, 0.3)
	InitUniform(a, -2, -1, 3)
	for _, v := range a {
		require.True(t, v >= -2 && v < -1, "%v", v)
	}
	InitConstant(a, 0.25)
	for _, v := range a {
		require.Equal(t, float32(0.25), v)
	}
}

// TestReluBranchFree compares the bit-twiddling Relu and ReluGrad with
// their definition (x > 0) on special values and random bit patterns,
// NaNs and infinities included.
func TestReluBranchFree(t *testing.T) {
	ref := func(x float32) float32 {
		if x > 0 {
			return x
		}
		return 0
	}
	refGrad := func(dy, x float32) float32 {
		if x > 0 {
			return dy
		}
		return 0
	}
	nan := float32(math.NaN())
	special := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 1e-45, -1e-45, math.MaxFloat32, -math.MaxFloat32,
		float32(math.Inf(1)), float32(math.Inf(-1)), nan, -nan, math.Float32frombits(0x7fc00001), math.Float32frombits(0xff800001)}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		special = append(special, math.Float32frombits(r.Uint32()))
	}
	for _, x := range special {
		require.Equal(t, math.Float32bits(ref(x)), math.Float32bits(Relu(x)), "Relu(%v) bits %#x", x, math.Float32bits(x))
		require.Equal(t, math.Float32bits(refGrad(2.5, x)), math.Float32bits(ReluGrad(2.5, x)), "ReluGrad(2.5, %v)", x)
		require.Equal(t, math.Float32bits(refGrad(nan, x)), math.Float32bits(ReluGrad(nan, x)), "ReluGrad(NaN, %v)", x)
	}
}
