package npy

import (
	"encoding/binary"
	"fmt"
	"math"
)

// dtype is a parsed descr: kind ('f', 'i', 'u' or 'b'), item size in bytes
// and byte order.
type dtype struct {
	kind  byte
	size  int
	order binary.ByteOrder
}

// name is the dtype without its byte order, as Array.DType reports it.
func (d dtype) name() string { return fmt.Sprintf("%c%d", d.kind, d.size) }

// parseDescr parses a simple descr such as "<f4", ">i8" or "|b1".
func parseDescr(s string) (dtype, error) {
	if s == "O" || s == "|O" || s == "<O" || s == ">O" {
		return dtype{}, fmt.Errorf("object arrays (dtype %q, saved with allow_pickle) are not supported", s)
	}
	if len(s) < 3 {
		return dtype{}, fmt.Errorf("unsupported dtype %q", s)
	}
	var d dtype
	switch s[0] {
	case '<':
		d.order = binary.LittleEndian
	case '>':
		d.order = binary.BigEndian
	case '|':
	default:
		return dtype{}, fmt.Errorf("unsupported dtype %q: want a byte order '<', '>' or '|'", s)
	}
	d.kind = s[1]
	switch s[1:] {
	case "f2", "f4", "f8", "i2", "i4", "i8", "u2", "u4", "u8":
		d.size = int(s[2] - '0')
		if d.order == nil {
			return dtype{}, fmt.Errorf("unsupported dtype %q: a %d-byte type needs byte order '<' or '>'", s, d.size)
		}
	case "i1", "u1", "b1":
		d.size = 1
		d.order = binary.LittleEndian // irrelevant for one byte
	default:
		return dtype{}, fmt.Errorf("unsupported dtype %q: want f2, f4, f8, i1, i2, i4, i8, u1, u2, u4, u8 or b1", s)
	}
	return d, nil
}

// halfToFloat32 widens an IEEE 754 binary16 value, exactly.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	case mant == 0: // zero
		return math.Float32frombits(sign)
	}
	// Subnormal: value is mant × 2^-24, exact in float32.
	f := float32(mant) * (1.0 / (1 << 24))
	if sign != 0 {
		f = -f
	}
	return f
}
