package cli

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/runtime/mnist"
)

// centerOfMass of a 28×28 example, in pixel-center coordinates.
func centerOfMass(x []float32) (float64, float64) {
	var m, cx, cy float64
	for i, v := range x {
		m += float64(v)
		cx += float64(v) * (float64(i%mnistSide) + 0.5)
		cy += float64(v) * (float64(i/mnistSide) + 0.5)
	}
	return cx / m, cy / m
}

// correlation is Pearson's r of two equally long vectors.
func correlation(a []float32, b []float32) float64 {
	var ma, mb float64
	for i := range a {
		ma += float64(a[i])
		mb += float64(b[i])
	}
	ma /= float64(len(a))
	mb /= float64(len(b))
	var sab, saa, sbb float64
	for i := range a {
		da, db := float64(a[i])-ma, float64(b[i])-mb
		sab += da * db
		saa += da * da
		sbb += db * db
	}
	return sab / math.Sqrt(saa*sbb)
}

// bestShiftCorrelation is the best correlation of a and b shifted by up
// to one pixel in each direction: centering by mass rounds to whole
// pixels, and thin strokes make pixelwise correlation shift-sensitive.
func bestShiftCorrelation(a, b []float32) float64 {
	best := -1.0
	for dy := -1; dy <= 1; dy++ {
		for dx := -1; dx <= 1; dx++ {
			s := make([]float32, len(b))
			for y := 0; y < mnistSide; y++ {
				for x := 0; x < mnistSide; x++ {
					sx, sy := x+dx, y+dy
					if sx >= 0 && sx < mnistSide && sy >= 0 && sy < mnistSide {
						s[y*mnistSide+x] = b[sy*mnistSide+sx]
					}
				}
			}
			best = math.Max(best, correlation(a, s))
		}
	}
	return best
}

func encode(t *testing.T, img image.Image, format string) []byte {
	var buf bytes.Buffer
	switch format {
	case "png":
		require.NoError(t, png.Encode(&buf, img))
	case "jpeg":
		require.NoError(t, jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}))
	}
	return buf.Bytes()
}

// TestDigitImageIsNormalizedLikeMNIST draws a black bar on a large white
// canvas, off center: the result must be inverted (ink bright), scaled so
// its longer side is 20 pixels, and centered by mass.
func TestDigitImageIsNormalizedLikeMNIST(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 60, 80))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for y := 10; y < 50; y++ { // a 10×40 bar at (5, 10)
		for x := 5; x < 15; x++ {
			img.SetGray(x, y, color.Gray{0})
		}
	}
	x, err := decodeDigitImage(bytes.NewReader(encode(t, img, "png")), "bar.png")
	require.NoError(t, err)
	require.Len(t, x, 784)
	cx, cy := centerOfMass(x)
	require.InDelta(t, 14, cx, 0.6)
	require.InDelta(t, 14, cy, 0.6)
	rows := 0
	for y := 0; y < mnistSide; y++ {
		if x[y*mnistSide+14] > 0.5 {
			rows++
		}
	}
	require.Equal(t, mnistBox, rows, "the bar's long side must span 20 rows")
	require.Zero(t, x[0], "the background must be dark")
}

// TestMNISTDigitSurvivesRoundTrip writes real MNIST test digits as images
// — as they are, and as larger black-on-white JPEGs — and requires the
// preprocessing to give back nearly the original example.
func TestMNISTDigitSurvivesRoundTrip(t *testing.T) {
	dir, err := mnist.FindDir("")
	require.NoError(t, err)
	images, err := mnist.ReadImages(filepath.Join(dir, mnist.TestImagesFile))
	require.NoError(t, err)
	for _, i := range []int{0, 1, 2, 3, 4, 99, 1234} {
		pix := images.Pixels[i*784 : (i+1)*784]
		orig := make([]float32, 784)
		for j, p := range pix {
			orig[j] = float32(p) / 255
		}
		small := &image.Gray{Pix: append([]byte(nil), pix...), Stride: 28, Rect: image.Rect(0, 0, 28, 28)}
		got, err := decodeDigitImage(bytes.NewReader(encode(t, small, "png")), "digit.png")
		require.NoError(t, err)
		require.Greater(t, bestShiftCorrelation(orig, got), 0.85, "digit %d as PNG", i)

		big := image.NewGray(image.Rect(0, 0, 112, 112)) // 4× and inverted
		for y := 0; y < 112; y++ {
			for x := 0; x < 112; x++ {
				big.SetGray(x, y, color.Gray{255 - pix[(y/4)*28+x/4]})
			}
		}
		got, err = decodeDigitImage(bytes.NewReader(encode(t, big, "jpeg")), "digit.jpg")
		require.NoError(t, err)
		require.Greater(t, bestShiftCorrelation(orig, got), 0.8, "digit %d as an inverted 4× JPEG", i)
	}
}

func TestBadImages(t *testing.T) {
	_, err := decodeDigitImage(bytes.NewReader([]byte("not an image")), "x.png")
	require.ErrorContains(t, err, "x.png: not a PNG, JPEG or GIF image")

	// A PNG header that claims 100000×100000 pixels.
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1))))
	b := buf.Bytes()
	copy(b[16:24], []byte{0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0})
	_, err = decodeDigitImage(bytes.NewReader(b), "huge.png")
	require.ErrorContains(t, err, "huge.png")

	blank := image.NewGray(image.Rect(0, 0, 10, 10))
	x, err := decodeDigitImage(bytes.NewReader(encode(t, blank, "png")), "blank.png")
	require.NoError(t, err)
	for _, v := range x {
		require.Zero(t, v)
	}
}

func TestTopLabels(t *testing.T) {
	probs := []float32{0.1, 0.6, 0, 0, 0, 0, 0, 0.3, 0, 0}
	require.Equal(t, []labelScore{{"1", 0.6}, {"7", 0.3}, {"0", 0.1}}, topLabels(probs, 3))
	// Logits are turned into probabilities.
	logits := []float32{0, 0, float32(math.Log(3)), 0, 0, 0, 0, 0, 0, 0}
	top := topLabels(logits, 2)
	require.Equal(t, "2", top[0].Label)
	require.InDelta(t, 3.0/12, top[0].Score, 1e-4)
	require.Equal(t, "0", top[1].Label, "ties go to the lower label")
	require.Len(t, topLabels(probs, 20), 10)
}

// TestPredictImageFile runs predict on a PNG through the CLI.
func TestPredictImageFile(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	for y := 4; y < 24; y++ {
		img.SetGray(13, y, color.Gray{255})
		img.SetGray(14, y, color.Gray{255})
	}
	dir := t.TempDir()
	one, two := filepath.Join(dir, "one.png"), filepath.Join(dir, "two.png")
	require.NoError(t, os.WriteFile(one, encode(t, img, "png"), 0o644))
	require.NoError(t, os.WriteFile(two, encode(t, image.NewGray(image.Rect(0, 0, 28, 28)), "png"), 0o644))
	m := newSoftmaxModel()
	m.b[7] = 2 // the untrained model prefers 7
	code, out, errs := run(m, "predict", "--top", "2", one, two, one)
	require.Equal(t, 0, code, errs)
	lines := bytes.Split(bytes.TrimSpace([]byte(out)), []byte("\n"))
	require.Len(t, lines, 3, "one line per image")
	for i, want := range []string{one, two, one} {
		var got imagePrediction
		require.NoError(t, json.Unmarshal(lines[i], &got), "%s", lines[i])
		require.Equal(t, want, got.File, "line %d names its file", i)
		require.Len(t, got.Top, 2)
		require.Equal(t, "7", got.Top[0].Label)
		require.Greater(t, got.Top[0].Score, got.Top[1].Score)
	}
	require.Equal(t, string(lines[0]), string(lines[2]), "the same file, the same line")
	require.Equal(t, []string{"file", "top"}, objectKeys(t, lines[0]))

	code, _, errs = run(m, "predict", "--input", one, one)
	require.Equal(t, 2, code)
	require.Contains(t, errs, "not both")
	code, _, errs = run(m, "predict", filepath.Join(t.TempDir(), "missing.png"))
	require.Equal(t, 1, code)
	require.Contains(t, errs, "missing.png")
}
