package tfrecord

import (
	"errors"
	"fmt"
)

// Protobuf wire types.
const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 5
)

var errTruncated = errors.New("truncated")

// varint decodes a base-128 varint from b, returning the value and the
// number of bytes read.
func varint(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		c := b[i]
		if i == 9 && c > 1 {
			return 0, 0, errors.New("varint overflows 64 bits")
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v, i + 1, nil
		}
	}
	if len(b) < 10 {
		return 0, 0, errTruncated
	}
	return 0, 0, errors.New("varint longer than 10 bytes")
}

// tag decodes a field key: field number and wire type.
func tag(b []byte) (num int, typ int, n int, err error) {
	v, n, err := varint(b)
	if err != nil {
		return 0, 0, 0, err
	}
	num = int(v >> 3)
	if v>>3 == 0 || v>>3 > 1<<29-1 {
		return 0, 0, 0, fmt.Errorf("invalid field number %d", v>>3)
	}
	return num, int(v & 7), n, nil
}

// lengthDelimited returns the payload of a length-delimited field starting
// at b (after its key) and the bytes consumed.
func lengthDelimited(b []byte) ([]byte, int, error) {
	l, n, err := varint(b)
	if err != nil {
		return nil, 0, err
	}
	if l > uint64(len(b)-n) {
		return nil, 0, fmt.Errorf("length %d exceeds the %d bytes left", l, len(b)-n)
	}
	return b[n : n+int(l)], n + int(l), nil
}

// skip returns the size of a field's value of wire type typ at b.
func skip(b []byte, typ int) (int, error) {
	switch typ {
	case wireVarint:
		_, n, err := varint(b)
		return n, err
	case wireFixed64:
		if len(b) < 8 {
			return 0, errTruncated
		}
		return 8, nil
	case wireBytes:
		_, n, err := lengthDelimited(b)
		return n, err
	case wireFixed32:
		if len(b) < 4 {
			return 0, errTruncated
		}
		return 4, nil
	}
	return 0, fmt.Errorf("unsupported wire type %d", typ)
}

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func varintSize(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func appendTag(b []byte, num, typ int) []byte {
	return appendVarint(b, uint64(num)<<3|uint64(typ))
}
