package trainlog

import (
	"encoding/binary"
	"math"
)

// Protocol buffer wire types (protobuf encoding spec, "Message Structure").
const (
	wireVarint  = 0 // int32, int64, uint64, bool, enum
	wireFixed64 = 1 // fixed64, double
	wireBytes   = 2 // string, bytes, embedded messages, packed repeated
	wireFixed32 = 5 // fixed32, float
)

// pbuf is a minimal protocol buffer encoder: it appends fields to b.
// Embedded messages are written in place: begin reserves one byte for the
// length, end patches it (shifting the body when the length needs more
// than one byte), so no temporary buffers are allocated.
type pbuf struct {
	b []byte
}

func (p *pbuf) reset() { p.b = p.b[:0] }

func (p *pbuf) varint(v uint64) {
	p.b = binary.AppendUvarint(p.b, v)
}

func (p *pbuf) key(field, wire int) {
	p.varint(uint64(field)<<3 | uint64(wire))
}

// int64Field writes an int64/int32/enum field; negative values take ten
// bytes (two's complement), as the spec requires for int64.
func (p *pbuf) int64Field(field int, v int64) {
	p.key(field, wireVarint)
	p.varint(uint64(v))
}

func (p *pbuf) doubleField(field int, v float64) {
	p.key(field, wireFixed64)
	p.b = binary.LittleEndian.AppendUint64(p.b, math.Float64bits(v))
}

func (p *pbuf) floatField(field int, v float32) {
	p.key(field, wireFixed32)
	p.b = binary.LittleEndian.AppendUint32(p.b, math.Float32bits(v))
}

func (p *pbuf) stringField(field int, s string) {
	p.key(field, wireBytes)
	p.varint(uint64(len(s)))
	p.b = append(p.b, s...)
}

func (p *pbuf) bytesField(field int, b []byte) {
	p.key(field, wireBytes)
	p.varint(uint64(len(b)))
	p.b = append(p.b, b...)
}

// begin starts an embedded message in field and returns the position to
// pass to end once the message's fields are written.
func (p *pbuf) begin(field int) int {
	p.key(field, wireBytes)
	p.b = append(p.b, 0)
	return len(p.b) - 1
}

// end closes the embedded message begun at pos by writing its length.
func (p *pbuf) end(pos int) {
	n := len(p.b) - pos - 1
	if n < 0x80 {
		p.b[pos] = byte(n)
		return
	}
	var tmp [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(tmp[:], uint64(n))
	old := len(p.b)
	p.b = append(p.b, tmp[:k-1]...) // grow by k-1 bytes
	copy(p.b[pos+k:], p.b[pos+1:old])
	copy(p.b[pos:], tmp[:k])
}
