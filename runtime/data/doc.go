// Package data turns a data set into training batches: shuffled example
// indices (Batcher) and float32 feeds filled from MNIST images and labels
// (FillImages, FillOneHot), without allocating per step.
package data
