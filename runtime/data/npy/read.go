package npy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
)

// MaxHeaderLen bounds the header dict literal a file may declare, in bytes.
// numpy writes headers of a hundred or so bytes; the bound keeps a hostile
// length field from costing memory.
const MaxHeaderLen = 64 << 10

// DefaultLimit is the most array data, in bytes, that ReadNPZ reads in
// total. ReadFile is bounded by the file's size instead.
const DefaultLimit = 8 << 30

// magic starts every .npy file.
const magic = "\x93NUMPY"

// initialChunk is the first allocation for data of unknown availability;
// the buffer then doubles as data arrives, so memory tracks the bytes
// actually read, not the bytes a header claims.
const initialChunk = 1 << 20

// Read reads one .npy array from r. name identifies the source in errors
// (a file name, usually). limit bounds the array's data in bytes: a header
// claiming more is refused before anything is allocated, and limit <= 0
// means no data at all may be read (so only empty arrays succeed). Read
// stops at the end of the array's data; it does not check that r is then
// exhausted.
func Read(r io.Reader, name string, limit int64) (*Array, error) {
	a, err := read(r, limit, -1)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return a, nil
}

// ReadFile reads the .npy file at path. The file must hold exactly one
// array: data missing or left over after it is an error.
func ReadFile(path string) (*Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *PathError names the file
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	a, err := read(f, st.Size(), st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// read reads an array from r, whose total size is avail bytes if avail >= 0
// (then the data must end exactly at avail) or unknown if avail < 0.
func read(r io.Reader, limit, avail int64) (*Array, error) {
	var pre [12]byte
	if _, err := io.ReadFull(r, pre[:10]); err != nil {
		return nil, fmt.Errorf("reading the .npy preamble: %w", unexpectedEOF(err))
	}
	if string(pre[:6]) != magic {
		return nil, fmt.Errorf("not a .npy file: missing the \\x93NUMPY magic")
	}
	major, minor := pre[6], pre[7]
	var hlen, prelen int64
	switch major {
	case 1:
		hlen, prelen = int64(binary.LittleEndian.Uint16(pre[8:10])), 10
	case 2, 3:
		if _, err := io.ReadFull(r, pre[10:12]); err != nil {
			return nil, fmt.Errorf("reading the .npy preamble: %w", unexpectedEOF(err))
		}
		hlen, prelen = int64(binary.LittleEndian.Uint32(pre[8:12])), 12
	default:
		return nil, fmt.Errorf("unsupported .npy format version %d.%d: want 1.0, 2.0 or 3.0", major, minor)
	}
	if minor != 0 {
		return nil, fmt.Errorf("unsupported .npy format version %d.%d: want 1.0, 2.0 or 3.0", major, minor)
	}
	if hlen > MaxHeaderLen {
		return nil, fmt.Errorf("header length %d exceeds the limit of %d bytes", hlen, MaxHeaderLen)
	}
	if avail >= 0 && prelen+hlen > avail {
		return nil, fmt.Errorf("truncated: header length %d, but only %d bytes follow the preamble", hlen, avail-prelen)
	}
	hbuf := make([]byte, hlen)
	if _, err := io.ReadFull(r, hbuf); err != nil {
		return nil, fmt.Errorf("reading the %d-byte header: %w", hlen, unexpectedEOF(err))
	}
	h, err := parseHeader(string(hbuf))
	if err != nil {
		return nil, err
	}
	dt, err := parseDescr(h.descr)
	if err != nil {
		return nil, err
	}

	n, nbytes, err := size(h.shape, dt.size)
	if err != nil {
		return nil, err
	}
	if nbytes > limit {
		return nil, fmt.Errorf("shape %v of %s is %d bytes, over the limit of %d", h.shape, dt.name(), nbytes, limit)
	}
	if avail >= 0 {
		if rest := avail - prelen - hlen; rest != nbytes {
			return nil, fmt.Errorf("shape %v of %s needs %d bytes of data, but the file has %d", h.shape, dt.name(), nbytes, rest)
		}
	}
	// The data is known to be there when the file's size was checked above
	// or an in-memory reader (bytes.Reader, strings.Reader) holds it.
	present := avail >= 0
	if lr, ok := r.(interface{ Len() int }); ok && int64(lr.Len()) >= nbytes {
		present = true
	}
	data, err := readData(r, nbytes, present)
	if err != nil {
		return nil, fmt.Errorf("shape %v of %s needs %d bytes of data: %w", h.shape, dt.name(), nbytes, err)
	}
	a := &Array{DType: dt.name(), Shape: h.shape, dt: dt, n: n, data: data}
	if h.fortran {
		a.data = fortranToC(data, h.shape, dt.size)
	}
	return a, nil
}

// size returns the element count and byte size of shape with items of
// itemsize bytes, or an error if either overflows an int64.
func size(shape []int, itemsize int) (n, nbytes int64, err error) {
	n = 1
	for _, d := range shape {
		hi, lo := bits.Mul64(uint64(n), uint64(d))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, 0, fmt.Errorf("shape %v overflows the element count", shape)
		}
		n = int64(lo)
	}
	if n > math.MaxInt64/int64(itemsize) || n > math.MaxInt {
		return 0, 0, fmt.Errorf("shape %v overflows the byte size", shape)
	}
	return n, n * int64(itemsize), nil
}

// readData reads exactly n bytes. Unless the caller knows they are present,
// it grows its buffer only as data arrives.
func readData(r io.Reader, n int64, present bool) ([]byte, error) {
	first := min(n, initialChunk)
	if present {
		first = n
	}
	buf := make([]byte, 0, first)
	for int64(len(buf)) < n {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(n, 2*int64(cap(buf))))
			copy(grown, buf)
			buf = grown
		}
		m, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err != nil {
			return nil, fmt.Errorf("truncated after %d bytes: %w", len(buf), unexpectedEOF(err))
		}
	}
	return buf, nil
}

// unexpectedEOF turns io.EOF, which means "nothing at all" to callers of
// ReadFull, into io.ErrUnexpectedEOF: inside a file, running out is always
// unexpected.
func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// fortranToC reorders column-major data of the given shape to row-major.
func fortranToC(data []byte, shape []int, itemsize int) []byte {
	if len(shape) < 2 || len(data) == 0 {
		return data
	}
	out := make([]byte, len(data))
	// fstride[k] is dimension k's stride, in items, in Fortran order.
	fstride := make([]int, len(shape))
	s := 1
	for k := range shape {
		fstride[k] = s
		s *= shape[k]
	}
	idx := make([]int, len(shape))
	src := 0 // Fortran offset of idx, in items
	for i := 0; i < len(data)/itemsize; i++ {
		copy(out[i*itemsize:(i+1)*itemsize], data[src*itemsize:(src+1)*itemsize])
		// Advance idx in C order (last dimension fastest).
		for k := len(shape) - 1; k >= 0; k-- {
			idx[k]++
			src += fstride[k]
			if idx[k] < shape[k] {
				break
			}
			src -= idx[k] * fstride[k]
			idx[k] = 0
		}
	}
	return out
}
