package trainlog

// An independent reader of TensorBoard event files, written from the
// format's specification and sharing no code with the writer: its own
// bitwise CRC-32C (reflected polynomial 0x82F63B78), its own TFRecord
// framing check and its own protocol buffer decoder.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// crc32cRef is a bit-at-a-time CRC-32C (Castagnoli).
func crc32cRef(b []byte) uint32 {
	crc := ^uint32(0)
	for _, c := range b {
		crc ^= uint32(c)
		for k := 0; k < 8; k++ {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0x82F63B78
			} else {
				crc >>= 1
			}
		}
	}
	return ^crc
}

func maskRef(crc uint32) uint32 {
	return ((crc >> 15) | (crc << 17)) + 0xa282ead8
}

// readRecords splits a TFRecord file into its records, checking both
// checksums of every record.
func readRecords(data []byte) ([][]byte, error) {
	var recs [][]byte
	for off := 0; off < len(data); {
		if len(data)-off < 12 {
			return nil, fmt.Errorf("record at %d: truncated header", off)
		}
		lenBytes := data[off : off+8]
		if got, want := binary.LittleEndian.Uint32(data[off+8:]), maskRef(crc32cRef(lenBytes)); got != want {
			return nil, fmt.Errorf("record at %d: length crc %#x, want %#x", off, got, want)
		}
		n := binary.LittleEndian.Uint64(lenBytes)
		if rest := len(data) - off - 16; rest < 0 || n > uint64(rest) {
			return nil, fmt.Errorf("record at %d: length %d beyond end of file", off, n)
		}
		body := data[off+12 : off+12+int(n)]
		if got, want := binary.LittleEndian.Uint32(data[off+12+int(n):]), maskRef(crc32cRef(body)); got != want {
			return nil, fmt.Errorf("record at %d: data crc %#x, want %#x", off, got, want)
		}
		recs = append(recs, body)
		off += 16 + int(n)
	}
	return recs, nil
}

// field is one decoded protocol buffer field.
type field struct {
	num  int
	wire int
	u    uint64 // varint, fixed64 or fixed32 value
	b    []byte // length-delimited payload
}

func decodeVarint(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return v, i + 1, nil
		}
	}
	return 0, 0, errors.New("bad varint")
}

// decodeMessage splits an encoded message into its fields.
func decodeMessage(b []byte) ([]field, error) {
	var fs []field
	for len(b) > 0 {
		key, n, err := decodeVarint(b)
		if err != nil {
			return nil, err
		}
		b = b[n:]
		f := field{num: int(key >> 3), wire: int(key & 7)}
		if f.num == 0 {
			return nil, errors.New("field number 0")
		}
		switch f.wire {
		case 0:
			f.u, n, err = decodeVarint(b)
			if err != nil {
				return nil, err
			}
			b = b[n:]
		case 1:
			if len(b) < 8 {
				return nil, errors.New("truncated fixed64")
			}
			f.u = binary.LittleEndian.Uint64(b)
			b = b[8:]
		case 5:
			if len(b) < 4 {
				return nil, errors.New("truncated fixed32")
			}
			f.u = uint64(binary.LittleEndian.Uint32(b))
			b = b[4:]
		case 2:
			l, n, err := decodeVarint(b)
			if err != nil {
				return nil, err
			}
			b = b[n:]
			if l > uint64(len(b)) {
				return nil, errors.New("truncated bytes field")
			}
			f.b = b[:l]
			b = b[l:]
		default:
			return nil, fmt.Errorf("unsupported wire type %d", f.wire)
		}
		fs = append(fs, f)
	}
	return fs, nil
}

// event is a decoded tensorflow.Event (the fields the writer may set).
type event struct {
	wallTime    float64
	step        int64
	fileVersion string
	graphDef    []byte
	hasGraph    bool
	values      []value
	hasSummary  bool
	sessionLog  int64 // SessionLog.status, -1 if absent
}

type value struct {
	tag    string
	simple float32
	has    bool
}

func decodeEvent(b []byte) (event, error) {
	ev := event{sessionLog: -1}
	fs, err := decodeMessage(b)
	if err != nil {
		return ev, err
	}
	for _, f := range fs {
		switch {
		case f.num == 1 && f.wire == 1:
			ev.wallTime = math.Float64frombits(f.u)
		case f.num == 2 && f.wire == 0:
			ev.step = int64(f.u)
		case f.num == 3 && f.wire == 2:
			ev.fileVersion = string(f.b)
		case f.num == 4 && f.wire == 2:
			ev.graphDef, ev.hasGraph = f.b, true
		case f.num == 5 && f.wire == 2:
			ev.hasSummary = true
			sfs, err := decodeMessage(f.b)
			if err != nil {
				return ev, fmt.Errorf("summary: %v", err)
			}
			for _, sf := range sfs {
				if sf.num != 1 || sf.wire != 2 {
					return ev, fmt.Errorf("summary: unexpected field %d", sf.num)
				}
				vfs, err := decodeMessage(sf.b)
				if err != nil {
					return ev, fmt.Errorf("summary value: %v", err)
				}
				var v value
				for _, vf := range vfs {
					switch {
					case vf.num == 1 && vf.wire == 2:
						v.tag = string(vf.b)
					case vf.num == 2 && vf.wire == 5:
						v.simple, v.has = math.Float32frombits(uint32(vf.u)), true
					default:
						return ev, fmt.Errorf("summary value: unexpected field %d", vf.num)
					}
				}
				ev.values = append(ev.values, v)
			}
		case f.num == 7 && f.wire == 2:
			sfs, err := decodeMessage(f.b)
			if err != nil {
				return ev, err
			}
			ev.sessionLog = 0
			for _, sf := range sfs {
				if sf.num == 1 && sf.wire == 0 {
					ev.sessionLog = int64(sf.u)
				}
			}
		default:
			return ev, fmt.Errorf("event: unexpected field %d (wire %d)", f.num, f.wire)
		}
	}
	return ev, nil
}

// node is a decoded tensorflow.NodeDef.
type node struct {
	name, op, device string
	inputs           []string
	dtype            int64   // attr "dtype", 0 if absent
	shape            []int64 // attr "_output_shapes"[0]
	hasShape         bool
}

func decodeGraphDef(b []byte) ([]node, error) {
	fs, err := decodeMessage(b)
	if err != nil {
		return nil, err
	}
	var nodes []node
	for _, f := range fs {
		if f.num != 1 || f.wire != 2 {
			return nil, fmt.Errorf("graphdef: unexpected field %d", f.num)
		}
		nfs, err := decodeMessage(f.b)
		if err != nil {
			return nil, err
		}
		var n node
		for _, nf := range nfs {
			switch nf.num {
			case 1:
				n.name = string(nf.b)
			case 2:
				n.op = string(nf.b)
			case 3:
				n.inputs = append(n.inputs, string(nf.b))
			case 4:
				n.device = string(nf.b)
			case 5: // map entry {key = 1; value = 2 (AttrValue)}
				efs, err := decodeMessage(nf.b)
				if err != nil {
					return nil, err
				}
				var key string
				var val []byte
				for _, ef := range efs {
					switch ef.num {
					case 1:
						key = string(ef.b)
					case 2:
						val = ef.b
					}
				}
				afs, err := decodeMessage(val)
				if err != nil {
					return nil, err
				}
				for _, af := range afs {
					switch {
					case key == "dtype" && af.num == 6 && af.wire == 0: // AttrValue.type
						n.dtype = int64(af.u)
					case key == "_output_shapes" && af.num == 1 && af.wire == 2: // AttrValue.list
						lfs, err := decodeMessage(af.b)
						if err != nil {
							return nil, err
						}
						for _, lf := range lfs {
							if lf.num != 7 { // ListValue.shape
								continue
							}
							sfs, err := decodeMessage(lf.b)
							if err != nil {
								return nil, err
							}
							n.hasShape = true
							n.shape = []int64{}
							for _, sf := range sfs {
								if sf.num != 2 { // TensorShapeProto.dim
									continue
								}
								dfs, err := decodeMessage(sf.b)
								if err != nil {
									return nil, err
								}
								var size int64
								for _, df := range dfs {
									if df.num == 1 {
										size = int64(df.u)
									}
								}
								n.shape = append(n.shape, size)
							}
						}
					default:
						return nil, fmt.Errorf("attr %q: unexpected field %d", key, af.num)
					}
				}
			default:
				return nil, fmt.Errorf("nodedef: unexpected field %d", nf.num)
			}
		}
		nodes = append(nodes, n)
	}
	return nodes, nil
}

// readEventFile reads and decodes every event of an event file.
func readEventFile(data []byte) ([]event, error) {
	recs, err := readRecords(data)
	if err != nil {
		return nil, err
	}
	evs := make([]event, len(recs))
	for i, r := range recs {
		if evs[i], err = decodeEvent(r); err != nil {
			return nil, fmt.Errorf("record %d: %v", i, err)
		}
	}
	return evs, nil
}
