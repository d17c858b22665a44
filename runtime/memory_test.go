package runtime

import (
	"math"
	"math/big"
	"strings"
	"testing"
)

// TestMemoryArenaChecked compares Memory.Arena's checked arithmetic with
// exact big-integer arithmetic, including polynomials that overflow.
func TestMemoryArenaChecked(t *testing.T) {
	polys := [][]int64{
		nil,
		{100},
		{31364, 84},
		{0, 0, 7},
		{1, math.MaxInt64},
		{math.MaxInt64, 1},
		{5, 3, 2},
		{0, 1 << 40},
	}
	for _, p := range polys {
		for _, n := range []int{0, 1, 2, 3, 1000, 1 << 20, 1 << 31, 1 << 40, math.MaxInt32, math.MaxInt} {
			want := new(big.Int)
			pow := big.NewInt(1)
			for k, c := range p {
				if k > 0 {
					pow.Mul(pow, big.NewInt(int64(n)))
				}
				want.Add(want, new(big.Int).Mul(big.NewInt(c), pow))
			}
			got, ok := Memory{ArenaBytes: p}.Arena(n)
			fits := want.IsInt64()
			if ok != fits || ok && got != want.Int64() {
				t.Errorf("Arena(%v, n=%d) = %d, %v; want %v (fits %v)", p, n, got, ok, want, fits)
			}
		}
	}
	if _, ok := (Memory{ArenaBytes: []int64{1}}).Arena(-1); ok {
		t.Error("a negative batch size has a size")
	}
	if _, ok := (Memory{ParamBytes: math.MaxInt64, ArenaBytes: []int64{1}}).Total(1); ok {
		t.Error("Total overflowed silently")
	}
}

func TestMaxBatchWithin(t *testing.T) {
	m := Memory{ParamBytes: 1000, ArenaBytes: []int64{24, 8}}
	// 1000 + 24 + 8n <= 2048 → n <= 128.
	if got := m.MaxBatchWithin(2048); got != 128 {
		t.Errorf("MaxBatchWithin(2048) = %d, want 128", got)
	}
	if got := m.MaxBatchWithin(1031); got != 0 {
		t.Errorf("MaxBatchWithin(1031) = %d, want 0 (batch 1 needs 1032)", got)
	}
	most := m.MaxBatchWithin(0)
	if _, ok := m.Total(most); !ok {
		t.Errorf("MaxBatchWithin(0) = %d does not fit", most)
	}
	if _, ok := m.Total(most + 1); ok {
		t.Errorf("MaxBatchWithin(0) = %d, but %d fits too", most, most+1)
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "none": 0, "512": 512, "512B": 512, "1kB": 1000, "1KiB": 1024, "1k": 1024,
		"16GiB": 16 << 30, "16 GB": 16e9, "1.5MiB": 1536 << 10, "2T": 2 << 40,
	} {
		got, err := ParseBytes(in)
		if err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1GB", "12 parsecs", "GB", "1e30", "99999999999TB"} {
		if _, err := ParseBytes(in); err == nil {
			t.Errorf("ParseBytes(%q) accepted", in)
		}
	}
}

func TestMemTotal(t *testing.T) {
	n, ok := memTotal([]byte("MemTotal:       24576000 kB\nMemFree:  1 kB\n"))
	if !ok || n != 24576000*1024 {
		t.Errorf("memTotal = %d, %v", n, ok)
	}
	if _, ok := memTotal([]byte("MemFree: 1 kB\n")); ok {
		t.Error("memTotal found a total in a file without one")
	}
}

// TestCheckMemoryLimit checks the limit from $FLOW_MAX_MEMORY: a model
// over it is refused with the figures a user needs, one under it
// passes, and a batch too large says which batch fits.
func TestCheckMemoryLimit(t *testing.T) {
	sig := &Signature{Model: "Big", Memory: Memory{ParamBytes: 3 << 20, ArenaBytes: []int64{1 << 10, 1 << 10}}}
	t.Setenv(MemoryLimitEnv, "2MiB")
	err := CheckMemory(sig)
	if err == nil {
		t.Fatal("a 3 MiB model passed a 2 MiB limit")
	}
	for _, want := range []string{"model Big needs 3.0 MiB", "parameters 3.0 MiB", "working buffers 2.0 KiB", "2.0 MiB of $FLOW_MAX_MEMORY"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	t.Setenv(MemoryLimitEnv, "4MiB")
	if err := CheckMemory(sig); err != nil {
		t.Errorf("a 3 MiB model failed a 4 MiB limit: %v", err)
	}
	err = CheckBatchMemory(sig, 5000)
	if err == nil || !strings.Contains(err.Error(), "at batch size 5000") || !strings.Contains(err.Error(), "the largest batch that fits is 1023") {
		t.Errorf("CheckBatchMemory(5000) = %v", err)
	}
	t.Setenv(MemoryLimitEnv, "none")
	if err := CheckMemory(sig); err != nil {
		t.Errorf("no limit: %v", err)
	}
	t.Setenv(MemoryLimitEnv, "lots")
	if err := CheckMemory(sig); err == nil || !strings.Contains(err.Error(), "$FLOW_MAX_MEMORY") {
		t.Errorf("a bad $FLOW_MAX_MEMORY: %v", err)
	}
}
