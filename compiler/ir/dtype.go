package ir

// DType is the element type of a tensor.
type DType uint8

// The dtypes of the language. F16, BF16 and I8 are storage and
// communication types.
const (
	Invalid DType = iota
	F32
	F64
	I32
	I64
	Bool
	F16
	BF16
	I8
)

var dtypeNames = [...]string{
	Invalid: "invalid",
	F32:     "f32",
	F64:     "f64",
	I32:     "i32",
	I64:     "i64",
	Bool:    "bool",
	F16:     "f16",
	BF16:    "bf16",
	I8:      "i8",
}

// String returns the dtype as written in source, e.g. "f32".
func (d DType) String() string {
	if int(d) < len(dtypeNames) {
		return dtypeNames[d]
	}
	return "invalid"
}

// ParseDType maps a source name such as "f32" to its DType.
func ParseDType(s string) (DType, bool) {
	for d, name := range dtypeNames {
		if name == s && DType(d) != Invalid {
			return DType(d), true
		}
	}
	return Invalid, false
}

// DTypeNames lists the valid dtype names in declaration order.
func DTypeNames() []string {
	return append([]string(nil), dtypeNames[1:]...)
}

// IsFloat reports whether d is a floating-point dtype.
func (d DType) IsFloat() bool {
	switch d {
	case F32, F64, F16, BF16:
		return true
	}
	return false
}

// IsInt reports whether d is an integer dtype.
func (d DType) IsInt() bool {
	switch d {
	case I32, I64, I8:
		return true
	}
	return false
}

// IsStorage reports whether d is a storage and communication dtype (f16,
// bf16, i8): checked and interpreted, but not computed in by generated
// code.
func (d DType) IsStorage() bool {
	switch d {
	case F16, BF16, I8:
		return true
	}
	return false
}

// The dtype sets of OpDef.DTypes, among the dtypes generated code
// computes in.
var (
	// allDTypes are all of them: ops that move or compare elements.
	allDTypes = []DType{F32, F64, I32, I64, Bool}
	// numericDTypes are the numbers: arithmetic.
	numericDTypes = []DType{F32, F64, I32, I64}
	// floatDTypes are the floating-point ones: transcendental functions.
	floatDTypes = []DType{F32, F64}
	// intDTypes are the integers: indices.
	intDTypes = []DType{I32, I64}
	// f32Only is the dtype of ops whose generated code calls float32
	// kernels (GEMM-backed convolution, pooling, LU, the fused losses).
	f32Only = []DType{F32}
)

// Size is the number of bytes one element occupies.
func (d DType) Size() int {
	switch d {
	case F64, I64:
		return 8
	case F32, I32:
		return 4
	case F16, BF16:
		return 2
	case Bool, I8:
		return 1
	}
	return 0
}
