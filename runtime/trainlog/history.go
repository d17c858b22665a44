package trainlog

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// This file reads back the scalars that earlier runs logged in the same
// directory, so that the report of a resumed run shows the whole curve
// and not only the steps since the checkpoint. It follows TensorBoard's
// reading rules: files in name (= creation time) order, and a session
// start at step s in a later file discards the earlier files' points at
// steps ≥ s.

// maxRecord bounds the size of a record read back; anything larger is
// not an event this package wrote, and reading stops there.
const maxRecord = 64 << 20

// loadHistory adds to l.series the scalars logged before step
// l.run.Resumed by the event files in l.dir other than l's own. Unreadable
// files and records (a file cut short by a killed process, say) end the
// reading of that file; they are not errors.
func (l *Log) loadHistory() {
	files, _ := filepath.Glob(filepath.Join(l.dir, "events.out.tfevents.*"))
	sort.SliceStable(files, func(i, j int) bool {
		si, ni := fileOrder(files[i])
		sj, nj := fileOrder(files[j])
		if si != sj {
			return si < sj
		}
		if ni != nj {
			return ni < nj
		}
		return files[i] < files[j]
	})
	var older []string
	for _, f := range files {
		if f != l.path && !strings.HasSuffix(f, ".tmp") {
			older = append(older, f)
		}
	}
	// A file's points count up to the least session start of the files
	// after it (and of this run).
	cut := make([]int64, len(older))
	limit := int64(l.run.Resumed)
	for i := len(older) - 1; i >= 0; i-- {
		cut[i] = limit
		if s, ok := sessionStart(older[i]); ok && s < limit {
			limit = s
		}
	}
	for i, f := range older {
		readEvents(f, &l.tags, func(step int64, vals *[4]float64, start bool) bool {
			if start || step >= cut[i] {
				return true
			}
			l.history++
			for k, v := range vals {
				l.series[k].add(int(step), v)
			}
			return true
		})
	}
}

// fileOrder returns the creation second and the per-process counter in an
// event file's name (events.out.tfevents.<secs>.<host>.<pid>.<n>), zero
// for what does not parse.
func fileOrder(path string) (secs, n int64) {
	name := strings.TrimPrefix(filepath.Base(path), "events.out.tfevents.")
	if i := strings.IndexByte(name, '.'); i > 0 {
		secs, _ = strconv.ParseInt(name[:i], 10, 64)
	}
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		n, _ = strconv.ParseInt(name[i+1:], 10, 64)
	}
	return secs, n
}

// sessionStart returns the step of the session start event among the
// first records of file, if there is one.
func sessionStart(file string) (int64, bool) {
	var step int64
	found := false
	n := 0
	readEvents(file, &[4]string{}, func(s int64, _ *[4]float64, start bool) bool {
		if start {
			step, found = s, true
		}
		n++
		return !found && n < 4
	})
	return step, found
}

// readEvents calls fn with the step and scalars tagged tags (NaN where
// absent) of each scalar summary or session start event of file, until fn
// returns false or the file ends or is unreadable.
func readEvents(file string, tags *[4]string, fn func(step int64, vals *[4]float64, start bool) bool) {
	f, err := os.Open(file)
	if err != nil {
		return
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<16)
	var hdr [12]byte
	var data []byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return
		}
		if binary.LittleEndian.Uint32(hdr[8:]) != maskedCRC(hdr[:8]) {
			return
		}
		n := binary.LittleEndian.Uint64(hdr[:8])
		if n > maxRecord {
			return
		}
		if cap(data) < int(n)+4 {
			data = make([]byte, int(n)+4)
		}
		data = data[:n+4]
		if _, err := io.ReadFull(r, data); err != nil {
			return
		}
		if binary.LittleEndian.Uint32(data[n:]) != maskedCRC(data[:n]) {
			return
		}
		step, vals, start, ok := parseEvent(data[:n], tags)
		if ok && !fn(step, &vals, start) {
			return
		}
	}
}

// parseEvent extracts the step, the scalars with the given tags (those
// Step writes) and whether the event is a session start; ok is false for
// other events (file version, graph) and malformed ones.
func parseEvent(b []byte, tags *[4]string) (step int64, vals [4]float64, start, ok bool) {
	vals = [4]float64{math.NaN(), math.NaN(), math.NaN(), math.NaN()}
	err := eachField(b, func(num, wire int, u uint64, sub []byte) error {
		switch {
		case num == eventStep && wire == wireVarint:
			step = int64(u)
		case num == eventSummary && wire == wireBytes:
			ok = true
			return eachField(sub, func(num, wire int, _ uint64, vb []byte) error {
				if num != summaryValue || wire != wireBytes {
					return nil
				}
				tag, val, has := "", float32(0), false
				err := eachField(vb, func(num, wire int, u uint64, s []byte) error {
					switch {
					case num == valueTag && wire == wireBytes:
						tag = string(s)
					case num == valueSimpleValue && wire == wireFixed32:
						val, has = math.Float32frombits(uint32(u)), true
					}
					return nil
				})
				if err != nil || !has {
					return err
				}
				for i, t := range tags {
					if t == tag && t != "" {
						vals[i] = float64(val)
					}
				}
				return nil
			})
		case num == eventSessionLog && wire == wireBytes:
			return eachField(sub, func(num, wire int, u uint64, _ []byte) error {
				if num == sessionLogStatus && wire == wireVarint && u == sessionLogStart {
					start, ok = true, true
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return 0, vals, false, false
	}
	return step, vals, start, ok
}

var errMalformed = errors.New("malformed protocol buffer")

// eachField calls fn for each field of the encoded message b: its number,
// wire type, and value (u for varint and fixed fields, sub for
// length-delimited ones).
func eachField(b []byte, fn func(num, wire int, u uint64, sub []byte) error) error {
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return errMalformed
		}
		b = b[n:]
		num, wire := int(key>>3), int(key&7)
		var u uint64
		var sub []byte
		switch wire {
		case wireVarint:
			u, n = binary.Uvarint(b)
			if n <= 0 {
				return errMalformed
			}
			b = b[n:]
		case wireFixed64:
			if len(b) < 8 {
				return errMalformed
			}
			u, b = binary.LittleEndian.Uint64(b), b[8:]
		case wireFixed32:
			if len(b) < 4 {
				return errMalformed
			}
			u, b = uint64(binary.LittleEndian.Uint32(b)), b[4:]
		case wireBytes:
			l, n := binary.Uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return errMalformed
			}
			sub, b = b[n:n+int(l)], b[n+int(l):]
		default:
			return errMalformed
		}
		if err := fn(num, wire, u, sub); err != nil {
			return err
		}
	}
	return nil
}
