#include "data/augment.h"

#include <cmath>
#include <opencv2/imgproc.hpp>

namespace camx {

std::mt19937_64 sampleRng(std::uint64_t seed, int epoch, std::size_t sampleIndex) {
    std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                      static_cast<std::uint32_t>(epoch), static_cast<std::uint32_t>(sampleIndex),
                      static_cast<std::uint32_t>(static_cast<std::uint64_t>(sampleIndex) >> 32)};
    return std::mt19937_64(seq);
}

cv::Mat augmentImage(const cv::Mat& rgb, const Augmentation& aug, std::mt19937_64& rng) {
    std::uniform_real_distribution<double> u01(0.0, 1.0);
    cv::Mat img = rgb;
    if (aug.randomResizedCrop) {
        const double area = static_cast<double>(img.cols) * img.rows;
        cv::Rect crop(0, 0, img.cols, img.rows);
        for (int attempt = 0; attempt < 10; ++attempt) {
            const double target = area * (aug.cropMinScale + (1.0 - aug.cropMinScale) * u01(rng));
            const double logRatio =
                std::log(3.0 / 4.0) + (std::log(4.0 / 3.0) - std::log(3.0 / 4.0)) * u01(rng);
            const double ratio = std::exp(logRatio);
            const int w = static_cast<int>(std::lround(std::sqrt(target * ratio)));
            const int h = static_cast<int>(std::lround(std::sqrt(target / ratio)));
            if (w >= 1 && h >= 1 && w <= img.cols && h <= img.rows) {
                const int x = static_cast<int>(u01(rng) * (img.cols - w + 1));
                const int y = static_cast<int>(u01(rng) * (img.rows - h + 1));
                crop = cv::Rect(std::min(x, img.cols - w), std::min(y, img.rows - h), w, h);
                break;
            }
        }
        cv::Mat out;
        cv::resize(img(crop), out, img.size(), 0, 0, cv::INTER_LINEAR);
        img = out;
    }
    if (aug.flip && u01(rng) < 0.5) {
        cv::Mat out;
        cv::flip(img, out, 1);
        img = out;
    }
    if (aug.colorJitter) {
        const double s = aug.jitterStrength;
        const double brightness = 1.0 + s * (2 * u01(rng) - 1);
        const double contrast = 1.0 + s * (2 * u01(rng) - 1);
        const double saturation = 1.0 + s * (2 * u01(rng) - 1);
        cv::Mat f;
        img.convertTo(f, CV_32FC3, brightness);
        const cv::Scalar mean = cv::mean(f);
        const double grey = (mean[0] + mean[1] + mean[2]) / 3.0;
        f = (f - cv::Scalar::all(grey)) * contrast + cv::Scalar::all(grey);
        cv::Mat g;
        cv::cvtColor(f, g, cv::COLOR_RGB2GRAY);
        cv::cvtColor(g, g, cv::COLOR_GRAY2RGB);
        f = g + (f - g) * saturation;
        cv::Mat out;
        f.convertTo(out, CV_8UC3);
        img = out;
    }
    return img.data == rgb.data ? rgb.clone() : img;
}

}  // namespace camx
