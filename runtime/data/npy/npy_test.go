package npy

import (
	"bytes"
	"math"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// The expected values below restate what testdata/gen.py asks numpy for;
// the files themselves were written by numpy 1.24.

func TestFloatFixtures(t *testing.T) {
	inf := float32(math.Inf(1))
	tests := []struct {
		file  string
		dtype string
		shape []int
		want  []float32
	}{
		{"f4.npy", "f4", []int{3, 4}, seq(12, func(i int) float32 { return float32(i) / 4 })},
		{"f8.npy", "f8", []int{6}, seq(6, func(i int) float32 { return float32(i) - 2.5 })},
		{"f2.npy", "f2", []int{8}, []float32{0, 1, -2, 0.5, 65504, 1.0 / (1 << 24), inf, -inf}},
		{"be_f4.npy", "f4", []int{5}, seq(5, func(i int) float32 { return float32(i) * 1.5 })},
		{"v2.npy", "f4", []int{2, 2}, []float32{0, 1, 2, 3}},
		{"scalar.npy", "f8", []int{}, []float32{3.25}},
		{"empty.npy", "f4", []int{0, 3}, []float32{}},
		{"u1.npy", "u1", []int{6}, []float32{250, 251, 252, 253, 254, 255}},
		{"b1.npy", "b1", []int{4}, []float32{1, 0, 1, 1}},
	}
	for _, tt := range tests {
		a, err := ReadFile(filepath.Join("testdata", tt.file))
		if err != nil {
			t.Errorf("%s: %v", tt.file, err)
			continue
		}
		if a.DType != tt.dtype || !reflect.DeepEqual(a.Shape, tt.shape) || a.Len() != len(tt.want) {
			t.Errorf("%s: got %s %v (len %d), want %s %v", tt.file, a.DType, a.Shape, a.Len(), tt.dtype, tt.shape)
		}
		if got := a.Float32s(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Float32s() = %v, want %v", tt.file, got, tt.want)
		}
	}
}

func TestIntFixtures(t *testing.T) {
	tests := []struct {
		file  string
		dtype string
		shape []int
		want  []int64
	}{
		{"i4.npy", "i4", []int{2, 3}, []int64{-3, -2, -1, 0, 1, 2}},
		{"i8.npy", "i8", []int{5}, []int64{-1 << 40, -1, 0, 7, 1 << 40}},
		{"i1.npy", "i1", []int{4}, []int64{-128, -1, 0, 127}},
		{"u1.npy", "u1", []int{6}, []int64{250, 251, 252, 253, 254, 255}},
		{"b1.npy", "b1", []int{4}, []int64{1, 0, 1, 1}},
		{"be_i2.npy", "i2", []int{3}, []int64{-300, 0, 300}},
		{"v3.npy", "i8", []int{3}, []int64{0, 1, 2}},
		{"f8.npy", "f8", []int{6}, nil}, // -2.5 is not a whole number
		{"scalar.npy", "f8", []int{}, nil},
		{"u8.npy", "u8", []int{3}, nil}, // 2^63+5 is out of range
	}
	for _, tt := range tests {
		a, err := ReadFile(filepath.Join("testdata", tt.file))
		if err != nil {
			t.Errorf("%s: %v", tt.file, err)
			continue
		}
		if a.DType != tt.dtype || !reflect.DeepEqual(a.Shape, tt.shape) {
			t.Errorf("%s: got %s %v, want %s %v", tt.file, a.DType, a.Shape, tt.dtype, tt.shape)
		}
		got, err := a.Int64s()
		if tt.want == nil {
			if err == nil {
				t.Errorf("%s: Int64s() = %v, want an error", tt.file, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Int64s() = %v, %v, want %v", tt.file, got, err, tt.want)
		}
		if tt.file == "i8.npy" {
			continue // out of int32 range; see TestInt32Range
		}
		got32, err := a.Int32s()
		if err != nil {
			t.Errorf("%s: Int32s(): %v", tt.file, err)
		}
		for i := range got32 {
			if int64(got32[i]) != tt.want[i] {
				t.Errorf("%s: Int32s()[%d] = %d, want %d", tt.file, i, got32[i], tt.want[i])
			}
		}
	}
}

func TestInt32Range(t *testing.T) {
	a, err := ReadFile("testdata/i8.npy")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Int32s(); err == nil || !strings.Contains(err.Error(), "out of int32 range") {
		t.Errorf("Int32s() of 2^40: err = %v, want out of int32 range", err)
	}
	u, err := ReadFile("testdata/u8.npy")
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Float64s(); got[2] != float64(uint64(1<<63+5)) {
		t.Errorf("u8 Float64s()[2] = %v", got[2])
	}
}

func TestFortranOrder(t *testing.T) {
	// np.asfortranarray(np.arange(24).reshape(2, 3, 4)): the same values
	// as the C-order array, stored column-major; read back in C order.
	a, err := ReadFile("testdata/fortran.npy")
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.Int64s()
	if err != nil {
		t.Fatal(err)
	}
	want := make([]int64, 24)
	for i := range want {
		want[i] = int64(i)
	}
	if !reflect.DeepEqual(a.Shape, []int{2, 3, 4}) || !reflect.DeepEqual(got, want) {
		t.Errorf("fortran.npy = %v %v, want [2 3 4] %v", a.Shape, got, want)
	}
}

func TestNPZ(t *testing.T) {
	for _, file := range []string{"savez.npz", "savez_compressed.npz"} {
		m, err := ReadNPZ(filepath.Join("testdata", file))
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		if len(m) != 2 || m["x"] == nil || m["y"] == nil {
			t.Errorf("%s: arrays %v, want x and y", file, m)
			continue
		}
		if x := m["x"]; !reflect.DeepEqual(x.Shape, []int{2, 3}) || !reflect.DeepEqual(x.Float32s(), []float32{0, 1, 2, 3, 4, 5}) {
			t.Errorf("%s: x = %v %v", file, x.Shape, x.Float32s())
		}
		if y, err := m["y"].Int64s(); err != nil || !reflect.DeepEqual(y, []int64{1, 0}) {
			t.Errorf("%s: y = %v, %v", file, y, err)
		}
		// x is 24 bytes of data, y 16: a limit of 30 admits x but not both.
		_, err = ReadNPZLimit(filepath.Join("testdata", file), 30)
		if err == nil || !strings.Contains(err.Error(), file+": entry y.npy: ") {
			t.Errorf("%s: ReadNPZLimit(30): err = %v, want one naming entry y.npy", file, err)
		}
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"object", readTestdata(t, "object.npy"), "object arrays"},
		{"structured", readTestdata(t, "structured.npy"), "structured dtypes"},
		{"magic", []byte("\x93NUMPZ\x01\x00\x00\x00"), "not a .npy file"},
		{"short", []byte("\x93NU"), "unexpected EOF"},
		{"version", []byte("\x93NUMPY\x04\x00\x00\x00"), "version 4.0"},
		{"hlen", []byte("\x93NUMPY\x02\x00\xff\xff\xff\x7f"), "header length"},
		{"complex", encode(1, dictFor("<c8", false, []int{1}), make([]byte, 8)), `unsupported dtype "<c8"`},
		{"string", encode(1, dictFor("<U3", false, []int{1}), make([]byte, 12)), `unsupported dtype "<U3"`},
		{"noorder", encode(1, dictFor("|f4", false, []int{1}), make([]byte, 4)), "needs byte order"},
		{"missing", encode(1, "{'descr': '<f4', 'shape': (1,), }", make([]byte, 4)), `missing key "fortran_order"`},
		{"dup", encode(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", nil), "duplicate key"},
		{"extra", encode(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", nil), `unexpected key "x"`},
		{"notuple", encode(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3), }", nil), "one-element tuple"},
		{"negative", encode(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }", nil), "want a non-negative integer"},
		{"trailing", encode(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } junk", nil), `unexpected "junk"`},
		{"eval", encode(1, "{'descr': '<f4', 'fortran_order': __import__('os'), 'shape': (1,), }", nil), "want True or False"},
		{"truncated", encode(1, dictFor("<f4", false, []int{3}), make([]byte, 8)), "truncated after 8 bytes"},
		{"overflow", encode(1, dictFor("<f8", false, []int{1 << 40, 1 << 40}), nil), "overflows the element count"},
		{"bytes", encode(1, dictFor("<f8", false, []int{1 << 31, 1 << 31}), nil), "overflows the byte size"},
		{"limit", encode(1, dictFor("<f4", false, []int{1000, 1000, 1000}), nil), "over the limit of 1048576"},
		{"empty", nil, "unexpected EOF"},
		{"hugedim", encode(1, dictFor("<f4", false, []int{1 << 60}), nil), "too large"},
	}
	for _, tt := range tests {
		_, err := Read(bytes.NewReader(tt.in), tt.name+".npy", 1<<20)
		if err == nil || !strings.HasPrefix(err.Error(), tt.name+".npy: ") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q naming the file", tt.name, err, tt.want)
		}
	}
}

func TestFileErrors(t *testing.T) {
	dir := t.TempDir()
	data := encodeF32([]float32{1, 2}, []int{2})
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := writeFile(p, b); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := write("extra.npy", append(append([]byte{}, data...), 0))
	if _, err := ReadFile(p); err == nil || !strings.Contains(err.Error(), p+": ") || !strings.Contains(err.Error(), "the file has 9") {
		t.Errorf("trailing byte: err = %v", err)
	}
	p = write("short.npy", data[:len(data)-1])
	if _, err := ReadFile(p); err == nil || !strings.Contains(err.Error(), p+": ") || !strings.Contains(err.Error(), "the file has 7") {
		t.Errorf("missing byte: err = %v", err)
	}
	p = write("notzip.npz", data)
	if _, err := ReadNPZ(p); err == nil || !strings.Contains(err.Error(), p+": ") {
		t.Errorf("npz of npy bytes: err = %v", err)
	}
}

// TestHostileHeaderDoesNotAllocate reads a header claiming 10^15 float32s
// with a limit that admits them and only a few bytes of data: the read must
// fail having allocated a small buffer, not 4 PB.
func TestHostileHeaderDoesNotAllocate(t *testing.T) {
	in := encode(1, dictFor("<f4", false, []int{1000000, 1000000000}), make([]byte, 64))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Read(bytes.NewReader(in), "hostile.npy", math.MaxInt64)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "truncated after 64 bytes") {
		t.Errorf("err = %v, want truncated", err)
	}
	if d := after.TotalAlloc - before.TotalAlloc; d > 4<<20 {
		t.Errorf("allocated %d bytes for a 64-byte body", d)
	}
}

func TestFortranToC(t *testing.T) {
	// A (2, 3) array [[0 1 2] [3 4 5]] stored column-major is 0 3 1 4 2 5.
	data := []byte{0, 3, 1, 4, 2, 5}
	in := encode(1, dictFor("|u1", true, []int{2, 3}), data)
	a, err := Read(bytes.NewReader(in), "f.npy", 100)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := a.Int64s(); !reflect.DeepEqual(got, []int64{0, 1, 2, 3, 4, 5}) {
		t.Errorf("got %v", got)
	}
}

func TestHalf(t *testing.T) {
	tests := []struct {
		h    uint16
		want float32
	}{
		{0x0000, 0}, {0x3c00, 1}, {0xc000, -2}, {0x7bff, 65504},
		{0x0001, 1.0 / (1 << 24)}, {0x03ff, 1023.0 / (1 << 24)}, {0x0400, 1.0 / (1 << 14)},
		{0x7c00, float32(math.Inf(1))}, {0xfc00, float32(math.Inf(-1))},
	}
	for _, tt := range tests {
		if got := halfToFloat32(tt.h); got != tt.want {
			t.Errorf("halfToFloat32(%#04x) = %v, want %v", tt.h, got, tt.want)
		}
	}
	if got := halfToFloat32(0x7e00); !math.IsNaN(float64(got)) {
		t.Errorf("halfToFloat32(0x7e00) = %v, want NaN", got)
	}
	if got := halfToFloat32(0x8000); got != 0 || !math.Signbit(float64(got)) {
		t.Errorf("halfToFloat32(0x8000) = %v, want -0", got)
	}
}

func seq(n int, f func(int) float32) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}
