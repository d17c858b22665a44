package tfrecord

import (
	"encoding/binary"
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
	for off := 0; off < len(data); {
		num, typ, n, err := tag(data[off:])
		if err != nil {
			return decodeErr("Example", off, err)
		}
		off += n
		if num == 1 && typ == wireBytes {
			msg, n, err := lengthDelimited(data[off:])
			if err != nil {
				return decodeErr("Example.features", off, err)
			}
			if err := ex.decodeFeatures(msg); err != nil {
				return err
			}
			off += n
			continue
		}
		n, err = skip(data[off:], typ)
		if err != nil {
			return decodeErr(fmt.Sprintf("Example field %d", num), off, err)
		}
		off += n
	}
	return nil
}

func decodeErr(where string, off int, err error) error {
	return fmt.Errorf("tfrecord: decoding %s at byte %d: %w", where, off, err)
}

func (ex *Example) decodeFeatures(data []byte) error {
	for off := 0; off < len(data); {
		num, typ, n, err := tag(data[off:])
		if err != nil {
			return decodeErr("Features", off, err)
		}
		off += n
		if num == 1 && typ == wireBytes {
			msg, n, err := lengthDelimited(data[off:])
			if err != nil {
				return decodeErr("Features.feature", off, err)
			}
			if err := ex.decodeEntry(msg); err != nil {
				return err
			}
			off += n
			continue
		}
		n, err = skip(data[off:], typ)
		if err != nil {
			return decodeErr(fmt.Sprintf("Features field %d", num), off, err)
		}
		off += n
	}
	return nil
}

// decodeEntry decodes one map<string, Feature> entry: key = 1, value = 2. A
// later entry for the same key replaces an earlier one; repeated value
// fields within an entry merge.
func (ex *Example) decodeEntry(data []byte) error {
	var key []byte
	for off := 0; off < len(data); {
		num, typ, n, err := tag(data[off:])
		if err != nil {
			return decodeErr("feature entry", off, err)
		}
		off += n
		if num == 1 && typ == wireBytes {
			key, n, err = lengthDelimited(data[off:])
		} else {
			n, err = skip(data[off:], typ)
		}
		if err != nil {
			return decodeErr("feature entry", off, err)
		}
		off += n
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
	for off := 0; off < len(data); {
		num, typ, n, _ := tag(data[off:]) // validated above
		off += n
		if num == 2 && typ == wireBytes {
			msg, n, _ := lengthDelimited(data[off:])
			if err := f.decode(msg); err != nil {
				return fmt.Errorf("tfrecord: decoding feature %q: %w", key, err)
			}
			off += n
			continue
		}
		n, _ = skip(data[off:], typ)
		off += n
	}
	ex.Features[k] = f
	return nil
}

// decode merges a serialized Feature into f.
func (f *Feature) decode(data []byte) error {
	for off := 0; off < len(data); {
		num, typ, n, err := tag(data[off:])
		if err != nil {
			return decodeErr("Feature", off, err)
		}
		off += n
		if typ == wireBytes && num >= 1 && num <= 3 {
			msg, n, err := lengthDelimited(data[off:])
			if err != nil {
				return decodeErr("Feature", off, err)
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
			if err != nil {
				return decodeErr(k.String(), off, err)
			}
			off += n
			continue
		}
		n, err = skip(data[off:], typ)
		if err != nil {
			return decodeErr(fmt.Sprintf("Feature field %d", num), off, err)
		}
		off += n
	}
	return nil
}

func (f *Feature) decodeBytes(data []byte) error {
	for off := 0; off < len(data); {
		num, typ, n, err := tag(data[off:])
		if err != nil {
			return err
		}
		off += n
		if num == 1 && typ == wireBytes {
			v, n, err := lengthDelimited(data[off:])
			if err != nil {
				return err
			}
			var dst []byte
			if len(f.Bytes) < cap(f.Bytes) {
				dst = f.Bytes[:len(f.Bytes)+1][len(f.Bytes)][:0]
			}
			f.Bytes = append(f.Bytes, append(dst, v...))
			off += n
			continue
		}
		if n, err = skip(data[off:], typ); err != nil {
			return err
		}
		off += n
	}
	return nil
}

func (f *Feature) decodeFloats(data []byte) error {
	for off := 0; off < len(data); {
		num, typ, n, err := tag(data[off:])
		if err != nil {
			return err
		}
		off += n
		switch {
		case num == 1 && typ == wireBytes: // packed
			v, n, err := lengthDelimited(data[off:])
			if err != nil {
				return err
			}
			if len(v)%4 != 0 {
				return fmt.Errorf("packed floats of %d bytes, not a multiple of 4", len(v))
			}
			f.Floats = slices.Grow(f.Floats, len(v)/4)
			for i := 0; i+4 <= len(v); i += 4 {
				f.Floats = append(f.Floats, math.Float32frombits(binary.LittleEndian.Uint32(v[i:])))
			}
			off += n
		case num == 1 && typ == wireFixed32: // unpacked
			if len(data)-off < 4 {
				return errTruncated
			}
			f.Floats = append(f.Floats, math.Float32frombits(binary.LittleEndian.Uint32(data[off:])))
			off += 4
		default:
			if n, err = skip(data[off:], typ); err != nil {
				return err
			}
			off += n
		}
	}
	return nil
}

func (f *Feature) decodeInt64s(data []byte) error {
	for off := 0; off < len(data); {
		num, typ, n, err := tag(data[off:])
		if err != nil {
			return err
		}
		off += n
		switch {
		case num == 1 && typ == wireBytes: // packed
			v, n, err := lengthDelimited(data[off:])
			if err != nil {
				return err
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
					return err
				}
				f.Int64s = append(f.Int64s, int64(x))
				i += m
			}
			off += n
		case num == 1 && typ == wireVarint: // unpacked
			x, m, err := varint(data[off:])
			if err != nil {
				return err
			}
			f.Int64s = append(f.Int64s, int64(x))
			off += m
		default:
			if n, err = skip(data[off:], typ); err != nil {
				return err
			}
			off += n
		}
	}
	return nil
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
