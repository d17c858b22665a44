package compiler

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"sort"
)

// A minimal reader of safetensors files for the restore initializer: an
// 8-byte little-endian header length, a JSON header mapping tensor names
// to {dtype, shape, data_offsets} (and an optional __metadata__ map), then
// the raw little-endian data. The compiler has its own reader rather than
// runtime/checkpoint's: compiler imports no runtime package.

// stTensor is one tensor of a safetensors file.
type stTensor struct {
	DType string
	Shape []int
	Data  []byte // raw little-endian elements
}

// stFile is a parsed safetensors file.
type stFile struct {
	Names   []string // in data order
	Tensors map[string]*stTensor
}

// stMaxHeader bounds the header a file may declare.
const stMaxHeader = 100 << 20

// stSizes are the element sizes of the dtypes the format defines.
var stSizes = map[string]int64{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
	"I16": 2, "U16": 2, "F16": 2, "BF16": 2,
	"I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8,
}

// parseSafetensors checks and decodes a safetensors file held in data;
// name is used in errors.
func parseSafetensors(name string, data []byte) (*stFile, error) {
	fail := func(format string, a ...any) error {
		return fmt.Errorf("%s: %s", name, fmt.Sprintf(format, a...))
	}
	if len(data) < 8 {
		return nil, fail("%d bytes, too short for a safetensors file", len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	if n < 2 || n > stMaxHeader || n > uint64(len(data)-8) {
		return nil, fail("header length %d does not fit the file (%d bytes); not a safetensors file", n, len(data))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+n], &raw); err != nil {
		return nil, fail("the header is not a JSON object: %v", err)
	}
	body := data[8+n:]
	f := &stFile{Tensors: map[string]*stTensor{}}
	begins := map[string]int64{}
	for tname, msg := range raw {
		if tname == "__metadata__" {
			continue
		}
		var e struct {
			DType       string  `json:"dtype"`
			Shape       []int   `json:"shape"`
			DataOffsets []int64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, fail("tensor %s: %v", tname, err)
		}
		size, ok := stSizes[e.DType]
		if !ok {
			return nil, fail("tensor %s: unknown dtype %q", tname, e.DType)
		}
		if len(e.DataOffsets) != 2 || e.DataOffsets[0] < 0 || e.DataOffsets[1] < e.DataOffsets[0] || e.DataOffsets[1] > int64(len(body)) {
			return nil, fail("tensor %s: data_offsets %v outside the %d data bytes", tname, e.DataOffsets, len(body))
		}
		elems := int64(1)
		for _, d := range e.Shape {
			if d < 0 || (d > 0 && elems > math.MaxInt64/int64(d)/size) {
				return nil, fail("tensor %s: bad shape %v", tname, e.Shape)
			}
			elems *= int64(d)
		}
		if elems*size != e.DataOffsets[1]-e.DataOffsets[0] {
			return nil, fail("tensor %s: %s%v needs %d bytes, data_offsets give %d", tname, e.DType, e.Shape, elems*size, e.DataOffsets[1]-e.DataOffsets[0])
		}
		f.Tensors[tname] = &stTensor{DType: e.DType, Shape: e.Shape, Data: body[e.DataOffsets[0]:e.DataOffsets[1]]}
		begins[tname] = e.DataOffsets[0]
		f.Names = append(f.Names, tname)
	}
	sort.Slice(f.Names, func(i, j int) bool {
		a, b := f.Names[i], f.Names[j]
		if begins[a] != begins[b] {
			return begins[a] < begins[b]
		}
		return a < b
	})
	return f, nil
}

// float32s decodes an F32 tensor's elements.
func (t *stTensor) float32s() []float32 {
	out := make([]float32, len(t.Data)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return out
}
