package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flow-lang/flow/runtime"
	"github.com/stretchr/testify/require"
)

// tinyParams are the params of the hand-assembled file below.
func tinyParams() []runtime.Param {
	return []runtime.Param{
		{Name: "W", Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}},
		{Name: "b", Shape: []int{}, Data: []float32{0.5}},
	}
}

// tinyFile is tinyParams with metadata {"model": "m"}, assembled by hand
// from the safetensors spec.
func tinyFile() []byte {
	hdr := `{"__metadata__":{"model":"m"},` +
		`"W":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},` +
		`"b":{"dtype":"F32","shape":[],"data_offsets":[16,20]}}` +
		"    " // 140 bytes of JSON + 4 spaces: the data starts at 8+144 = 152, a multiple of 8
	var b []byte
	b = append(b, 144, 0, 0, 0, 0, 0, 0, 0) // header length, u64 little-endian
	b = append(b, hdr...)
	b = append(b,
		0x00, 0x00, 0x80, 0x3f, // 1.0 = 0x3f800000
		0x00, 0x00, 0x00, 0x40, // 2.0 = 0x40000000
		0x00, 0x00, 0x40, 0x40, // 3.0 = 0x40400000
		0x00, 0x00, 0x80, 0x40, // 4.0 = 0x40800000
		0x00, 0x00, 0x00, 0x3f, // 0.5 = 0x3f000000
	)
	return b
}

// tinySaved is tinyFile as Save writes it: with the CRC-32C checksums of
// W's and b's data and of the header (computed here with the standard
// library over the spec-assembled bytes) in the metadata.
func tinySaved() []byte {
	raw := tinyFile()
	data := raw[152:]
	hdr := fmt.Sprintf(`{"__metadata__":{"crc32c":"%s","crc32c_header":"00000000","model":"m"},`, tensorSums(data[:16], data[16:])) +
		`"W":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},` +
		`"b":{"dtype":"F32","shape":[],"data_offsets":[16,20]}}`
	for (8+len(hdr))%8 != 0 {
		hdr += " "
	}
	return seal(append(build(hdr, nil), data...))
}

// tensorSums renders the CRC-32C checksums of the tensors' data as the
// crc32c metadata entry holds them.
func tensorSums(data ...[]byte) string {
	var sums []string
	for _, d := range data {
		sums = append(sums, fmt.Sprintf("%08x", crc32.Checksum(d, crc32.MakeTable(crc32.Castagnoli))))
	}
	return strings.Join(sums, ",")
}

// sealMark is the header checksum entry seal fills in.
const sealMark = `"crc32c_header":"00000000"`

// seal fills in the header checksum of file, whose header holds sealMark,
// as HeaderChecksumKey's documentation specifies: the CRC-32C of the
// first 8+N bytes with the entry's digits as zeros.
func seal(file []byte) []byte {
	n := binary.LittleEndian.Uint64(file)
	i := bytes.Index(file[:8+n], []byte(sealMark))
	if i < 0 {
		panic("seal: no " + sealMark)
	}
	sum := crc32.Checksum(file[:8+n], crc32.MakeTable(crc32.Castagnoli))
	copy(file[i+len(sealMark)-9:], fmt.Sprintf("%08x", sum))
	return file
}

// sealed builds a file from a header holding sealMark and data, and
// seals it.
func sealed(header string, data []byte) []byte {
	return seal(build(header, data))
}

func TestSaveWritesTheSpecLayout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tiny.safetensors")
	require.NoError(t, Save(path, tinyParams(), map[string]string{"model": "m"}))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, tinySaved(), got)
	// Load verifies the checksums and hides them.
	f, err := Parse("tiny", got)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"model": "m"}, f.Metadata)
}

func TestChecksums(t *testing.T) {
	good := tinySaved()
	// A flipped bit in b's data (the last 4 bytes) is caught and blamed on b.
	bad := bytes.Clone(good)
	bad[len(bad)-2] ^= 0x10
	_, err := Parse("x.safetensors", bad)
	require.EqualError(t, err, "x.safetensors: tensor b: the data is corrupted (its CRC-32C is "+
		fmt.Sprintf("%08x", crc32.Checksum(bad[len(bad)-4:], crc32.MakeTable(crc32.Castagnoli)))+", the header says "+
		fmt.Sprintf("%08x", crc32.Checksum(good[len(good)-4:], crc32.MakeTable(crc32.Castagnoli)))+")")
	// ... and in W's.
	bad = bytes.Clone(good)
	bad[len(bad)-20] ^= 1
	_, err = Parse("x.safetensors", bad)
	require.ErrorContains(t, err, "x.safetensors: tensor W: the data is corrupted")
	// A damaged checksum list under a header checksum that matches it (a
	// writer's bug rather than damage: damage would fail the header's).
	for _, tt := range []struct{ sums, want string }{
		{"00000000", "x.safetensors: metadata crc32c holds 1 checksums for 2 tensors: the header is corrupted"},
		{"", "x.safetensors: metadata crc32c holds 0 checksums for 2 tensors: the header is corrupted"},
		{"zzzzzzzz,00000000", `x.safetensors: tensor W: checksum "zzzzzzzz" in metadata crc32c is not 8 hex digits`},
	} {
		hdr := `{"__metadata__":{"crc32c":"` + tt.sums + `",` + sealMark + `},"W":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[],"data_offsets":[16,20]}}`
		_, err := Parse("x.safetensors", sealed(hdr, good[len(good)-20:]))
		require.EqualError(t, err, tt.want)
	}
	// The keys are reserved.
	require.ErrorContains(t, Encode(io.Discard, tinyParams(), map[string]string{"crc32c": "x"}), `the metadata key "crc32c" is reserved`)
	require.ErrorContains(t, Encode(io.Discard, tinyParams(), map[string]string{"crc32c_header": "x"}), `the metadata key "crc32c_header" is reserved`)
}

// TestSavedFileRefusesEveryChangedByte saves a checkpoint with training
// state in its metadata and changes each of its bytes in turn, in several
// ways: every changed file is refused with an error naming it — whether
// the byte is in the header length, a header key or value, the padding,
// a checksum or the data.
func TestSavedFileRefusesEveryChangedByte(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, Encode(&buf, tinyParams(), map[string]string{"model": "m", "step": "400", "recent_loss": "0.25,0.125"}))
	good := buf.Bytes()
	_, err := Parse("ckpt-400.safetensors", good)
	require.NoError(t, err)
	for i := range good {
		for _, mask := range []byte{0x01, 0x02, 0x10, 0x20, 0x80, 0xff} {
			bad := bytes.Clone(good)
			bad[i] ^= mask
			_, err := Parse("ckpt-400.safetensors", bad)
			require.Error(t, err, "byte %d ^ %#x (%q) went unnoticed", i, mask, good[i])
			require.True(t, strings.HasPrefix(err.Error(), "ckpt-400.safetensors: "), err.Error())
		}
	}
}

// TestChangedBytesByClass changes one thing of each kind in a saved file
// and checks the error says what is wrong.
func TestChangedBytesByClass(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, Encode(&buf, tinyParams(), map[string]string{"model": "m", "recent_loss": "0.25,0.125"}))
	good := buf.Bytes()
	n := int(binary.LittleEndian.Uint64(good))
	header := string(good[8 : 8+n])
	// replace changes the first old in the header to new, of the same length.
	replace := func(old, new string) []byte {
		require.Len(t, new, len(old))
		require.Contains(t, header, old)
		bad := bytes.Clone(good)
		copy(bad[8+strings.Index(header, old):], new)
		return bad
	}
	sumAt := strings.Index(header, `"crc32c_header":"`) + len(`"crc32c_header":"`)
	digits := header[sumAt : sumAt+8]
	otherDigit := func(s string) string {
		if s[0] == '0' {
			return "1" + s[1:]
		}
		return "0" + s[1:]
	}
	bias := bytes.Clone(good)
	bias[len(bias)-1] ^= 0x40 // b's exponent: 0.5 becomes 2^127
	biasAndKey := bytes.Clone(bias)
	copy(biasAndKey[8+strings.Index(header, `"crc32c":`):], `"crc32b":`)
	const corrupted = "f: the header is corrupted (its CRC-32C is "
	for _, tt := range []struct {
		name string
		file []byte
		want string
	}{
		{"tensor name", replace(`"W":`, `"V":`), corrupted},
		{"dtype", replace(`"F32"`, `"I32"`), corrupted},
		{"shape", replace(`[2,2]`, `[2,3]`), corrupted},
		{"offset", replace(`[16,20]`, `[16,21]`), corrupted},
		{"metadata key", replace(`"model"`, `"mode1"`), corrupted},
		{"metadata value", replace(`0.25,`, `0.26,`), corrupted},
		{"tensor checksums renamed", replace(`"crc32c":`, `"crc32b":`), corrupted},
		{"a tensor checksum", replace(header[strings.Index(header, `"crc32c":"`)+10:][:8], otherDigit(header[strings.Index(header, `"crc32c":"`)+10:][:8])), corrupted},
		{"the header checksum", replace(`"crc32c_header":"`+digits, `"crc32c_header":"`+otherDigit(digits)), corrupted},
		{"padding", replace(`} `, "}\t"), corrupted},
		{"data", bias, "f: tensor b: the data is corrupted (its CRC-32C is "},
		{"renamed key and data", biasAndKey, corrupted},
		{"header checksum renamed", replace(`"crc32c_header"`, `"crc32c_headex"`), "f: the header has no checksum (metadata crc32c_header): the file was not saved by flow, or its header is damaged; a checkpoint that cannot be verified is not loaded"},
		{"header checksum not hex", replace(`"crc32c_header":"`+digits, `"crc32c_header":"zzzzzzzz`), `f: metadata crc32c_header is "zzzzzzzz", want 8 lowercase hex digits: the header is corrupted`},
		{"header checksum escaped", replace(`"crc32c_header":"`+digits[:2], `"crc32c_header":"\/`), `f: metadata crc32c_header is "\/`},
		{"no checksums", tinyFile(), "f: the header has no checksum (metadata crc32c_header): the file was not saved by flow"},
		{"no tensor checksums", sealed(`{"__metadata__":{`+sealMark+`},"W":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[],"data_offsets":[16,20]}}`, good[len(good)-20:]),
			"f: the tensors have no checksums (metadata crc32c): the file was not saved by flow; a checkpoint that cannot be verified is not loaded"},
		{"duplicate metadata key", sealed(`{"__metadata__":{`+sealMark+`,"a":"1","a":"2"}}`, nil), `f: __metadata__ names "a" twice`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("f", tt.file)
			require.Error(t, err)
			require.True(t, strings.HasPrefix(err.Error(), tt.want), "got  %s\nwant %s…", err, tt.want)
		})
	}
}

func TestLoadHandAssembledFile(t *testing.T) {
	// Without checksums, the spec's file is refused: it cannot be verified.
	_, err := Parse("tiny.safetensors", tinyFile())
	require.ErrorContains(t, err, "tiny.safetensors: the header has no checksum")
	f, err := Parse("tiny.safetensors", tinySaved())
	require.NoError(t, err)
	require.Equal(t, map[string]string{"model": "m"}, f.Metadata)
	require.Len(t, f.Tensors, 2)
	w := f.Tensor("W")
	require.NotNil(t, w)
	require.Equal(t, F32, w.DType)
	require.Equal(t, []int{2, 2}, w.Shape)
	vals, err := w.Float32s()
	require.NoError(t, err)
	require.Equal(t, []float32{1, 2, 3, 4}, vals)
	require.Equal(t, []int{}, f.Tensor("b").Shape)
	require.Nil(t, f.Tensor("c"))
}

// TestLoadOtherLayout reads a file laid out as another writer might: the
// metadata last, after spaces, no padding, header keys in another order
// than the data, other dtypes, an empty tensor.
func TestLoadOtherLayout(t *testing.T) {
	data := []byte{7, 8, 9, 0x01, 0x00, 0xff, 0xff}
	hdr := `{"z":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},` +
		`"e":{"dtype":"F32","shape":[0,5],"data_offsets":[3,3]},` +
		`"a":{"dtype":"I16","shape":[1,2],"data_offsets":[3,7]},` +
		`"__metadata__" :  { ` + sealMark + `,"crc32c":"` + tensorSums(data[:3], nil, data[3:]) + `"}}`
	f, err := Parse("foreign", sealed(hdr, data))
	require.NoError(t, err)
	require.Nil(t, f.Metadata)
	var names []string
	for _, tn := range f.Tensors {
		names = append(names, tn.Name)
	}
	require.Equal(t, []string{"z", "e", "a"}, names, "tensors are listed in data order")
	require.Equal(t, []byte{7, 8, 9}, f.Tensor("z").Data)
	require.Equal(t, []byte{1, 0, 0xff, 0xff}, f.Tensor("a").Data)
	require.Empty(t, f.Tensor("e").Data)
	_, err = f.Tensor("a").Float32s()
	require.EqualError(t, err, "tensor a: dtype I16, want F32")
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	params := []runtime.Param{
		{Name: "h1/W", Shape: []int{3, 5}, Data: make([]float32, 15)},
		{Name: "h1/b", Shape: []int{5}, Data: make([]float32, 5)},
		{Name: "optimizer/step", Shape: []int{}, Data: []float32{42}},
		{Name: `odd "name" <&>`, Shape: []int{2, 1, 2}, Data: []float32{float32(math.Inf(1)), float32(math.NaN()), -0.0, math.SmallestNonzeroFloat32}},
		{Name: "empty", Shape: []int{0, 3}, Data: nil},
	}
	for i := range params[0].Data {
		params[0].Data[i] = float32(i)*0.37 - 2
	}
	for i := range params[1].Data {
		params[1].Data[i] = -float32(i) / 3
	}
	meta := map[string]string{"model": "MLP", "steps": "100", "note": "ünïcode \"quoted\""}
	require.NoError(t, Save(path, params, meta))

	// Restore into fresh storage: bit-identical values.
	fresh := make([]runtime.Param, len(params))
	for i, p := range params {
		fresh[i] = runtime.Param{Name: p.Name, Shape: p.Shape, Data: make([]float32, len(p.Data))}
	}
	require.NoError(t, Restore(path, fresh))
	for i := range params {
		require.Equal(t, len(params[i].Data), len(fresh[i].Data))
		for j := range params[i].Data {
			require.Equal(t, math.Float32bits(params[i].Data[j]), math.Float32bits(fresh[i].Data[j]), "%s[%d]", params[i].Name, j)
		}
	}
	f, err := Load(path)
	require.NoError(t, err)
	require.Equal(t, meta, f.Metadata)

	// The header is plain JSON any reader can parse.
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	n := binary.LittleEndian.Uint64(raw)
	require.Zero(t, (8+n)%8, "data is 8-byte aligned")
	var hdr map[string]any
	require.NoError(t, json.Unmarshal(raw[8:8+n], &hdr))
	require.Contains(t, hdr, `odd "name" <&>`)
	require.Contains(t, string(raw[8:8+n]), `<&>`, "names are not HTML-escaped")

	// Saving again replaces the file and leaves no temporary files.
	params[2].Data[0] = 43
	require.NoError(t, Save(path, params, nil))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	f, err = Load(path)
	require.NoError(t, err)
	require.Nil(t, f.Metadata)
	step, err := f.Tensor("optimizer/step").Float32s()
	require.NoError(t, err)
	require.Equal(t, []float32{43}, step)
}

func TestSaveDeterministic(t *testing.T) {
	dir := t.TempDir()
	meta := map[string]string{"b": "2", "a": "1", "c": "3"}
	var files [][]byte
	for _, name := range []string{"x.safetensors", "y.safetensors"} {
		path := filepath.Join(dir, name)
		require.NoError(t, Save(path, tinyParams(), meta))
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		files = append(files, b)
	}
	require.Equal(t, files[0], files[1])
	require.Contains(t, string(files[0]), `{"__metadata__":{"a":"1","b":"2","c":"3","crc32c":"9eba690a,26973e52","crc32c_header":"0a0f9143"},"W":`)
}

func TestSaveErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	tests := []struct {
		name   string
		params []runtime.Param
		want   string
	}{
		{"duplicate", []runtime.Param{{Name: "W", Shape: []int{1}, Data: []float32{1}}, {Name: "W", Shape: []int{1}, Data: []float32{1}}},
			path + ": two parameters are named W"},
		{"reserved", []runtime.Param{{Name: "__metadata__", Shape: []int{}, Data: []float32{1}}},
			path + `: a parameter is named "__metadata__", which safetensors reserves`},
		{"empty name", []runtime.Param{{Name: "", Shape: []int{}, Data: []float32{1}}},
			path + ": a parameter has an empty name"},
		{"size", []runtime.Param{{Name: "W", Shape: []int{2, 3}, Data: []float32{1}}},
			path + ": parameter W: shape [2 3] has 6 elements but it holds 1 values"},
		{"negative", []runtime.Param{{Name: "W", Shape: []int{-1}, Data: nil}},
			path + ": parameter W: negative dimension in shape [-1]"},
		// 2^32 × 2^32 wraps around to 0 in an int64: it must not match
		// an empty Data.
		{"overflow", []runtime.Param{{Name: "W", Shape: []int{1 << 32, 1 << 32}, Data: nil}},
			path + ": parameter W: shape [4294967296 4294967296] has more elements than an int holds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.EqualError(t, Save(path, tt.params, nil), tt.want)
			_, err := os.Stat(path)
			require.True(t, os.IsNotExist(err), "nothing is written")
		})
	}
	err := Save(filepath.Join(dir, "missing", "m.safetensors"), tinyParams(), nil)
	require.Error(t, err)
	require.Contains(t, err.Error(), "saving "+filepath.Join(dir, "missing", "m.safetensors"))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries)
}

// build assembles a safetensors file from a header and a data section.
func build(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

func TestLoadErrors(t *testing.T) {
	good := tinyFile()
	four := []byte{0, 0, 0x80, 0x3f}
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "f: truncated: 0 bytes, shorter than the 8-byte header length; not a safetensors file"},
		{"short length", []byte{1, 2, 3}, "f: truncated: 3 bytes, shorter than the 8-byte header length; not a safetensors file"},
		{"huge header", binary.LittleEndian.AppendUint64(nil, 1<<40), "f: header length 1099511627776 exceeds the limit of 104857600 bytes; not a safetensors file, or corrupt"},
		{"max header", binary.LittleEndian.AppendUint64(nil, math.MaxUint64), "f: header length 18446744073709551615 exceeds the limit of 104857600 bytes; not a safetensors file, or corrupt"},
		{"tiny header", build("{", nil), "f: header length 1 is too small for a JSON object; not a safetensors file"},
		{"truncated header", good[:100], "f: truncated: the header is 144 bytes but only 92 bytes follow the header length"},
		{"truncated data", good[:len(good)-3], "f: tensor b: data_offsets [16, 20] reach past the end of the data (17 bytes): the file is truncated or corrupt"},
		{"trailing garbage", append(tinyFile(), 1, 2, 3), "f: 3 bytes of trailing data after the last tensor"},
		{"not json", build("{nope", nil), "f: the header is not valid JSON: invalid character 'n' looking for beginning of object key string (at byte 2 of the header)"},
		{"not an object", build("[1,2]", nil), "f: the header does not start with '{'; not a safetensors file"},
		{"bad utf8", build("{\"\xff\":1}", nil), "f: the header is not valid UTF-8"},
		{"data after json", build(`{} {}`, nil), "f: the header is not valid JSON: invalid character '{' after top-level value (at byte 4 of the header)"},
		{"unterminated", build(`{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]}`, four), "f: the header is not valid JSON: unexpected end of JSON input (at byte 52 of the header)"},
		{"duplicate", build(`{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[],"data_offsets":[4,8]}}`, append(four, four...)),
			`f: the header names "a" twice`},
		{"unknown dtype", build(`{"a":{"dtype":"F33","shape":[],"data_offsets":[0,4]}}`, four), `f: tensor a: unknown dtype "F33"`},
		{"no dtype", build(`{"a":{"shape":[],"data_offsets":[0,4]}}`, four), "f: tensor a: no dtype"},
		{"no shape", build(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, four), "f: tensor a: no shape"},
		{"no offsets", build(`{"a":{"dtype":"F32","shape":[]}}`, four), "f: tensor a: no data_offsets"},
		{"entry not object", build(`{"a":3}`, nil), "f: tensor a: invalid header entry: json: cannot unmarshal number into Go value of type checkpoint.tensorInfo"},
		{"dtype not string", build(`{"a":{"dtype":4,"shape":[],"data_offsets":[0,4]}}`, four), "f: tensor a: invalid header entry: json: cannot unmarshal number into Go struct field tensorInfo.dtype of type string"},
		{"negative dim", build(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, four), "f: tensor a: shape dimension 0 is -1, want a non-negative integer"},
		{"fractional dim", build(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, four), "f: tensor a: shape dimension 0 is 1.5, want a non-negative integer"},
		{"overflowing shape", build(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}`, four),
			"f: tensor a: shape [4294967296 4294967296] of F32 needs more than 2^63 bytes, but data_offsets [0, 4] hold 4"},
		{"shape mismatch", build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, four), "f: tensor a: shape [2] of F32 needs 8 bytes, but data_offsets [0, 4] hold 4"},
		{"one offset", build(`{"a":{"dtype":"F32","shape":[],"data_offsets":[4]}}`, four), "f: tensor a: data_offsets has 1 entries, want [begin, end]"},
		{"negative offset", build(`{"a":{"dtype":"F32","shape":[],"data_offsets":[-4,0]}}`, four), "f: tensor a: data_offsets entry -4 is not a non-negative integer"},
		{"reversed offsets", build(`{"a":{"dtype":"F32","shape":[],"data_offsets":[4,0]}}`, four), "f: tensor a: data_offsets [4, 0] end before they begin"},
		{"out of range", build(`{"a":{"dtype":"F32","shape":[],"data_offsets":[1000000,1000004]}}`, four),
			"f: tensor a: data_offsets [1000000, 1000004] reach past the end of the data (4 bytes): the file is truncated or corrupt"},
		{"overlap", build(`{"a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},"b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}`, four),
			"f: tensors a and b overlap: data_offsets [0, 3] and [2, 4]"},
		{"hole", build(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}`, four),
			"f: bytes 1 to 2 of the data belong to no tensor (before tensor b)"},
		{"bad metadata", build(`{"__metadata__":{"a":1}}`, nil), "f: __metadata__ must map strings to strings: json: cannot unmarshal number into Go value of type string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("f", tt.file)
			require.EqualError(t, err, tt.want)
		})
	}
}

func TestLoadFromDisk(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(filepath.Join(dir, "none.safetensors"))
	require.ErrorIs(t, err, os.ErrNotExist)
	_, err = Load(dir)
	require.EqualError(t, err, dir+": not a regular file")

	path := filepath.Join(dir, "cut.safetensors")
	require.NoError(t, os.WriteFile(path, tinyFile()[:152], 0o644))
	_, err = Load(path)
	require.EqualError(t, err, path+": tensor W: data_offsets [0, 16] reach past the end of the data (0 bytes): the file is truncated or corrupt")
}

func TestRestoreErrors(t *testing.T) {
	f, err := Parse("ckpt.safetensors", tinySaved())
	require.NoError(t, err)
	zeros := make([]byte, 8)
	u8, err := Parse("u8.safetensors", sealed(`{"__metadata__":{"crc32c":"`+tensorSums(zeros[:4], zeros[4:])+`",`+sealMark+`},"W":{"dtype":"U8","shape":[2,2],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[],"data_offsets":[4,8]}}`, zeros))
	require.NoError(t, err)
	tests := []struct {
		name   string
		file   *File
		params []runtime.Param
		want   string
	}{
		{"shape", f, []runtime.Param{{Name: "W", Shape: []int{2, 3}, Data: make([]float32, 6)}, {Name: "b", Shape: []int{}, Data: make([]float32, 1)}},
			"ckpt.safetensors: tensor W: shape [2 2] in file, model wants [2 3]"},
		{"rank", f, []runtime.Param{{Name: "W", Shape: []int{4}, Data: make([]float32, 4)}, {Name: "b", Shape: []int{}, Data: make([]float32, 1)}},
			"ckpt.safetensors: tensor W: shape [2 2] in file, model wants [4]"},
		{"dtype", u8, []runtime.Param{{Name: "W", Shape: []int{2, 2}, Data: make([]float32, 4)}, {Name: "b", Shape: []int{}, Data: make([]float32, 1)}},
			"u8.safetensors: tensor W: dtype U8 in file, model wants F32"},
		{"missing", f, []runtime.Param{{Name: "W", Shape: []int{2, 2}, Data: make([]float32, 4)}, {Name: "b", Shape: []int{}, Data: make([]float32, 1)}, {Name: "h1/W", Shape: []int{1}, Data: make([]float32, 1)}},
			"ckpt.safetensors: the model's tensor h1/W is not in the file"},
		{"missing many", f, []runtime.Param{{Name: "a"}, {Name: "c"}, {Name: "d"}, {Name: "e"}, {Name: "g"}, {Name: "h"}, {Name: "i"}},
			"ckpt.safetensors: the model's tensors a, c, d, e, g and 2 more are not in the file"},
		{"extra", f, []runtime.Param{{Name: "W", Shape: []int{2, 2}, Data: make([]float32, 4)}},
			"ckpt.safetensors: tensor b in the file is not a parameter of the model"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.EqualError(t, tt.file.Restore(tt.params), tt.want)
			for _, p := range tt.params {
				for _, v := range p.Data {
					require.Zero(t, v, "a failed restore changes no param")
				}
			}
		})
	}
}

func TestNameList(t *testing.T) {
	require.Equal(t, "a, b", nameList([]string{"a", "b"}))
	require.Equal(t, "a, b, c, d, e", nameList([]string{"a", "b", "c", "d", "e"}))
}

func FuzzLoad(f *testing.F) {
	f.Add(tinyFile())
	f.Add(tinySaved())
	f.Add(build(`{"z":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},"e":{"dtype":"F32","shape":[0,5],"data_offsets":[3,3]}}`, []byte{1, 2, 3}))
	f.Add(build(`{"__metadata__":{"a":"b"}}`, nil))
	f.Add(build(`{"a":{"dtype":"BF16","shape":[1,1],"data_offsets":[0,2]}}`, []byte{1, 2}))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz", data)
		if err != nil {
			require.True(t, strings.HasPrefix(err.Error(), "fuzz: "), err.Error())
			return
		}
		// A file that loads covers its data exactly with well-formed tensors,
		// and survives a round trip through Save when it is all F32.
		var covered int
		allF32 := true
		var params []runtime.Param
		for _, tn := range file.Tensors {
			n := tn.DType.Size()
			for _, d := range tn.Shape {
				n *= d
			}
			require.Equal(t, n, len(tn.Data), tn.Name)
			covered += len(tn.Data)
			if tn.DType != F32 {
				allF32 = false
				continue
			}
			vals, err := tn.Float32s()
			require.NoError(t, err)
			params = append(params, runtime.Param{Name: tn.Name, Shape: tn.Shape, Data: vals})
		}
		hdrLen := binary.LittleEndian.Uint64(data)
		require.Equal(t, len(data)-8-int(hdrLen), covered)
		if !allF32 || len(params) == 0 {
			return
		}
		var buf bytes.Buffer
		if err := Encode(&buf, params, file.Metadata); err != nil {
			return // e.g. a name Save refuses, such as ""
		}
		again, err := Parse("again", buf.Bytes())
		require.NoError(t, err)
		require.Len(t, again.Tensors, len(params))
		fresh := make([]runtime.Param, len(params))
		for i, p := range params {
			fresh[i] = runtime.Param{Name: p.Name, Shape: p.Shape, Data: make([]float32, len(p.Data))}
		}
		require.NoError(t, again.Restore(fresh))
		for i := range params {
			for j := range params[i].Data {
				require.Equal(t, math.Float32bits(params[i].Data[j]), math.Float32bits(fresh[i].Data[j]))
			}
		}
	})
}
