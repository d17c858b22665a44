package mnist

import (
	"fmt"
	"path/filepath"
)

// The four standard MNIST file names.
const (
	TrainImagesFile = "train-images-idx3-ubyte.gz"
	TrainLabelsFile = "train-labels-idx1-ubyte.gz"
	TestImagesFile  = "t10k-images-idx3-ubyte.gz"
	TestLabelsFile  = "t10k-labels-idx1-ubyte.gz"
)

// Files lists the four standard file names in the order Load reads them.
var Files = []string{TrainImagesFile, TrainLabelsFile, TestImagesFile, TestLabelsFile}

// Split is one part of the data set: images and their labels, where
// Labels[i] is the digit shown by image i.
type Split struct {
	// Images holds the split's images.
	Images *Images
	// Labels holds one label (0..9) per image.
	Labels []uint8
}

// Len returns the number of examples in the split.
func (s *Split) Len() int { return len(s.Labels) }

// Dataset is the MNIST data set: 60,000 training and 10,000 test examples
// in the standard files.
type Dataset struct {
	// Train is the training split.
	Train Split
	// Test is the test split.
	Test Split
}

// Load reads the four standard MNIST files from dir and checks that each
// image file has as many images as its label file has labels and that the
// two splits have the same image size.
func Load(dir string) (*Dataset, error) {
	train, err := loadSplit(dir, TrainImagesFile, TrainLabelsFile)
	if err != nil {
		return nil, err
	}
	test, err := loadSplit(dir, TestImagesFile, TestLabelsFile)
	if err != nil {
		return nil, err
	}
	if train.Images.Rows != test.Images.Rows || train.Images.Cols != test.Images.Cols {
		return nil, fmt.Errorf("%s: training images are %dx%d but test images are %dx%d",
			dir, train.Images.Rows, train.Images.Cols, test.Images.Rows, test.Images.Cols)
	}
	return &Dataset{Train: train, Test: test}, nil
}

func loadSplit(dir, imagesFile, labelsFile string) (Split, error) {
	im, err := ReadImages(filepath.Join(dir, imagesFile))
	if err != nil {
		return Split{}, err
	}
	labels, err := ReadLabels(filepath.Join(dir, labelsFile))
	if err != nil {
		return Split{}, err
	}
	if im.N != len(labels) {
		return Split{}, fmt.Errorf("%s: %s holds %d images but %s holds %d labels", dir, imagesFile, im.N, labelsFile, len(labels))
	}
	return Split{Images: im, Labels: labels}, nil
}
