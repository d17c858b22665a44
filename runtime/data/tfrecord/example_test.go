package tfrecord

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

// Hand-computed encodings from the protobuf wire format: every
// length-delimited field is key (field<<3|2), varint length, payload.
var encodingTests = []struct {
	name string
	ex   map[string]Feature
	enc  []byte
}{
	{
		// Int64List{0a 01 07} in Feature.int64_list (3), in an entry
		// {key "label", value}, in Features (1), in Example (1).
		name: "label int64 7",
		ex:   map[string]Feature{"label": Int64Feature(7)},
		enc: []byte{0x0a, 0x10, 0x0a, 0x0e, 0x0a, 0x05, 'l', 'a', 'b', 'e', 'l',
			0x12, 0x05, 0x1a, 0x03, 0x0a, 0x01, 0x07},
	},
	{
		// 1.0 is float32 bits 0x3f800000, little-endian.
		name: "x float 1",
		ex:   map[string]Feature{"x": FloatFeature(1)},
		enc: []byte{0x0a, 0x0f, 0x0a, 0x0d, 0x0a, 0x01, 'x',
			0x12, 0x08, 0x12, 0x06, 0x0a, 0x04, 0x00, 0x00, 0x80, 0x3f},
	},
	{
		// -1 is a ten-byte varint; 300 is ac 02.
		name: "n int64 -1 300",
		ex:   map[string]Feature{"n": Int64Feature(-1, 300)},
		enc: []byte{0x0a, 0x17, 0x0a, 0x15, 0x0a, 0x01, 'n',
			0x12, 0x10, 0x1a, 0x0e, 0x0a, 0x0c,
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0xac, 0x02},
	},
	{
		// Two features, sorted by name; bytes values unpacked.
		name: "a bytes, b none",
		ex:   map[string]Feature{"b": {}, "a": BytesFeature([]byte("hi"), nil)},
		enc: []byte{0x0a, 0x16,
			0x0a, 0x0d, 0x0a, 0x01, 'a', 0x12, 0x08, 0x0a, 0x06, 0x0a, 0x02, 'h', 'i', 0x0a, 0x00,
			0x0a, 0x05, 0x0a, 0x01, 'b', 0x12, 0x00},
	},
	{
		name: "empty float list",
		ex:   map[string]Feature{"e": FloatFeature()},
		enc:  []byte{0x0a, 0x09, 0x0a, 0x07, 0x0a, 0x01, 'e', 0x12, 0x02, 0x12, 0x00},
	},
	{name: "no features", ex: map[string]Feature{}, enc: []byte{0x0a, 0x00}},
}

func TestEncodeHandComputed(t *testing.T) {
	for _, tt := range encodingTests {
		ex := &Example{Features: tt.ex}
		if got := ex.Marshal(); !bytes.Equal(got, tt.enc) {
			t.Errorf("%s: Marshal\n got % x\nwant % x", tt.name, got, tt.enc)
		}
		dec, err := DecodeExample(tt.enc)
		if err != nil {
			t.Errorf("%s: DecodeExample: %v", tt.name, err)
			continue
		}
		if !sameFeatures(dec.Features, tt.ex) {
			t.Errorf("%s: decoded %v, want %v", tt.name, dec.Features, tt.ex)
		}
	}
}

// Encodings a canonical encoder does not produce but a parser must accept.
func TestDecodeNonCanonical(t *testing.T) {
	tests := []struct {
		name string
		enc  []byte
		want map[string]Feature
	}{
		{
			name: "unpacked int64s",
			enc: []byte{0x0a, 0x0f, 0x0a, 0x0d, 0x0a, 0x01, 'n',
				0x12, 0x08, 0x1a, 0x06, 0x08, 0x07, 0x08, 0x08, 0x08, 0x01},
			want: map[string]Feature{"n": Int64Feature(7, 8, 1)},
		},
		{
			name: "unpacked and packed floats mixed",
			enc: []byte{0x0a, 0x14, 0x0a, 0x12, 0x0a, 0x01, 'x',
				0x12, 0x0d, 0x12, 0x0b, 0x0d, 0x00, 0x00, 0x80, 0x3f, 0x0a, 0x04, 0x00, 0x00, 0x00, 0x40},
			want: map[string]Feature{"x": FloatFeature(1, 2)},
		},
		{
			// Example fields 2 (varint), 3 (fixed64), 4 (bytes), 5 (fixed32)
			// before features; an unknown field 9 inside the Feature.
			name: "unknown fields skipped",
			enc: []byte{
				0x10, 0x96, 0x01,
				0x19, 1, 2, 3, 4, 5, 6, 7, 8,
				0x22, 0x02, 0xaa, 0xbb,
				0x2d, 1, 2, 3, 4,
				0x0a, 0x12, 0x0a, 0x10, 0x0a, 0x05, 'l', 'a', 'b', 'e', 'l',
				0x12, 0x07, 0x48, 0x01, 0x1a, 0x03, 0x0a, 0x01, 0x07},
			want: map[string]Feature{"label": Int64Feature(7)},
		},
		{
			// Two features fields merge; a repeated key: the later entry wins.
			name: "merge and repeated key",
			enc: []byte{
				0x0a, 0x09, 0x0a, 0x07, 0x0a, 0x01, 'k', 0x12, 0x02, 0x1a, 0x00,
				0x0a, 0x0c, 0x0a, 0x0a, 0x0a, 0x01, 'k', 0x12, 0x05, 0x1a, 0x03, 0x0a, 0x01, 0x05,
			},
			want: map[string]Feature{"k": Int64Feature(5)},
		},
		{
			// Within one Feature, a later list of another kind replaces the first.
			name: "oneof last wins",
			enc: []byte{0x0a, 0x10, 0x0a, 0x0e, 0x0a, 0x01, 'k',
				0x12, 0x09, 0x1a, 0x03, 0x0a, 0x01, 0x05, 0x0a, 0x02, 0x0a, 0x00},
			want: map[string]Feature{"k": BytesFeature([]byte{})},
		},
		{
			name: "entry without key or value",
			enc:  []byte{0x0a, 0x02, 0x0a, 0x00},
			want: map[string]Feature{"": {}},
		},
		{name: "empty", enc: nil, want: map[string]Feature{}},
	}
	for _, tt := range tests {
		ex, err := DecodeExample(tt.enc)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !sameFeatures(ex.Features, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, ex.Features, tt.want)
		}
	}
}

func TestDecodeMalformed(t *testing.T) {
	tests := []struct {
		name string
		enc  []byte
		want string
	}{
		{"truncated key varint", []byte{0x80}, "truncated"},
		{"field number 0", []byte{0x02, 0x00}, "invalid field number 0"},
		{"length past end", []byte{0x0a, 0x05, 0x00}, "exceeds"},
		{"huge length", []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}, "exceeds"},
		{"varint overflow", []byte{0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, "overflows"},
		{"eleven-byte varint", []byte{0x10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, "varint"},
		{"group wire type", []byte{0x13}, "wire type 3"},
		{"truncated fixed64", []byte{0x19, 1, 2}, "truncated"},
		{"truncated fixed32", []byte{0x1d, 1, 2}, "truncated"},
		{"packed floats not multiple of 4", []byte{0x0a, 0x0c, 0x0a, 0x0a, 0x0a, 0x01, 'x',
			0x12, 0x05, 0x12, 0x03, 0x0a, 0x01, 0x00}, "multiple of 4"},
		{"truncated packed varint", []byte{0x0a, 0x0c, 0x0a, 0x0a, 0x0a, 0x01, 'n',
			0x12, 0x05, 0x1a, 0x03, 0x0a, 0x01, 0x80}, "truncated"},
		{"bad entry length", []byte{0x0a, 0x04, 0x0a, 0x02, 0x0a, 0x07}, "exceeds"},
	}
	for _, tt := range tests {
		_, err := DecodeExample(tt.enc)
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %q does not mention %q", tt.name, err, tt.want)
		}
	}
}

func TestUnmarshalReuse(t *testing.T) {
	a := &Example{Features: map[string]Feature{"x": FloatFeature(1, 2, 3), "y": Int64Feature(4)}}
	b := &Example{Features: map[string]Feature{"x": FloatFeature(5), "z": BytesFeature([]byte("zz"))}}
	ea, eb := a.Marshal(), b.Marshal()
	var ex Example
	for range 3 {
		for _, c := range []struct {
			enc  []byte
			want *Example
		}{{ea, a}, {eb, b}} {
			if err := ex.Unmarshal(c.enc); err != nil {
				t.Fatal(err)
			}
			if !sameFeatures(ex.Features, c.want.Features) {
				t.Fatalf("got %v, want %v", ex.Features, c.want.Features)
			}
		}
	}
	allocs := testing.AllocsPerRun(100, func() {
		if err := ex.Unmarshal(ea); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0 {
		t.Errorf("Unmarshal of a same-shaped Example allocated %v times, want 0", allocs)
	}
}

func TestRoundTripValues(t *testing.T) {
	ex := &Example{Features: map[string]Feature{
		"f":     FloatFeature(0, -0, 1.5, float32(math.Inf(-1)), float32(math.NaN()), math.MaxFloat32, math.SmallestNonzeroFloat32),
		"i":     Int64Feature(0, 1, -1, math.MaxInt64, math.MinInt64, 127, 128),
		"b":     BytesFeature([]byte{}, []byte{0, 0xff}, bytes.Repeat([]byte("x"), 300)),
		"none":  {},
		"empty": Int64Feature(),
		"":      BytesFeature([]byte("empty key")),
	}}
	got, err := DecodeExample(ex.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if !sameFeatures(got.Features, ex.Features) {
		t.Errorf("round trip: got %v, want %v", got.Features, ex.Features)
	}
}

// sameFeatures compares feature maps, floats by bits and the unused lists
// not at all.
func sameFeatures(a, b map[string]Feature) bool {
	if len(a) != len(b) {
		return false
	}
	for k, fa := range a {
		fb, ok := b[k]
		if !ok || !sameFeature(fa, fb) {
			return false
		}
	}
	return true
}

func sameFeature(a, b Feature) bool {
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case KindBytes:
		if len(a.Bytes) != len(b.Bytes) {
			return false
		}
		for i := range a.Bytes {
			if !bytes.Equal(a.Bytes[i], b.Bytes[i]) {
				return false
			}
		}
	case KindFloat:
		if len(a.Floats) != len(b.Floats) {
			return false
		}
		for i := range a.Floats {
			if math.Float32bits(a.Floats[i]) != math.Float32bits(b.Floats[i]) {
				return false
			}
		}
	case KindInt64:
		if len(a.Int64s) != len(b.Int64s) {
			return false
		}
		for i := range a.Int64s {
			if a.Int64s[i] != b.Int64s[i] {
				return false
			}
		}
	}
	return true
}

func float32frombits(b uint32) float32 { return math.Float32frombits(b) }
