// Package checkpoint saves and restores a model's named parameters in the
// safetensors format, so that a trained binary can predict with its trained
// parameters and other tools (Python's safetensors, PyTorch, JAX) can read
// them.
//
// A safetensors file is
//
//	8 bytes   N, the header length, an unsigned little-endian integer
//	N bytes   the header: a UTF-8 JSON object, padded with spaces
//	rest      the data: every tensor's raw little-endian bytes
//
// The header maps each tensor's name to {"dtype": "F32", "shape": [...],
// "data_offsets": [begin, end]}, offsets relative to the start of the data,
// and may hold "__metadata__", a map of strings to strings. The tensors
// must cover the data exactly: no overlaps, no holes, nothing after the
// last one.
//
// Save writes a file atomically (a temporary file in the same directory,
// synced, then renamed over the target, then the directory synced), so a
// crash leaves either the old file or the new one. Load checks everything
// it reads: a truncated, corrupted or hostile file gets an error naming the
// file and, where it applies, the tensor, never a panic, and the header
// length is bounded so a file cannot make Load allocate more than its own
// size plus a bounded header.
//
// Save also records checksums in the metadata, where other tools see two
// ordinary entries: the CRC-32C of every tensor's data (key "crc32c", see
// ChecksumKey) and the CRC-32C of the file's first 8+N bytes, the header
// length and the header, read with that checksum's own 8 hex digits as
// zeros (key "crc32c_header", see HeaderChecksumKey). Load verifies both
// and refuses a file that lacks either, so that no changed byte, in the
// data or in the header (a name, a shape, a metadata value such as the
// training state, a checksum itself), goes unnoticed; corrupted data is
// reported with the tensor it hit.
//
// The files of a training run live in one directory as ckpt-<step>.safetensors
// (see FileName, List, Latest and Prune).
package checkpoint

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/flow-lang/flow/runtime"
)

// Ext is the file name extension of checkpoints.
const Ext = ".safetensors"

// MaxHeader is the largest header Load accepts, in bytes (the limit of the
// reference implementation).
const MaxHeader = 100 << 20

// metadataKey is the header entry that holds the metadata.
const metadataKey = "__metadata__"

// ChecksumKey is the metadata entry holding the tensors' CRC-32C
// checksums: 8 hex digits per tensor, comma-separated, in the order of the
// tensors' data (e.g. "1a2b3c4d,00ff00ff"; empty for a file without
// tensors). Save writes it; Load requires it, verifies it and removes it
// from File.Metadata.
const ChecksumKey = "crc32c"

// HeaderChecksumKey is the metadata entry holding the CRC-32C checksum of
// the file's first 8+N bytes (the header length and the N bytes of the
// header, padding included) as 8 lowercase hex digits, computed with those
// 8 digits written as "00000000". It covers every byte before the data,
// the tensor checksums included. Save writes it; Load requires it,
// verifies it and removes it from File.Metadata.
const HeaderChecksumKey = "crc32c_header"

// castagnoli is the CRC-32C table.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// DType is a safetensors element type, e.g. "F32".
type DType string

// The element types of the safetensors format.
const (
	F64    DType = "F64"
	F32    DType = "F32"
	F16    DType = "F16"
	BF16   DType = "BF16"
	F8E4M3 DType = "F8_E4M3"
	F8E5M2 DType = "F8_E5M2"
	I64    DType = "I64"
	I32    DType = "I32"
	I16    DType = "I16"
	I8     DType = "I8"
	U64    DType = "U64"
	U32    DType = "U32"
	U16    DType = "U16"
	U8     DType = "U8"
	Bool   DType = "BOOL"
)

// dtypeSizes maps each known dtype to its size in bytes.
var dtypeSizes = map[DType]int{
	F64: 8, F32: 4, F16: 2, BF16: 2, F8E4M3: 1, F8E5M2: 1,
	I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, Bool: 1,
}

// Size returns the size of one element in bytes, or 0 for an unknown dtype.
func (d DType) Size() int { return dtypeSizes[d] }

// Tensor is one tensor of a loaded file.
type Tensor struct {
	// Name is the tensor's name, e.g. "h1/W".
	Name string
	// DType is its element type.
	DType DType
	// Shape is its shape; a scalar has an empty shape.
	Shape []int
	// Data holds its elements as raw little-endian bytes, row-major.
	Data []byte
}

// Float32s decodes an F32 tensor's elements.
func (t *Tensor) Float32s() ([]float32, error) {
	if t.DType != F32 {
		return nil, fmt.Errorf("tensor %s: dtype %s, want F32", t.Name, t.DType)
	}
	out := make([]float32, len(t.Data)/4)
	decodeF32(out, t.Data)
	return out, nil
}

// File is a loaded safetensors file.
type File struct {
	// Path is the file's name as given to Load, used in errors.
	Path string
	// Metadata is the header's "__metadata__" map; nil if it has none.
	Metadata map[string]string
	// Tensors lists the tensors in the order of their data.
	Tensors []*Tensor
}

// Tensor returns the tensor called name, or nil.
func (f *File) Tensor(name string) *Tensor {
	for _, t := range f.Tensors {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Save writes params as F32 tensors, in the order given, with metadata,
// to the safetensors file path. It replaces any file already there
// atomically: readers see the old file or the new one, never a mix, even
// if the process dies while saving.
func Save(path string, params []runtime.Param, metadata map[string]string) error {
	// Check the arguments first, so that a bad one leaves no temporary
	// file and reads as such.
	if err := checkArgs(params, metadata); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return writeAtomic(path, func(w io.Writer) error { return Encode(w, params, metadata) })
}

// Encode writes params and metadata to w in the safetensors format: the
// bytes Save puts in its file. Names must be distinct, non-empty and not
// "__metadata__", and each param must hold exactly as many values as its
// shape has elements.
func Encode(w io.Writer, params []runtime.Param, metadata map[string]string) error {
	if err := checkArgs(params, metadata); err != nil {
		return err
	}
	sums := make([]string, len(params))
	for i, p := range params {
		var sum uint32
		eachChunk(p.Data, func(b []byte) { sum = crc32.Update(sum, castagnoli, b) })
		sums[i] = fmt.Sprintf("%08x", sum)
	}
	all := make(map[string]string, len(metadata)+2)
	for k, v := range metadata {
		all[k] = v
	}
	all[ChecksumKey] = strings.Join(sums, ",")
	all[HeaderChecksumKey] = zeroSum // filled in below, once the header is complete
	metadata = all
	digitsAt := -1 // where the header checksum's digits are in h
	var h bytes.Buffer
	h.WriteByte('{')
	first := true
	sep := func() {
		if !first {
			h.WriteByte(',')
		}
		first = false
	}
	sep()
	h.WriteString(`"` + metadataKey + `":{`)
	keys := make([]string, 0, len(metadata))
	for k := range metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i > 0 {
			h.WriteByte(',')
		}
		writeJSONString(&h, k)
		h.WriteByte(':')
		if k == HeaderChecksumKey {
			digitsAt = h.Len() + 1 // after the opening quote
		}
		writeJSONString(&h, metadata[k])
	}
	h.WriteByte('}')
	var offset int64
	for _, p := range params {
		n := len(p.Data)
		sep()
		writeJSONString(&h, p.Name)
		h.WriteString(`:{"dtype":"F32","shape":[`)
		for i, d := range p.Shape {
			if i > 0 {
				h.WriteByte(',')
			}
			h.WriteString(strconv.Itoa(d))
		}
		end := offset + 4*int64(n)
		fmt.Fprintf(&h, `],"data_offsets":[%d,%d]}`, offset, end)
		offset = end
	}
	h.WriteByte('}')
	// Pad with spaces so the data starts 8-byte aligned, as the reference
	// implementation does.
	for (8+h.Len())%8 != 0 {
		h.WriteByte(' ')
	}
	if h.Len() > MaxHeader {
		return fmt.Errorf("the header would be %d bytes, more than the limit of %d", h.Len(), MaxHeader)
	}
	hdr := h.Bytes()
	copy(hdr[digitsAt:], fmt.Sprintf("%08x", headerSum(hdr, digitsAt)))
	bw := bufio.NewWriterSize(w, 1<<16)
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(hdr)))
	bw.Write(lenBuf[:])
	bw.Write(hdr)
	for _, p := range params {
		eachChunk(p.Data, func(b []byte) { bw.Write(b) })
	}
	return bw.Flush()
}

// checkArgs checks that params and metadata can be saved.
func checkArgs(params []runtime.Param, metadata map[string]string) error {
	for _, k := range []string{ChecksumKey, HeaderChecksumKey} {
		if _, ok := metadata[k]; ok {
			return fmt.Errorf("the metadata key %q is reserved for the checksums", k)
		}
	}
	return checkParams(params)
}

// checkParams checks that params can be saved: distinct, non-empty, valid
// names other than "__metadata__", and data matching the shapes.
func checkParams(params []runtime.Param) error {
	seen := make(map[string]bool, len(params))
	for _, p := range params {
		switch {
		case p.Name == "":
			return errors.New("a parameter has an empty name")
		case p.Name == metadataKey:
			return fmt.Errorf("a parameter is named %q, which safetensors reserves", metadataKey)
		case !utf8.ValidString(p.Name):
			return fmt.Errorf("parameter name %q is not valid UTF-8", p.Name)
		case seen[p.Name]:
			return fmt.Errorf("two parameters are named %s", p.Name)
		}
		seen[p.Name] = true
		// Count the shape's elements with checked arithmetic: a product
		// that wraps around could match the values' count by accident.
		n, overflow := 1, false
		for _, d := range p.Shape {
			if d < 0 {
				return fmt.Errorf("parameter %s: negative dimension in shape %v", p.Name, p.Shape)
			}
			hi, lo := bits.Mul64(uint64(n), uint64(d))
			overflow = overflow || hi != 0 || lo > math.MaxInt
			n = int(lo)
		}
		if overflow && !slices.Contains(p.Shape, 0) {
			return fmt.Errorf("parameter %s: shape %v has more elements than an int holds", p.Name, p.Shape)
		}
		if n != len(p.Data) {
			return fmt.Errorf("parameter %s: shape %v has %d elements but it holds %d values", p.Name, p.Shape, n, len(p.Data))
		}
	}
	return nil
}

// eachChunk calls fn with data's little-endian bytes, a few KiB at a time;
// the slice is reused between calls.
func eachChunk(data []float32, fn func([]byte)) {
	var chunk [4096]byte
	for len(data) > 0 {
		k := min(len(data), len(chunk)/4)
		for i, v := range data[:k] {
			binary.LittleEndian.PutUint32(chunk[4*i:], math.Float32bits(v))
		}
		fn(chunk[:4*k])
		data = data[k:]
	}
}

// writeJSONString writes s as a JSON string without HTML escaping.
func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)           // cannot fail for a string
	b.Truncate(b.Len() - 1) // Encode appends a newline
}

// tmpInfix separates the target's name from the random suffix in the
// name of writeAtomic's temporary file, ".<name>.tmp-<16 hex digits>".
const tmpInfix = ".tmp-"

// writeAtomic replaces path with what write writes: temporary file in
// the same directory, write, fsync, close, rename, fsync of the directory.
func writeAtomic(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	var f *os.File
	var tmp string
	for range 100 {
		tmp = filepath.Join(dir, fmt.Sprintf(".%s%s%016x", filepath.Base(path), tmpInfix, rand.Uint64()))
		f, err = os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if !errors.Is(err, os.ErrExist) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("saving %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			err = fmt.Errorf("saving %s: %w", path, err)
		}
	}()
	if err = write(f); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Load reads and checks the safetensors file path. Every error names the
// file, and the tensor where one is at fault.
func Load(path string) (*File, error) {
	// Check the type before opening: opening a named pipe would block
	// until something writes to it.
	if st, err := os.Stat(path); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	return read(f, st.Size(), path)
}

// Parse checks and decodes a safetensors file held in data; name is used
// in errors. The returned tensors' Data alias data.
func Parse(name string, data []byte) (*File, error) {
	return read(bytes.NewReader(data), int64(len(data)), name)
}

// read decodes a safetensors file of size bytes from r. It allocates at
// most the header length (bounded by MaxHeader and the file size) plus the
// size of the data section.
func read(r io.ReaderAt, size int64, name string) (*File, error) {
	fail := func(format string, a ...any) error {
		return fmt.Errorf("%s: %s", name, fmt.Sprintf(format, a...))
	}
	if size < 8 {
		return nil, fail("truncated: %d bytes, shorter than the 8-byte header length; not a safetensors file", size)
	}
	var lenBuf [8]byte
	if _, err := r.ReadAt(lenBuf[:], 0); err != nil {
		return nil, fail("%v", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	switch {
	case n < 2:
		return nil, fail("header length %d is too small for a JSON object; not a safetensors file", n)
	case n > MaxHeader:
		return nil, fail("header length %d exceeds the limit of %d bytes; not a safetensors file, or corrupt", n, MaxHeader)
	case n > uint64(size-8):
		return nil, fail("truncated: the header is %d bytes but only %d bytes follow the header length", n, size-8)
	}
	header := make([]byte, n)
	if _, err := r.ReadAt(header, 8); err != nil {
		return nil, fail("reading the header: %v", err)
	}
	dataLen := size - 8 - int64(n)
	file, err := parseHeader(header, dataLen, name)
	if err != nil {
		return nil, err
	}
	if file.sumAt < 0 {
		return nil, fail("the header has no checksum (metadata %s): the file was not saved by flow, or its header is damaged; a checkpoint that cannot be verified is not loaded", HeaderChecksumKey)
	}
	data := make([]byte, dataLen)
	if _, err := r.ReadAt(data, 8+int64(n)); err != nil && !(errors.Is(err, io.EOF) && dataLen == 0) {
		return nil, fail("reading the data: %v", err)
	}
	for _, t := range file.Tensors {
		t.Data = data[t.begin:t.end:t.end]
	}
	if err := verifyChecksums(file, name); err != nil {
		return nil, err
	}
	out := &File{Path: name, Metadata: file.Metadata}
	for _, t := range file.Tensors {
		out.Tensors = append(out.Tensors, &t.Tensor)
	}
	return out, nil
}

// verifyChecksums checks the tensors' data against the checksums in the
// metadata, which must be there (the header's checksum, already verified,
// covers them), and removes both checksum entries from the metadata.
func verifyChecksums(h *header, name string) error {
	js, ok := h.Metadata[ChecksumKey]
	if !ok {
		return fmt.Errorf("%s: the tensors have no checksums (metadata %s): the file was not saved by flow; a checkpoint that cannot be verified is not loaded", name, ChecksumKey)
	}
	var sums []string
	if js != "" {
		sums = strings.Split(js, ",")
	}
	if len(sums) != len(h.Tensors) {
		return fmt.Errorf("%s: metadata %s holds %d checksums for %d tensors: the header is corrupted", name, ChecksumKey, len(sums), len(h.Tensors))
	}
	for i, t := range h.Tensors { // in the order of their data
		want, err := strconv.ParseUint(sums[i], 16, 32)
		if err != nil || len(sums[i]) != 8 {
			return fmt.Errorf("%s: tensor %s: checksum %q in metadata %s is not 8 hex digits", name, t.Name, sums[i], ChecksumKey)
		}
		if got := crc32.Checksum(t.Data, castagnoli); got != uint32(want) {
			return fmt.Errorf("%s: tensor %s: the data is corrupted (its CRC-32C is %08x, the header says %08x)", name, t.Name, got, want)
		}
	}
	delete(h.Metadata, ChecksumKey)
	delete(h.Metadata, HeaderChecksumKey)
	if len(h.Metadata) == 0 {
		h.Metadata = nil
	}
	return nil
}

// entry is a tensor with its data offsets, while loading.
type entry struct {
	Tensor
	begin, end int64
}

// header is a parsed header.
type header struct {
	Metadata map[string]string
	Tensors  []*entry // sorted by offset
	// sumAt is the offset in the header of the digits of its checksum
	// (metadata HeaderChecksumKey), -1 if it has none.
	sumAt int
}

// tensorInfo is a tensor's header entry as written.
type tensorInfo struct {
	DType       *string        `json:"dtype"`
	Shape       *[]json.Number `json:"shape"`
	DataOffsets *[]json.Number `json:"data_offsets"`
}

// parseHeader decodes and checks a header for a data section of dataLen
// bytes. When the header holds its checksum (metadata HeaderChecksumKey),
// parseHeader verifies it before it checks the tensors' entries, so that a
// damaged header reads as such.
func parseHeader(raw []byte, dataLen int64, name string) (*header, error) {
	fail := func(format string, a ...any) error {
		return fmt.Errorf("%s: %s", name, fmt.Sprintf(format, a...))
	}
	if !utf8.Valid(raw) {
		return nil, fail("the header is not valid UTF-8")
	}
	if raw[0] != '{' {
		return nil, fail("the header does not start with '{'; not a safetensors file")
	}
	bad := func(err error) error { return fail("the header is not valid JSON: %v", err) }
	// Validate the whole header first for a precise syntax error; decoding
	// into an empty struct allocates nothing per entry.
	var whole struct{}
	if err := json.Unmarshal(raw, &whole); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fail("the header is not valid JSON: %v (at byte %d of the header)", err, se.Offset)
		}
		return nil, bad(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // the '{' checked above
		return nil, bad(err)
	}
	h := &header{sumAt: -1}
	seen := map[string]bool{}
	type rawEntry struct {
		name string
		raw  json.RawMessage
	}
	var entries []rawEntry
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, bad(err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, bad(fmt.Errorf("unexpected %v", tok))
		}
		if seen[key] {
			return nil, fail("the header names %q twice", key)
		}
		seen[key] = true
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, bad(err)
		}
		if key != metadataKey {
			entries = append(entries, rawEntry{key, val})
			continue
		}
		if err := json.Unmarshal(val, &h.Metadata); err != nil {
			return nil, fail("%s must map strings to strings: %v", metadataKey, err)
		}
		at, err := sumDigits(val)
		if err != nil {
			return nil, fail("%v", err)
		}
		if at >= 0 {
			// The value ends where the decoder stands.
			h.sumAt = int(dec.InputOffset()) - len(val) + at
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, bad(fmt.Errorf("unterminated object"))
	}
	if h.sumAt >= 0 {
		if err := verifyHeaderSum(raw, h.sumAt); err != nil {
			return nil, fail("%v", err)
		}
	}
	for _, re := range entries {
		e, err := parseTensor(re.name, re.raw, dataLen)
		if err != nil {
			return nil, fail("%v", err)
		}
		h.Tensors = append(h.Tensors, e)
	}

	// The tensors must cover the data section exactly.
	slices.SortStableFunc(h.Tensors, func(a, b *entry) int {
		if a.begin != b.begin {
			return cmpInt64(a.begin, b.begin)
		}
		return cmpInt64(a.end, b.end)
	})
	var pos int64
	var prev *entry
	for _, e := range h.Tensors {
		switch {
		case e.begin < pos:
			return nil, fail("tensors %s and %s overlap: data_offsets [%d, %d] and [%d, %d]",
				prev.Name, e.Name, prev.begin, prev.end, e.begin, e.end)
		case e.begin > pos:
			return nil, fail("bytes %d to %d of the data belong to no tensor (before tensor %s)", pos, e.begin, e.Name)
		}
		pos = e.end
		if e.end > e.begin {
			prev = e
		}
	}
	if pos < dataLen {
		return nil, fail("%d bytes of trailing data after the last tensor", dataLen-pos)
	}
	return h, nil
}

// parseTensor checks one tensor's header entry.
func parseTensor(name string, raw json.RawMessage, dataLen int64) (*entry, error) {
	fail := func(format string, a ...any) (*entry, error) {
		return nil, fmt.Errorf("tensor %s: %s", name, fmt.Sprintf(format, a...))
	}
	var info tensorInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		return fail("invalid header entry: %v", err)
	}
	switch {
	case info.DType == nil:
		return fail("no dtype")
	case info.Shape == nil:
		return fail("no shape")
	case info.DataOffsets == nil:
		return fail("no data_offsets")
	}
	dt := DType(*info.DType)
	size := dt.Size()
	if size == 0 {
		return fail("unknown dtype %q", *info.DType)
	}
	shape := make([]int, len(*info.Shape))
	for i, d := range *info.Shape {
		v, err := strconv.ParseInt(string(d), 10, strconv.IntSize)
		if err != nil || v < 0 {
			return fail("shape dimension %d is %s, want a non-negative integer", i, d)
		}
		shape[i] = int(v)
	}
	// elems counts the elements; a zero dimension makes the tensor empty
	// whatever the other sizes are.
	elems, overflow := int64(1), false
	if slices.Contains(shape, 0) {
		elems = 0
	} else {
		for _, d := range shape {
			if elems > math.MaxInt64/int64(d) {
				overflow = true
				break
			}
			elems *= int64(d)
		}
	}
	if len(*info.DataOffsets) != 2 {
		return fail("data_offsets has %d entries, want [begin, end]", len(*info.DataOffsets))
	}
	var off [2]int64
	for i, o := range *info.DataOffsets {
		v, err := strconv.ParseInt(string(o), 10, 64)
		if err != nil || v < 0 {
			return fail("data_offsets entry %s is not a non-negative integer", o)
		}
		off[i] = v
	}
	begin, end := off[0], off[1]
	switch {
	case end < begin:
		return fail("data_offsets [%d, %d] end before they begin", begin, end)
	case end > dataLen:
		return fail("data_offsets [%d, %d] reach past the end of the data (%d bytes): the file is truncated or corrupt", begin, end, dataLen)
	case overflow || elems > math.MaxInt64/int64(size) || elems*int64(size) != end-begin:
		return fail("shape %v of %s needs %s bytes, but data_offsets [%d, %d] hold %d",
			shape, dt, byteCount(elems, size, overflow), begin, end, end-begin)
	}
	return &entry{Tensor: Tensor{Name: name, DType: dt, Shape: shape}, begin: begin, end: end}, nil
}

// byteCount renders elems*size for an error message.
func byteCount(elems int64, size int, overflow bool) string {
	if overflow || elems > math.MaxInt64/int64(size) {
		return "more than 2^63"
	}
	return strconv.FormatInt(elems*int64(size), 10)
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Restore loads the safetensors file path into params: each param must
// have a tensor of the same name with dtype F32 and the same shape, and the
// file must hold no other tensors. On an error no param is changed.
func Restore(path string, params []runtime.Param) error {
	f, err := Load(path)
	if err != nil {
		return err
	}
	return f.Restore(params)
}

// Restore copies the file's tensors into params, after checking that the
// two match exactly (names, dtypes and shapes); on an error no param is
// changed. Errors read like
// "ckpt.safetensors: tensor h1/W: shape [784 512] in file, model wants [784 256]".
func (f *File) Restore(params []runtime.Param) error {
	byName := make(map[string]*Tensor, len(f.Tensors))
	for _, t := range f.Tensors {
		byName[t.Name] = t
	}
	wanted := make(map[string]bool, len(params))
	var missing []string
	for _, p := range params {
		wanted[p.Name] = true
		t := byName[p.Name]
		if t == nil {
			missing = append(missing, p.Name)
			continue
		}
		if t.DType != F32 {
			return fmt.Errorf("%s: tensor %s: dtype %s in file, model wants F32", f.Path, p.Name, t.DType)
		}
		if !slices.Equal(t.Shape, p.Shape) {
			return fmt.Errorf("%s: tensor %s: shape %v in file, model wants %v", f.Path, p.Name, t.Shape, p.Shape)
		}
		if len(t.Data) != 4*len(p.Data) {
			return fmt.Errorf("%s: tensor %s: %d bytes in file, model wants %d values", f.Path, p.Name, len(t.Data), len(p.Data))
		}
	}
	if len(missing) > 0 {
		if len(missing) == 1 {
			return fmt.Errorf("%s: the model's tensor %s is not in the file", f.Path, missing[0])
		}
		return fmt.Errorf("%s: the model's tensors %s are not in the file", f.Path, nameList(missing))
	}
	var extra []string
	for _, t := range f.Tensors {
		if !wanted[t.Name] {
			extra = append(extra, t.Name)
		}
	}
	if len(extra) > 0 {
		if len(extra) == 1 {
			return fmt.Errorf("%s: tensor %s in the file is not a parameter of the model", f.Path, extra[0])
		}
		return fmt.Errorf("%s: tensors %s in the file are not parameters of the model", f.Path, nameList(extra))
	}
	for _, p := range params {
		decodeF32(p.Data, byName[p.Name].Data)
	}
	return nil
}

// nameList renders names for an error, at most five of them:
// "a, b, c, d, e and 2 more".
func nameList(names []string) string {
	if len(names) <= 5 {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:5], ", "), len(names)-5)
}

// decodeF32 decodes little-endian float32s from b into dst.
func decodeF32(dst []float32, b []byte) {
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
}
