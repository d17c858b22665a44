package compiler

import (
	"fmt"
	"hash/fnv"
	"math"
	"sort"

	"github.com/flow-lang/flow/compiler/ir"
)

// Initializer describes a param initializer: its arguments as the
// language sees them. The values it produces are defined by
// InitialValues, which generated code reproduces exactly.
type Initializer struct {
	Name    string
	Summary string
	Args    []ir.AttrSpec
	// Float reports whether the initializer needs a floating-point param.
	Float bool
}

// seedOnly is the argument list of the variance-scaling initializers.
var seedOnly = []ir.AttrSpec{{Name: "seed", Kind: ir.IntArg}}

// Initializers lists the param initializers by name.
var Initializers = map[string]*Initializer{
	"zeros":    {Name: "zeros", Summary: "every element 0"},
	"ones":     {Name: "ones", Summary: "every element 1"},
	"constant": {Name: "constant", Summary: "every element `value`", Args: []ir.AttrSpec{{Name: "value", Kind: ir.FloatArg, Required: true}}},
	"normal": {Name: "normal", Summary: "independent draws from N(mean, stddev²)", Float: true, Args: []ir.AttrSpec{
		{Name: "mean", Kind: ir.FloatArg, Default: 0.0},
		{Name: "stddev", Kind: ir.FloatArg, Default: 0.05},
		{Name: "seed", Kind: ir.IntArg},
	}},
	"truncated_normal": {Name: "truncated_normal", Summary: "draws from N(mean, stddev²), redrawn while more than 2 stddev from the mean", Float: true, Args: []ir.AttrSpec{
		{Name: "mean", Kind: ir.FloatArg, Default: 0.0},
		{Name: "stddev", Kind: ir.FloatArg, Default: 0.05},
		{Name: "seed", Kind: ir.IntArg},
	}},
	"uniform": {Name: "uniform", Summary: "independent draws from U[low, high)", Float: true, Args: []ir.AttrSpec{
		{Name: "low", Kind: ir.FloatArg, Default: -0.05},
		{Name: "high", Kind: ir.FloatArg, Default: 0.05},
		{Name: "seed", Kind: ir.IntArg},
	}},
	"glorot_uniform": {Name: "glorot_uniform", Summary: "U[-limit, limit) with limit = sqrt(6/(fan_in+fan_out))", Float: true, Args: seedOnly},
	"glorot_normal":  {Name: "glorot_normal", Summary: "truncated normal with stddev sqrt(2/(fan_in+fan_out))/0.87962566103423978", Float: true, Args: seedOnly},
	"he_uniform":     {Name: "he_uniform", Summary: "U[-limit, limit) with limit = sqrt(6/fan_in)", Float: true, Args: seedOnly},
	"orthogonal":     {Name: "orthogonal", Summary: "a matrix with orthonormal rows or columns (Keras's recurrent default): the Q of a Gram-Schmidt QR of standard normal draws, over the shape flattened to [size/last, last]", Float: true, Args: seedOnly},
	"he_normal":      {Name: "he_normal", Summary: "truncated normal with stddev sqrt(2/fan_in)/0.87962566103423978", Float: true, Args: seedOnly},
	"restore": {Name: "restore", Summary: "the tensor `name` (default: the param's name) of the safetensors checkpoint `file`, read when the model is compiled", Float: true, Args: []ir.AttrSpec{
		{Name: "file", Kind: ir.StringArg, Required: true},
		{Name: "name", Kind: ir.StringArg},
	}},
}

func isInitializer(name string) bool { _, ok := Initializers[name]; return ok }

func initializerNames() []string {
	var out []string
	for k := range Initializers {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// DefaultSeed is the seed of a random initializer written without one:
// the 64-bit FNV-1a hash of the param's name, so that params differ from
// each other and every build is reproducible.
func DefaultSeed(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// truncatedNormalStddev is the standard deviation of a standard normal
// truncated to [-2, 2]; the variance-scaling normal initializers divide
// by it so that the truncated draws have the intended variance, as Keras
// does.
const truncatedNormalStddev = 0.87962566103423978

// Fans returns the fan-in and fan-out of a param shape as Keras computes
// them: for a scalar both are 1; for a vector [n] both are n; for a matrix
// [in, out] they are in and out; for rank 3 and above (convolution
// kernels such as [h, w, in, out]) the leading dimensions form the
// receptive field, whose size multiplies the last two: fan_in =
// h·w·in, fan_out = h·w·out.
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

// InitialValues computes a param's initial elements from its initializer
// attributes. This is the definition generated code reproduces: random
// draws come from math/rand/v2's PCG source seeded with (seed,
// InitStream), taken in row-major order, normal via NormFloat64 and
// uniform via Float64, each product rounded before it is added (no fused
// multiply-add). A truncated normal redraws NormFloat64 while its
// magnitude exceeds 2. The variance-scaling initializers take their
// scale from Fans.
func InitialValues(p *ir.Node) ([]float64, error) {
	shape := p.Type.Shape.Eval(nil)
	n := p.Type.Shape.NumElements(nil)
	out := make([]float64, n)
	a := p.Attrs
	seed := uint64(a.Int("seed", 0))
	fanIn, fanOut := Fans(shape)
	switch a.String("init", "zeros") {
	case "zeros":
	case "ones":
		fillConstant(out, 1)
	case "constant":
		fillConstant(out, a.Float("value", 0))
	case "normal":
		fillNormal(out, a.Float("mean", 0), a.Float("stddev", 0.05), seed)
	case "truncated_normal":
		fillTruncatedNormal(out, a.Float("mean", 0), a.Float("stddev", 0.05), seed)
	case "uniform":
		fillUniform(out, a.Float("low", -0.05), a.Float("high", 0.05), seed)
	case "glorot_uniform":
		limit := math.Sqrt(6 / float64(fanIn+fanOut))
		fillUniform(out, -limit, limit, seed)
	case "glorot_normal":
		fillTruncatedNormal(out, 0, math.Sqrt(2/float64(fanIn+fanOut))/truncatedNormalStddev, seed)
	case "he_uniform":
		limit := math.Sqrt(6 / float64(fanIn))
		fillUniform(out, -limit, limit, seed)
	case "he_normal":
		fillTruncatedNormal(out, 0, math.Sqrt(2/float64(fanIn))/truncatedNormalStddev, seed)
	case "orthogonal":
		fillOrthogonal(out, shape, seed)
	case "restore":
		r := Restored(p)
		if len(r) != n {
			return nil, fmt.Errorf("param %s: restore read %d values for %d elements", p.Name, len(r), n)
		}
		for i, v := range r {
			out[i] = float64(v)
		}
	default:
		return nil, fmt.Errorf("param %s: unknown initializer %q", p.Name, a.String("init", ""))
	}
	return out, nil
}

func fillConstant(out []float64, v float64) {
	for i := range out {
		out[i] = v
	}
}

func fillNormal(out []float64, mean, stddev float64, seed uint64) {
	r := newInitRand(seed)
	for i := range out {
		out[i] = mean + float64(stddev*r.NormFloat64())
	}
}

func fillTruncatedNormal(out []float64, mean, stddev float64, seed uint64) {
	r := newInitRand(seed)
	for i := range out {
		z := r.NormFloat64()
		for math.Abs(z) > 2 {
			z = r.NormFloat64()
		}
		out[i] = mean + float64(stddev*z)
	}
}

func fillUniform(out []float64, low, high float64, seed uint64) {
	r := newInitRand(seed)
	for i := range out {
		out[i] = low + float64((high-low)*r.Float64())
	}
}

// fillOrthogonal fills out, a param of the given shape, as Keras's
// Orthogonal initializer (gain 1): with the shape flattened to [rows,
// cols] (cols the last dimension), it draws a standard normal matrix A of
// [max, min] = [max(rows, cols), min(rows, cols)] in row-major order,
// takes the Q of its QR decomposition with a positive diagonal in R (the
// modified Gram-Schmidt orthonormalization of A's columns, in order), and
// stores Q, transposed when rows < cols.
func fillOrthogonal(out []float64, shape []int, seed uint64) {
	cols := 1
	if len(shape) > 0 {
		cols = shape[len(shape)-1]
	}
	rows := len(out) / max(cols, 1)
	m, k := max(rows, cols), min(rows, cols)
	r := newInitRand(seed)
	a := make([]float64, m*k)
	for i := range a {
		a[i] = r.NormFloat64()
	}
	for j := range k {
		for i := range j {
			var dot float64
			for t := range m {
				dot += a[t*k+i] * a[t*k+j]
			}
			for t := range m {
				a[t*k+j] -= dot * a[t*k+i]
			}
		}
		var norm float64
		for t := range m {
			norm += a[t*k+j] * a[t*k+j]
		}
		norm = math.Sqrt(norm)
		for t := range m {
			a[t*k+j] /= norm
		}
	}
	for i := range rows {
		for j := range cols {
			if rows >= cols {
				out[i*cols+j] = a[i*k+j]
			} else {
				out[i*cols+j] = a[j*k+i]
			}
		}
	}
}
