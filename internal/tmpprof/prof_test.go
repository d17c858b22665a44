package tmpprof

import "testing"

func BenchmarkPredict(b *testing.B) {
	m := New()
	x := make([]float32, 64*784)
	for i := range x {
		x[i] = float32(i%17) / 17
	}
	for i := 0; i < b.N; i++ {
		m.Predict(64, x)
	}
}

func BenchmarkTrain(b *testing.B) {
	m := New()
	x := make([]float32, 64*784)
	y := make([]float32, 64*10)
	for i := range x {
		x[i] = float32(i%17) / 17
	}
	for i := 0; i < 64; i++ {
		y[i*10+i%10] = 1
	}
	for i := 0; i < b.N; i++ {
		m.TrainStep(64, x, y)
	}
}
