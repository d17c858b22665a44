package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Param initializers. Generated New functions call these; the values they
// produce are defined by the compiler (compiler.InitialValues) and must
// match it exactly: draws come from math/rand/v2's PCG seeded with
// (seed, InitStream) in row-major order, normal via NormFloat64 and
// uniform via Float64, computed in float64 with each product rounded
// before it is added (no fused multiply-add), and rounded to float32.
// A truncated normal redraws NormFloat64 while its magnitude exceeds 2.

// InitStream is the second PCG seed word of initializer streams.
const InitStream = 0x9E3779B97F4A7C15

// TruncatedNormalStddev is the standard deviation of a standard normal
// truncated to [-2, 2]. InitGlorotNormal and InitHeNormal divide their
// standard deviation by it so that the truncated draws have the intended
// variance, as Keras does.
const TruncatedNormalStddev = 0.87962566103423978

// Fans returns the fan-in and fan-out of a param shape as Keras computes
// them: for a scalar both are 1; for a vector [n] both are n; for a matrix
// [in, out] they are in and out; for rank 3 and above (convolution
// kernels such as [h, w, in, out]) the leading dimensions form the
// receptive field, whose size multiplies the last two: fan_in = h·w·in,
// fan_out = h·w·out.
func Fans(shape []int) (fanIn, fanOut int) {
	switch len(shape) {
	case 0:
		return 1, 1
	case 1:
		return shape[0], shape[0]
	case 2:
		return shape[0], shape[1]
	}
	field := 1
	for _, d := range shape[:len(shape)-2] {
		field *= d
	}
	return shape[len(shape)-2] * field, shape[len(shape)-1] * field
}

func initRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, InitStream))
}

// InitBits sets dst from data, the little-endian IEEE 754 bits of its
// elements (4 bytes each): how generated code holds the values of a param
// restored from a checkpoint at compile time. It panics if data does not
// hold exactly len(dst) elements.
func InitBits(dst []float32, data string) {
	if len(data) != 4*len(dst) {
		panic(fmt.Sprintf("runtime: InitBits: %d bytes for %d elements", len(data), len(dst)))
	}
	for i := range dst {
		b := data[4*i:]
		dst[i] = math.Float32frombits(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
	}
}

// InitConstant sets every element of dst to v.
func InitConstant(dst []float32, v float64) {
	for i := range dst {
		dst[i] = float32(v)
	}
}

// InitNormal fills dst with draws from N(mean, stddev²).
func InitNormal(dst []float32, mean, stddev float64, seed uint64) {
	r := initRand(seed)
	for i := range dst {
		dst[i] = float32(mean + float64(stddev*r.NormFloat64()))
	}
}

// InitTruncatedNormal fills dst with draws from N(mean, stddev²),
// redrawing any that fall more than 2 stddev from the mean (TensorFlow's
// truncated_normal).
func InitTruncatedNormal(dst []float32, mean, stddev float64, seed uint64) {
	r := initRand(seed)
	for i := range dst {
		z := r.NormFloat64()
		for math.Abs(z) > 2 {
			z = r.NormFloat64()
		}
		dst[i] = float32(mean + float64(stddev*z))
	}
}

// InitUniform fills dst with draws from U[low, high).
func InitUniform(dst []float32, low, high float64, seed uint64) {
	r := initRand(seed)
	for i := range dst {
		dst[i] = float32(low + float64((high-low)*r.Float64()))
	}
}

// InitGlorotUniform fills dst, a param of the given shape, with draws from
// U[-limit, limit) where limit = sqrt(6/(fan_in+fan_out)) (see Fans).
func InitGlorotUniform(dst []float32, shape []int, seed uint64) {
	fanIn, fanOut := Fans(shape)
	limit := math.Sqrt(6 / float64(fanIn+fanOut))
	InitUniform(dst, -limit, limit, seed)
}

// InitGlorotNormal fills dst, a param of the given shape, with a truncated
// normal of mean 0 and stddev sqrt(2/(fan_in+fan_out))/TruncatedNormalStddev
// (see Fans).
func InitGlorotNormal(dst []float32, shape []int, seed uint64) {
	fanIn, fanOut := Fans(shape)
	InitTruncatedNormal(dst, 0, math.Sqrt(2/float64(fanIn+fanOut))/TruncatedNormalStddev, seed)
}

// InitHeUniform fills dst, a param of the given shape, with draws from
// U[-limit, limit) where limit = sqrt(6/fan_in) (see Fans).
func InitHeUniform(dst []float32, shape []int, seed uint64) {
	fanIn, _ := Fans(shape)
	limit := math.Sqrt(6 / float64(fanIn))
	InitUniform(dst, -limit, limit, seed)
}

// InitHeNormal fills dst, a param of the given shape, with a truncated
// normal of mean 0 and stddev sqrt(2/fan_in)/TruncatedNormalStddev (see
// Fans).
func InitHeNormal(dst []float32, shape []int, seed uint64) {
	fanIn, _ := Fans(shape)
	InitTruncatedNormal(dst, 0, math.Sqrt(2/float64(fanIn))/TruncatedNormalStddev, seed)
}

// InitOrthogonal fills dst, a param of the given shape, with Keras's
// Orthogonal initializer (gain 1): with the shape flattened to [rows,
// cols] (cols the last dimension), the Q of a QR decomposition (positive
// diagonal in R) of a standard normal matrix of [max(rows, cols),
// min(rows, cols)] drawn in row-major order — computed by modified
// Gram-Schmidt in float64 — transposed when rows < cols.
func InitOrthogonal(dst []float32, shape []int, seed uint64) {
	cols := 1
	if len(shape) > 0 {
		cols = shape[len(shape)-1]
	}
	rows := len(dst) / max(cols, 1)
	m, k := max(rows, cols), min(rows, cols)
	r := initRand(seed)
	q := make([]float64, m*k)
	for i := range q {
		q[i] = r.NormFloat64()
	}
	col := make([]float64, m)
	for j := 0; j < k; j++ {
		for t := 0; t < m; t++ {
			col[t] = q[t*k+j]
		}
		for i := 0; i < j; i++ {
			var dot float64
			for t := 0; t < m; t++ {
				dot += q[t*k+i] * col[t]
			}
			for t := 0; t < m; t++ {
				col[t] -= dot * q[t*k+i]
			}
		}
		var norm float64
		for _, v := range col {
			norm += v * v
		}
		norm = math.Sqrt(norm)
		for t := 0; t < m; t++ {
			q[t*k+j] = col[t] / norm
		}
	}
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			if rows >= cols {
				dst[i*cols+j] = float32(q[i*k+j])
			} else {
				dst[i*cols+j] = float32(q[j*k+i])
			}
		}
	}
}
