package tfrecord

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Kind says which list a Feature holds (the Feature.kind oneof).
type Kind uint8

const (
	// KindNone is a Feature with no list set.
	KindNone Kind = iota
	// KindBytes is a bytes_list (field 1).
	KindBytes
	// KindFloat is a float_list (field 2).
	KindFloat
	// KindInt64 is an int64_list (field 3).
	KindInt64
)

// String returns the proto field name of the kind.
func (k Kind) String() string {
	switch k {
	case KindNone:
		return "none"
	case KindBytes:
		return "bytes_list"
	case KindFloat:
		return "float_list"
	case KindInt64:
		return "int64_list"
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// Feature is a tf.train.Feature: one list of values, selected by Kind. Only
// the list Kind names is meaningful.
type Feature struct {
	Kind   Kind
	Bytes  [][]byte
	Floats []float32
	Int64s []int64
}

// BytesFeature returns a bytes_list Feature.
func BytesFeature(v ...[]byte) Feature { return Feature{Kind: KindBytes, Bytes: v} }

// FloatFeature returns a float_list Feature.
func FloatFeature(v ...float32) Feature { return Feature{Kind: KindFloat, Floats: v} }

// Int64Feature returns an int64_list Feature.
func Int64Feature(v ...int64) Feature { return Feature{Kind: KindInt64, Int64s: v} }

// reset empties f and sets its kind, keeping the lists' storage.
func (f *Feature) reset(k Kind) {
	f.Kind = k
	f.Bytes = f.Bytes[:0]
	f.Floats = f.Floats[:0]
	f.Int64s = f.Int64s[:0]
}

// Example is a tf.train.Example: named features (Example.features.feature).
// A nil Features map encodes as an Example without its features field.
type Example struct {
	Features map[string]Feature

	spare map[string]spareFeature // storage kept by Unmarshal for reuse
}

type spareFeature struct {
	key string
	f   Feature
}

// DecodeExample decodes a serialized tf.train.Example. The result does not
// alias data.
func DecodeExample(data []byte) (*Example, error) {
	ex := new(Example)
	if err := ex.Unmarshal(data); err != nil {
		return nil, err
	}
	return ex, nil
}

// Unmarshal replaces ex's contents with the decoded serialized Example,
// reusing the storage of ex's previous features (so that decoding records
// of the same shape in a loop does not allocate). Slices held from earlier
// contents of ex may be overwritten. The result does not alias data. On error
// ex holds a partial result.
func (ex *Example) Unmarshal(data []byte) error {
	if ex.spare == nil {
		ex.spare = make(map[string]spareFeature)
	}
	for k, f := range ex.Features {
		ex.spare[k] = spareFeature{k, f}
	}
	if ex.Features == nil {
		ex.Features = make(map[string]Feature)
	}
	clear(ex.Features)
	return decodeMessage("Example", data, func(num, typ int, b []byte) (int, bool, error) {
		if num != 1 || typ != wireBytes {
			return 0, false, nil
		}
		msg, n, err := lengthDelimited(b)
		if err == nil {
			err = ex.decodeFeatures(msg)
		}
		return n, true, err
	})
}

func decodeErr(where string, off int, err error) error {
	return fmt.Errorf("tfrecord: decoding %s at byte %d: %w", where, off, err)
}

// decodeMessage decodes the message what from data, field by field: it
// calls visit with each field's number, wire type and the bytes from its
// value on; visit returns how many of them the value took, or false to
// have the field skipped (an unknown field). An error comes back naming
// the message and the offset of the field's value, unless it already
// names a message within it.
func decodeMessage(what string, data []byte, visit func(num, typ int, b []byte) (int, bool, error)) error {
	off, err := walk(data, visit)
	if err == nil {
		return nil
	}
	if inner := (*decodeError)(nil); errors.As(err, &inner) {
		return err
	}
	return &decodeError{fmt.Errorf("tfrecord: decoding %s at byte %d: %w", what, off, err)}
}

// decodeError is an error already placed in the message it occurred in.
type decodeError struct{ error }

// Unwrap returns the underlying error.
func (e *decodeError) Unwrap() error { return e.error }

// walk runs visit over the fields of data (see decodeMessage) and returns
// the offset where it stopped and the error that stopped it, if any.
func walk(data []byte, visit func(num, typ int, b []byte) (int, bool, error)) (int, error) {
	for off := 0; off < len(data); {
		num, typ, n, err := tag(data[off:])
		if err != nil {
			return off, err
		}
		off += n
		m, ok, err := visit(num, typ, data[off:])
		if err == nil && !ok {
			m, err = skip(data[off:], typ)
		}
		if err != nil {
			return off, err
		}
		off += m
	}
	return len(data), nil
}

func (ex *Example) decodeFeatures(data []byte) error {
	return decodeMessage("Features", data, func(num, typ int, b []byte) (int, bool, error) {
		if num != 1 || typ != wireBytes {
			return 0, false, nil
		}
		msg, n, err := lengthDelimited(b)
		if err == nil {
			err = ex.decodeEntry(msg)
		}
		return n, true, err
	})
}

// decodeEntry decodes one map<string, Feature> entry: key = 1, value = 2. A
// later entry for the same key replaces an earlier one; repeated value
// fields within an entry merge.
func (ex *Example) decodeEntry(data []byte) error {
	var key []byte
	err := decodeMessage("feature entry", data, func(num, typ int, b []byte) (int, bool, error) {
		if num != 1 || typ != wireBytes {
			return 0, false, nil
		}
		v, n, err := lengthDelimited(b)
		key = v
		return n, true, err
	})
	if err != nil {
		return err
	}
	var k string
	var f Feature
	if old, ok := ex.Features[string(key)]; ok {
		k, f = string(key), old // a repeated key: the later entry wins
	} else if sp, ok := ex.spare[string(key)]; ok {
		k, f = sp.key, sp.f
		delete(ex.spare, k)
	} else {
		k = string(key)
	}
	f.reset(KindNone)
	// The entry is well formed (decoded above): decode its values.
	err = decodeMessage("feature entry", data, func(num, typ int, b []byte) (int, bool, error) {
		if num != 2 || typ != wireBytes {
			return 0, false, nil
		}
		v, n, _ := lengthDelimited(b)
		if err := f.decode(v); err != nil {
			return n, true, &decodeError{fmt.Errorf("tfrecord: decoding feature %q: %w", key, err)}
		}
		return n, true, nil
	})
	if err != nil {
		return err
	}
	ex.Features[k] = f
	return nil
}

// decode merges a serialized Feature into f.
func (f *Feature) decode(data []byte) error {
	return decodeMessage("Feature", data, func(num, typ int, b []byte) (int, bool, error) {
		if typ != wireBytes || num < 1 || num > 3 {
			return 0, false, nil
		}
		msg, n, err := lengthDelimited(b)
		if err != nil {
			return n, true, err
		}
		k := Kind(num)
		if f.Kind != k {
			f.reset(k)
		}
		switch k {
		case KindBytes:
			err = f.decodeBytes(msg)
		case KindFloat:
			err = f.decodeFloats(msg)
		case KindInt64:
			err = f.decodeInt64s(msg)
		}
		return n, true, err
	})
}

func (f *Feature) decodeBytes(data []byte) error {
	return decodeMessage("BytesList", data, func(num, typ int, b []byte) (int, bool, error) {
		if num != 1 || typ != wireBytes {
			return 0, false, nil
		}
		v, n, err := lengthDelimited(b)
		if err != nil {
			return n, true, err
		}
		var dst []byte
		if len(f.Bytes) < cap(f.Bytes) {
			dst = f.Bytes[:len(f.Bytes)+1][len(f.Bytes)][:0]
		}
		f.Bytes = append(f.Bytes, append(dst, v...))
		return n, true, nil
	})
}

func (f *Feature) decodeFloats(data []byte) error {
	return decodeMessage("FloatList", data, func(num, typ int, b []byte) (int, bool, error) {
		switch {
		case num == 1 && typ == wireBytes: // packed
			v, n, err := lengthDelimited(b)
			if err != nil {
				return n, true, err
			}
			if len(v)%4 != 0 {
				return n, true, fmt.Errorf("packed floats of %d bytes, not a multiple of 4", len(v))
			}
			f.Floats = slices.Grow(f.Floats, len(v)/4)
			for i := 0; i+4 <= len(v); i += 4 {
				f.Floats = append(f.Floats, math.Float32frombits(binary.LittleEndian.Uint32(v[i:])))
			}
			return n, true, nil
		case num == 1 && typ == wireFixed32: // unpacked
			if len(b) < 4 {
				return 0, true, errTruncated
			}
			f.Floats = append(f.Floats, math.Float32frombits(binary.LittleEndian.Uint32(b)))
			return 4, true, nil
		}
		return 0, false, nil
	})
}

func (f *Feature) decodeInt64s(data []byte) error {
	return decodeMessage("Int64List", data, func(num, typ int, b []byte) (int, bool, error) {
		switch {
		case num == 1 && typ == wireBytes: // packed
			v, n, err := lengthDelimited(b)
			if err != nil {
				return n, true, err
			}
			count := 0
			for _, c := range v {
				if c < 0x80 {
					count++
				}
			}
			f.Int64s = slices.Grow(f.Int64s, count)
			for i := 0; i < len(v); {
				x, m, err := varint(v[i:])
				if err != nil {
					return n, true, err
				}
				f.Int64s = append(f.Int64s, int64(x))
				i += m
			}
			return n, true, nil
		case num == 1 && typ == wireVarint: // unpacked
			x, m, err := varint(b)
			if err != nil {
				return m, true, err
			}
			f.Int64s = append(f.Int64s, int64(x))
			return m, true, nil
		}
		return 0, false, nil
	})
}

// Marshal returns the canonical encoding of ex: features sorted by name,
// numeric lists packed.
func (ex *Example) Marshal() []byte { return ex.AppendMarshal(nil) }

// AppendMarshal appends ex's encoding (as Marshal) to b. A Feature with an
// unknown Kind encodes as one with KindNone.
func (ex *Example) AppendMarshal(b []byte) []byte {
	if ex.Features == nil {
		return b
	}
	keys := make([]string, 0, len(ex.Features))
	size := 0
	for k, f := range ex.Features {
		keys = append(keys, k)
		size += lenField(entrySize(k, &f))
	}
	slices.Sort(keys)
	b = appendTag(b, 1, wireBytes)
	b = appendVarint(b, uint64(size))
	for _, k := range keys {
		f := ex.Features[k]
		fs := f.size()
		b = appendTag(b, 1, wireBytes)
		b = appendVarint(b, uint64(entrySize(k, &f)))
		b = appendTag(b, 1, wireBytes)
		b = appendVarint(b, uint64(len(k)))
		b = append(b, k...)
		b = appendTag(b, 2, wireBytes)
		b = appendVarint(b, uint64(fs))
		b = f.append(b)
	}
	return b
}

// lenField is the size of a length-delimited field with a one-byte key and
// an n-byte payload.
func lenField(n int) int { return 1 + varintSize(uint64(n)) + n }

func entrySize(k string, f *Feature) int { return lenField(len(k)) + lenField(f.size()) }

// listSize is the size of the list message inside f.
func (f *Feature) listSize() int {
	switch f.Kind {
	case KindBytes:
		n := 0
		for _, v := range f.Bytes {
			n += lenField(len(v))
		}
		return n
	case KindFloat:
		if len(f.Floats) == 0 {
			return 0
		}
		return lenField(4 * len(f.Floats))
	case KindInt64:
		if len(f.Int64s) == 0 {
			return 0
		}
		n := 0
		for _, v := range f.Int64s {
			n += varintSize(uint64(v))
		}
		return lenField(n)
	}
	return 0
}

func (f *Feature) size() int {
	switch f.Kind {
	case KindBytes, KindFloat, KindInt64:
		return lenField(f.listSize())
	}
	return 0
}

func (f *Feature) append(b []byte) []byte {
	switch f.Kind {
	case KindBytes, KindFloat, KindInt64:
	default:
		return b
	}
	b = appendTag(b, int(f.Kind), wireBytes)
	b = appendVarint(b, uint64(f.listSize()))
	switch f.Kind {
	case KindBytes:
		for _, v := range f.Bytes {
			b = appendTag(b, 1, wireBytes)
			b = appendVarint(b, uint64(len(v)))
			b = append(b, v...)
		}
	case KindFloat:
		if len(f.Floats) > 0 {
			b = appendTag(b, 1, wireBytes)
			b = appendVarint(b, uint64(4*len(f.Floats)))
			for _, v := range f.Floats {
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
			}
		}
	case KindInt64:
		if len(f.Int64s) > 0 {
			n := 0
			for _, v := range f.Int64s {
				n += varintSize(uint64(v))
			}
			b = appendTag(b, 1, wireBytes)
			b = appendVarint(b, uint64(n))
			for _, v := range f.Int64s {
				b = appendVarint(b, uint64(v))
			}
		}
	}
	return b
}
