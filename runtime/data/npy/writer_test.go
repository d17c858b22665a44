package npy

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// encode writes a .npy file the way numpy does: preamble, header dict padded
// with spaces to a multiple of 64 bytes and ended by a newline, then data.
// It is the tests' independent writer, for benchmarks and hostile headers.
func encode(major byte, dict string, data []byte) []byte {
	pre := 10
	if major >= 2 {
		pre = 12
	}
	total := pre + len(dict) + 1
	pad := (64 - total%64) % 64
	hdr := dict + strings.Repeat(" ", pad) + "\n"
	out := []byte(magic)
	out = append(out, major, 0)
	if major >= 2 {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(hdr)))
	} else {
		out = binary.LittleEndian.AppendUint16(out, uint16(len(hdr)))
	}
	out = append(out, hdr...)
	return append(out, data...)
}

// dictFor is the header dict numpy writes for descr and shape.
func dictFor(descr string, fortran bool, shape []int) string {
	s := "("
	for i, d := range shape {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprint(d)
	}
	if len(shape) == 1 {
		s += ","
	}
	s += ")"
	f := "False"
	if fortran {
		f = "True"
	}
	return fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, f, s)
}

// encodeF32 is a little-endian f4 .npy file holding vals with shape.
func encodeF32(vals []float32, shape []int) []byte {
	data := make([]byte, 0, 4*len(vals))
	for _, v := range vals {
		data = binary.LittleEndian.AppendUint32(data, math.Float32bits(v))
	}
	return encode(1, dictFor("<f4", false, shape), data)
}
