#pragma once
// Training-time augmentation on 8-bit RGB images. Every random choice comes from the generator
// passed in, so a (seed, epoch, sample) triple always gives the same picture.

#include <cstdint>
#include <random>

#include <opencv2/core/mat.hpp>

namespace camx {

struct Augmentation {
    bool flip = false;               // horizontal flip with probability 1/2
    bool randomResizedCrop = false;  // area 35-100 %, aspect 3/4-4/3, resized back
    float cropMinScale = 0.35f;
    bool colorJitter = false;  // brightness, contrast, saturation
    float jitterStrength = 0.3f;

    bool any() const { return flip || randomResizedCrop || colorJitter; }
};

// Applies `aug` to a size x size RGB image; returns a new image of the same size.
cv::Mat augmentImage(const cv::Mat& rgb, const Augmentation& aug, std::mt19937_64& rng);

// The generator for one sample of one epoch.
std::mt19937_64 sampleRng(std::uint64_t seed, int epoch, std::size_t sampleIndex);

}  // namespace camx
