package runtime

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"os"
	"strconv"
	"strings"
)

// Memory is what a generated model allocates: its parameters, once, and
// one arena of working buffers laid out for each call's batch size n.
type Memory struct {
	// ParamBytes is the size of the parameters and other state.
	ParamBytes int64 `json:"param_bytes"`
	// ArenaBytes is the arena's size as a polynomial in the batch size:
	// ArenaBytes[k] bytes times n^k, summed. A model with several
	// symbolic dimensions has Terms instead.
	ArenaBytes []int64 `json:"arena_bytes,omitempty"`
	// Syms names the symbolic dimensions of a model with several, in
	// the order of its generated code's size arguments: the batch first.
	Syms []string `json:"syms,omitempty"`
	// Terms is the arena's size as a polynomial in Syms, for a model with
	// several symbolic dimensions: the sum of the terms.
	Terms []MemoryTerm `json:"terms,omitempty"`
}

// MemoryTerm is one term of Memory.Terms: Bytes times the product of
// each of Memory.Syms to its power in Pow.
type MemoryTerm struct {
	Bytes int64 `json:"bytes"`
	Pow   []int `json:"pow"`
}

// Arena returns the arena's size in bytes at batch size n, and false if
// it does not fit in an int64. For a model with several symbolic
// dimensions, more are the sizes of the others, in Syms order after the
// batch; those not given count as 1.
func (m Memory) Arena(n int, more ...int) (int64, bool) {
	if n < 0 {
		return 0, false
	}
	if len(m.Terms) > 0 {
		return m.terms(n, more)
	}
	var total uint64
	pow := uint64(1)
	for k, c := range m.ArenaBytes {
		if c < 0 {
			return 0, false
		}
		if k > 0 {
			hi, lo := bits.Mul64(pow, uint64(n))
			if hi != 0 {
				if c == 0 {
					continue
				}
				return 0, false
			}
			pow = lo
		}
		hi, term := bits.Mul64(uint64(c), pow)
		var carry uint64
		total, carry = bits.Add64(total, term, 0)
		if hi != 0 || carry != 0 {
			return 0, false
		}
	}
	if total > math.MaxInt64 {
		return 0, false
	}
	return int64(total), true
}

// terms evaluates Terms at batch size n and the other sizes more (Syms
// order; missing ones are 1), and reports false if a size is negative or
// the sum does not fit in an int64. It does not allocate: generated code
// calls it when its sizes change.
func (m Memory) terms(n int, more []int) (int64, bool) {
	var total uint64
	for _, t := range m.Terms {
		if t.Bytes < 0 {
			return 0, false
		}
		v := uint64(t.Bytes)
		for i, p := range t.Pow {
			d := 1
			switch {
			case i == 0:
				d = n
			case i <= len(more):
				d = more[i-1]
			}
			if d < 0 {
				return 0, false
			}
			for range p {
				hi, lo := bits.Mul64(v, uint64(d))
				if hi != 0 {
					return 0, false
				}
				v = lo
			}
		}
		var carry uint64
		total, carry = bits.Add64(total, v, 0)
		if carry != 0 {
			return 0, false
		}
	}
	if total > math.MaxInt64 {
		return 0, false
	}
	return int64(total), true
}

// FitsInt reports whether the arena at batch size n is a valid size: n is
// not negative and the arena's bytes (which bound its elements of every
// type) fit in an int, so generated code can compute its layout without
// wrapping around, on 32-bit targets too. more are the other symbolic
// dimensions' sizes, as for Arena.
func (m Memory) FitsInt(n int, more ...int) bool {
	for _, d := range more {
		if d < 0 {
			return false
		}
	}
	a, ok := m.Arena(n, more...)
	return ok && uint64(a) <= math.MaxInt
}

// Total returns the bytes the model holds at batch size n, parameters
// and arena, and false if that does not fit in an int64; more are the
// other symbolic dimensions' sizes, as for Arena.
func (m Memory) Total(n int, more ...int) (int64, bool) {
	a, ok := m.Arena(n, more...)
	if !ok || a > math.MaxInt64-m.ParamBytes {
		return 0, false
	}
	return a + m.ParamBytes, true
}

// MaxBatchWithin returns the largest batch size whose total memory is at
// most limit bytes (0 if not even a batch of one fits); limit <= 0 means
// no limit, and the result is then the largest batch whose size fits in
// an int64. more are the other symbolic dimensions' sizes, as for Arena.
func (m Memory) MaxBatchWithin(limit int64, more ...int) int {
	if limit <= 0 {
		limit = math.MaxInt64
	}
	fits := func(n int) bool {
		t, ok := m.Total(n, more...)
		return ok && t <= limit
	}
	if !fits(1) {
		return 0
	}
	lo, hi := 1, 2
	for fits(hi) {
		if hi > math.MaxInt/4 {
			return hi
		}
		lo, hi = hi, hi*2
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if fits(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// MemoryLimitEnv is the environment variable that sets the memory a model
// binary may plan to use (see MemoryLimit).
const MemoryLimitEnv = "FLOW_MAX_MEMORY"

// MemoryLimit returns the memory a model may plan to use, in bytes, and
// where that figure comes from: $FLOW_MAX_MEMORY when set (a size such
// as 16GiB or 512MB; 0 or "none" for no limit), else the machine's
// memory — the smaller of the physical memory (/proc/meminfo) and the
// control group's limit (cgroup v2 memory.max, v1
// memory.limit_in_bytes), which a container's limit sets. A limit of 0
// means none is known (not Linux, or nothing readable).
func MemoryLimit() (limit int64, source string, err error) {
	if v, ok := os.LookupEnv(MemoryLimitEnv); ok && strings.TrimSpace(v) != "" {
		n, err := ParseBytes(v)
		if err != nil {
			return 0, "", fmt.Errorf("$%s: %v", MemoryLimitEnv, err)
		}
		return n, "$" + MemoryLimitEnv, nil
	}
	limit, source = MachineMemory()
	return limit, source, nil
}

// MachineMemory returns the memory of this machine available to the
// process and where the figure comes from: the smaller of physical memory
// and the control group's limit; 0 when neither can be read.
func MachineMemory() (int64, string) {
	var limit int64
	source := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if n, ok := memTotal(b); ok {
			limit, source = n, "this machine's memory"
		}
	}
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || n <= 0 {
			continue // "max": no limit
		}
		if limit == 0 || n < limit {
			limit, source = n, "this container's memory limit"
		}
	}
	return limit, source
}

// memTotal reads MemTotal from the text of /proc/meminfo.
func memTotal(meminfo []byte) (int64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(meminfo))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil || kb <= 0 || kb > math.MaxInt64/1024 {
				return 0, false
			}
			return kb * 1024, true
		}
	}
	return 0, false
}

// ParseBytes parses a size in bytes: a number with an optional unit, B,
// kB/MB/GB/TB (powers of 1000) or KiB/MiB/GiB/TiB (powers of 1024), in
// any case, K/M/G/T meaning the binary units; "0" and "none" mean no
// limit (0).
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if strings.EqualFold(t, "none") {
		return 0, nil
	}
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	v, err := strconv.ParseFloat(num, 64)
	if num == "" || err != nil || v < 0 {
		return 0, fmt.Errorf("invalid size %q: want a number of bytes with an optional unit, such as 16GiB or 512MB", s)
	}
	scale := map[string]float64{
		"": 1, "b": 1,
		"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
		"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
	}[unit]
	if scale == 0 {
		return 0, fmt.Errorf("invalid size %q: unknown unit %q (want B, kB, MB, GB, TB, KiB, MiB, GiB or TiB)", s, t[i:])
	}
	b := v * scale
	if b >= math.MaxInt64 {
		return 0, fmt.Errorf("invalid size %q: too large", s)
	}
	return int64(b), nil
}

// FormatBytes renders a byte count with a binary unit: "40.0 GiB",
// "1.2 MiB", "512 B".
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// CheckMemory reports whether the model sig describes fits the memory
// limit (MemoryLimit) at batch size 1: its parameters and the arena of a
// one-example call. Model binaries call it before allocating anything,
// so that a model too large for the machine stops with this message
// instead of the Go runtime's out-of-memory crash.
func CheckMemory(sig *Signature) error {
	limit, source, err := MemoryLimit()
	if err != nil {
		return err
	}
	return sig.Memory.checkWithin(sig.Model, 1, limit, source)
}

// CheckBatchMemory reports whether a call at batch size n fits the
// memory limit (MemoryLimit); more are the sizes of the model's other
// symbolic dimensions, as for Memory.Arena.
func CheckBatchMemory(sig *Signature, n int, more ...int) error {
	limit, source, err := MemoryLimit()
	if err != nil {
		return err
	}
	return sig.Memory.checkWithin(sig.Model, n, limit, source, more...)
}

// checkWithin reports whether model fits limit bytes (from source) at
// batch size n (and the other symbolic dimensions' sizes more).
func (m Memory) checkWithin(model string, n int, limit int64, source string, more ...int) error {
	total, ok := m.Total(n, more...)
	if ok && (limit <= 0 || total <= limit) {
		return nil
	}
	arena, _ := m.Arena(n, more...)
	need := "more than an int64 of bytes"
	if ok {
		need = FormatBytes(total)
	}
	if ok && n == 1 {
		return fmt.Errorf("model %s needs %s (parameters %s, working buffers %s), more than the %s of %s; set $%s to change the limit",
			model, need, FormatBytes(m.ParamBytes), FormatBytes(arena), FormatBytes(limit), source, MemoryLimitEnv)
	}
	msg := fmt.Sprintf("model %s at batch size %d needs %s", model, n, need)
	if ok {
		msg += fmt.Sprintf(" (parameters %s, working buffers %s), more than the %s of %s", FormatBytes(m.ParamBytes), FormatBytes(arena), FormatBytes(limit), source)
	}
	if most := m.MaxBatchWithin(limit, more...); most > 0 {
		msg += fmt.Sprintf("; the largest batch that fits is %d", most)
	}
	return errors.New(msg)
}
