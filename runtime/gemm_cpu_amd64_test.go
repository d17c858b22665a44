package runtime

func cpuHasAVX2() bool   { return hasAVX2FMA() }
func cpuHasAVX512() bool { return hasAVX512F() }
